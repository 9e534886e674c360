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
    Dot,
    Mermaid,
    Json,
}

pub struct GraphArgs {
    pub playbooks: Vec<PathBuf>,
    pub inventory: Vec<String>,
    pub extra_vars: Vec<String>,
    pub roles_path: Vec<PathBuf>,
    pub limit: Option<String>,
    pub format: Format,
    pub collapse: Collapse,
    pub svg: Option<PathBuf>,
}

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
