//! `group_vars/` and `host_vars/` directories beside an inventory or a playbook.

use super::model::{Inventory, Vars};
use crate::diagnostics::Result;
use crate::vars::file::load_vars_file;
use std::path::{Path, PathBuf};

/// Where a `group_vars/` directory sits; it decides its precedence level.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum VarsDirScope {
    Inventory,
    Playbook,
}

/// Load `DIR/group_vars/*` and `DIR/host_vars/*` for the groups and hosts the inventory has.
pub fn load_vars_dirs(inv: &mut Inventory, dir: &Path, scope: VarsDirScope) -> Result<()> {
    let group_names: Vec<String> = inv.groups.keys().cloned().collect();
    for g in group_names {
        for vars in vars_for_name(&dir.join("group_vars"), &g)? {
            let group = inv.group_mut(&g);
            match scope {
                VarsDirScope::Inventory => group.inventory_file_vars.push(vars),
                VarsDirScope::Playbook => group.playbook_file_vars.push(vars),
            }
        }
    }
    let host_names: Vec<String> = inv.hosts.keys().cloned().collect();
    for h in host_names {
        for vars in vars_for_name(&dir.join("host_vars"), &h)? {
            inv.host_mut(&h).file_vars.push(vars);
        }
    }
    Ok(())
}

/// `base/NAME`, `base/NAME.yml|.yaml|.json`, or every file in the directory `base/NAME/`
/// (recursively, sorted), as Ansible's host_group_vars plugin reads them.
fn vars_for_name(base: &Path, name: &str) -> Result<Vec<Vars>> {
    let mut out = Vec::new();
    if !base.is_dir() {
        return Ok(out);
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for ext in ["", ".yml", ".yaml", ".json"] {
        let p = base.join(format!("{name}{ext}"));
        if p.is_file() {
            files.push(p);
        }
    }
    let d = base.join(name);
    if d.is_dir() {
        let mut inner: Vec<PathBuf> = walkdir::WalkDir::new(&d)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| is_vars_file(p))
            .collect();
        files.append(&mut inner);
    }
    for f in files {
        out.push(load_vars_file(&f)?);
    }
    Ok(out)
}

fn is_vars_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') || name.ends_with('~') {
        return false;
    }
    match p.extension().and_then(|e| e.to_str()) {
        None => true,
        Some(e) => matches!(e, "yml" | "yaml" | "json"),
    }
}
