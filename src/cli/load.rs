//! Loading everything a run needs, before any host is touched.

use crate::diagnostics::{Error, Result};
use crate::inventory::{self, Inventory};
use crate::playbook::{load_playbook, Playbook};
use crate::vars::Vars;
use minijinja::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct LoadedRun {
    pub inventory: Arc<Inventory>,
    pub playbooks: Vec<Playbook>,
    pub extra_vars: Vars,
    pub roles_path: Vec<PathBuf>,
}

/// Roles paths from `--roles-path`, then DROVER_ROLES_PATH / ANSIBLE_ROLES_PATH.
pub fn roles_path(cli: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = cli.to_vec();
    for var in ["DROVER_ROLES_PATH", "ANSIBLE_ROLES_PATH"] {
        if let Ok(v) = std::env::var(var) {
            out.extend(v.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
        }
    }
    out
}

/// `-e key=value`, `-e @file.yml`, `-e '{"json": 1}'`.
pub fn extra_vars(items: &[String]) -> Result<Vars> {
    let mut vars = Vars::new();
    for item in items {
        if let Some(file) = item.strip_prefix('@') {
            vars.extend(crate::vars::file::load_vars_file(Path::new(file))?);
        } else if item.trim_start().starts_with('{') {
            let docs = crate::yaml::load_str(item, Path::new("-e"))?;
            for d in &docs {
                crate::vars::file::merge_vars_node(d, Path::new("-e"), &mut vars)?;
            }
        } else {
            for tok in shlex::split(item)
                .ok_or_else(|| Error::io(format!("-e '{item}': unbalanced quotes")))?
            {
                let (k, v) = tok.split_once('=').ok_or_else(|| {
                    Error::io(format!("-e '{tok}' is not key=value"))
                        .with_help("write -e name=value, -e @file.yml or -e '{\"name\": 1}'")
                })?;
                vars.insert(k.to_string(), Value::from(v));
            }
        }
    }
    Ok(vars)
}

pub fn load_run(
    playbooks: &[PathBuf],
    inventories: &[String],
    extra: &[String],
    roles_cli: &[PathBuf],
) -> Result<LoadedRun> {
    let roles_path = roles_path(roles_cli);
    let mut inv = if inventories.is_empty() {
        let mut i = Inventory::new();
        i.host_mut("localhost")
            .vars
            .insert("ansible_connection".into(), Value::from("local"));
        i.finish();
        i
    } else {
        inventory::load_sources(inventories)?
    };
    let mut loaded = Vec::new();
    for p in playbooks {
        if !p.is_file() {
            return Err(Error::not_found(format!(
                "playbook {} not found",
                p.display()
            )));
        }
        let pb = load_playbook(p, &roles_path)?;
        // group_vars/ and host_vars/ beside the playbook.
        if let Some(dir) = p.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let is_inv_dir = inv
                .source_dirs
                .iter()
                .any(|d| d.canonicalize().ok() == dir.canonicalize().ok());
            if !is_inv_dir {
                inventory::load_vars_dirs(&mut inv, dir, inventory::VarsDirScope::Playbook)?;
            }
        }
        loaded.push(pb);
    }
    Ok(LoadedRun {
        inventory: Arc::new(inv),
        playbooks: loaded,
        extra_vars: extra_vars(extra)?,
        roles_path,
    })
}
