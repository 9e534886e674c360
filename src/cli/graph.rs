//! `drover graph`: the task DAG as DOT, Mermaid or JSON, and SVG through Graphviz when
//! present.

use super::load::load_run;
use crate::diagnostics::{Error, Result};
use crate::graph::{self, Collapse};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How the graph is written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT (the default; `--svg` renders it).
    Dot,
    /// A Mermaid flowchart (GitHub renders it in Markdown).
    Mermaid,
    /// Nodes with their host, file and line, and typed edges: for tools and tests.
    Json,
}

/// What `drover graph` was asked to draw.
pub struct GraphArgs {
    /// The playbooks whose tasks are drawn.
    pub playbooks: Vec<PathBuf>,
    /// `-i` sources, as for `apply`.
    pub inventory: Vec<String>,
    /// `-e` values, as for `apply`.
    pub extra_vars: Vec<String>,
    /// `--roles-path` directories, as for `apply`.
    pub roles_path: Vec<PathBuf>,
    /// `--limit`: a host pattern narrowing every play.
    pub limit: Option<String>,
    /// DOT, Mermaid or JSON.
    pub format: Format,
    /// What to merge into one node (hosts, roles) to keep big graphs readable.
    pub collapse: Collapse,
    /// Also render the DOT to this SVG file with Graphviz.
    pub svg: Option<PathBuf>,
}

/// Loads the run as `apply` would and returns the graph's text (DOT, Mermaid or JSON).
pub fn run(a: GraphArgs) -> Result<String> {
    let loaded = load_run(&a.playbooks, &a.inventory, &a.extra_vars, &a.roles_path)?;
    let g = graph::build(
        &loaded.playbooks,
        &loaded.inventory,
        a.limit.as_deref(),
        a.collapse,
    )?;
    let dot = g.to_dot();
    if let Some(svg) = &a.svg {
        write_svg(&dot, svg)?;
    }
    Ok(match a.format {
        Format::Dot => dot,
        Format::Mermaid => g.to_mermaid(),
        Format::Json => g.to_json(),
    })
}

fn write_svg(dot: &str, path: &Path) -> Result<()> {
    let mut child = Command::new("dot")
        .args(["-Tsvg", "-o"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::io(format!("cannot run Graphviz 'dot' ({e})"))
                .with_help("install graphviz (apt-get install graphviz) for --svg")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| Error::io(format!("dot: {e}")).caused_by(e))?;
    }
    let status = child
        .wait()
        .map_err(|e| Error::io(format!("dot: {e}")).caused_by(e))?;
    if !status.success() {
        return Err(Error::io(format!("dot failed with {status}")));
    }
    Ok(())
}
