//! Reading `-i` sources: files (YAML, JSON, INI, Terraform outputs), directories of them,
//! Terraform module directories, and comma lists.

use super::model::Inventory;
use super::vars_dirs::{load_vars_dirs, VarsDirScope};
use super::{ini, terraform, yaml as yaml_inv};
use crate::diagnostics::{Error, Result, Span};
use crate::yaml;
use std::path::{Path, PathBuf};

/// Load every `-i` source into one inventory, then the `group_vars/` and `host_vars/`
/// beside each source.
pub fn load_sources(sources: &[String]) -> Result<Inventory> {
    let mut inv = Inventory::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for src in sources {
        let path = Path::new(src);
        if !path.exists() && src.contains(',') {
            // "host1,host2," as ansible-playbook accepts.
            for h in src.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                inv.add_host_to_group(h, "ungrouped");
            }
            continue;
        }
        if path.is_dir() && terraform::is_module_dir(path) {
            // A Terraform module: its outputs, not the files in it (*.tfvars are no
            // inventories).
            terraform::load_dir(path, &mut inv)?;
            dirs.push(path.to_path_buf());
        } else if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io_at(path, &e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_inventory_file(p))
                .collect();
            entries.sort();
            for f in entries {
                load_file(&f, &mut inv)?;
            }
            dirs.push(path.to_path_buf());
        } else if path.is_file() {
            load_file(path, &mut inv)?;
            dirs.push(path.parent().map(Path::to_path_buf).unwrap_or_default());
        } else {
            return Err(
                Error::not_found(format!("inventory source '{src}' does not exist")).with_help(
                    "pass a file, a directory, or a comma-separated host list like 'web1,web2,'",
                ),
            );
        }
    }
    inv.finish();
    for d in &dirs {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d.as_path()
        };
        load_vars_dirs(&mut inv, d, VarsDirScope::Inventory)?;
    }
    inv.source_dirs = dirs;
    Ok(inv)
}

/// Files in an inventory directory that Ansible would skip.
fn is_inventory_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') || name.ends_with('~') {
        return false;
    }
    !matches!(
        p.extension().and_then(|e| e.to_str()),
        Some(
            "orig"
                | "bak"
                | "ini~"
                | "cfg"
                | "retry"
                | "pyc"
                | "pyo"
                | "md"
                | "txt"
                | "tf"
                | "tfstate"
        )
    )
}

fn load_file(path: &Path, inv: &mut Inventory) -> Result<()> {
    let (text, _) = yaml::read_source(path)?;
    if is_executable(path) && text.starts_with("#!") {
        return Err(Error::invalid(
            format!("{} is an executable inventory script", path.display()),
            &Span::file(path),
        )
        .with_help("dynamic inventory scripts are not supported: write their output to a YAML or JSON file and pass that"));
    }
    // A saved `terraform output -json` or a terraform.tfstate (a JSON object).
    if terraform::sniff(&text, path, inv)? {
        return Ok(());
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let looks_ini = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .is_some_and(|l| {
            l.starts_with('[') && !l.starts_with("[{") && l.ends_with(']') && !l.contains(", ")
        });
    if matches!(ext, "yml" | "yaml" | "json") || (!looks_ini && ext != "ini") {
        match yaml::load_str(&text, path) {
            Ok(docs) if docs.iter().all(|d| d.is_null() || d.as_map().is_some()) => {
                for d in &docs {
                    yaml_inv::parse(d, inv)?;
                }
                return Ok(());
            }
            Ok(_) | Err(_) if matches!(ext, "yml" | "yaml" | "json") => {
                let docs = yaml::load_str(&text, path)?;
                for d in &docs {
                    yaml_inv::parse(d, inv)?;
                }
                return Ok(());
            }
            _ => {}
        }
    }
    ini::parse(&text, path, inv)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
