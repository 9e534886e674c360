//! `drover inventory --list | --graph | --host H` (`--list` as ansible-inventory prints it).

use super::load::load_run;
use crate::diagnostics::{Error, Result};
use crate::inventory::Inventory;
use serde_json::{json, Map, Value as J};

/// `--list`: groups, their hosts and children, and every host's variables under
/// `_meta.hostvars`, as `ansible-inventory --list` prints them.
pub fn list(inv: &Inventory) -> J {
    let mut out = Map::new();
    let mut hostvars = Map::new();
    for h in inv.hosts.keys() {
        let vars = inv.host_vars(h);
        hostvars.insert(h.clone(), serde_json::to_value(&vars).unwrap_or(J::Null));
    }
    out.insert(
        "_meta".into(),
        json!({ "hostvars": hostvars, "profile": "inventory_legacy" }),
    );
    for (name, g) in &inv.groups {
        let mut entry = Map::new();
        if !g.hosts.is_empty() && name != "all" {
            entry.insert("hosts".into(), json!(g.hosts));
        }
        if !g.children.is_empty() {
            entry.insert("children".into(), json!(g.children));
        }
        if name == "ungrouped" && g.hosts.is_empty() {
            continue;
        }
        out.insert(name.clone(), J::Object(entry));
    }
    J::Object(out)
}

/// The group tree, drawn as `ansible-inventory --graph` draws it.
pub fn graph(inv: &Inventory) -> String {
    fn walk(inv: &Inventory, g: &str, depth: usize, out: &mut String) {
        if depth == 0 {
            out.push_str(&format!("@{g}:\n"));
        } else {
            out.push_str(&format!("{}  |--@{g}:\n", "  |".repeat(depth - 1)));
        }
        if let Some(group) = inv.groups.get(g) {
            // Children and hosts in definition order, as ansible-inventory shows them.
            for c in &group.children {
                walk(inv, c, depth + 1, out);
            }
            if g != "all" {
                for h in &group.hosts {
                    out.push_str(&format!("{}  |--{h}\n", "  |".repeat(depth)));
                }
            }
        }
    }
    let mut out = String::new();
    walk(inv, "all", 0, &mut out);
    out
}

/// `drover inventory`: loads the inventories and prints them in `mode` (`list`,
/// `graph` or `host`, with the host for `host`).
pub fn run(inventories: &[String], mode: &str, host: Option<&str>) -> Result<String> {
    let loaded = load_run(&[], inventories, &[], &[])?;
    let inv = &loaded.inventory;
    for note in &inv.notes {
        eprintln!("note: {note}");
    }
    match mode {
        "list" => Ok(serde_json::to_string_pretty(&list(inv)).unwrap_or_default()),
        "graph" => Ok(graph(inv)),
        _ => {
            let h = host.unwrap_or_default();
            if !inv.hosts.contains_key(h) {
                return Err(Error::not_found(format!(
                    "host '{h}' is not in the inventory"
                )));
            }
            Ok(serde_json::to_string_pretty(&inv.host_vars(h)).unwrap_or_default())
        }
    }
}
