//! Ansible's YAML (and JSON) inventory format.

use super::ini::expand_host_range;
use super::model::Inventory;
use crate::diagnostics::{did_you_mean, Error, Result};
use crate::yaml::Node;

const GROUP_KEYS: [&str; 3] = ["hosts", "vars", "children"];

pub fn parse(doc: &Node, inv: &mut Inventory) -> Result<()> {
    if doc.is_null() {
        return Ok(());
    }
    for (name, body) in doc.expect_map("a YAML inventory")? {
        let group = name.expect_str("a group name")?;
        parse_group(&group, body, inv, &mut Vec::new())?;
    }
    Ok(())
}

fn parse_group(name: &str, body: &Node, inv: &mut Inventory, path: &mut Vec<String>) -> Result<()> {
    if path.iter().any(|p| p == name) {
        path.push(name.to_string());
        return Err(Error::invalid(
            format!("group cycle in inventory: {}", path.join(" -> ")),
            &body.span,
        ));
    }
    inv.group_mut(name);
    if body.is_null() {
        return Ok(());
    }
    let entries = body.expect_map(&format!("group '{name}'"))?;
    for (key, value) in entries {
        let k = key.expect_str("a group key")?;
        match k.as_str() {
            "hosts" => {
                if value.is_null() {
                    continue;
                }
                for (host, vars) in value.expect_map(&format!("hosts of group '{name}'"))? {
                    let pattern = host.expect_str("a host name")?;
                    for h in
                        expand_host_range(&pattern).map_err(|m| Error::invalid(m, &host.span))?
                    {
                        inv.add_host_to_group(&h, name);
                        if vars.is_null() {
                            continue;
                        }
                        for (vk, vv) in vars.expect_map(&format!("variables of host '{h}'"))? {
                            let key = vk.expect_str("a variable name")?;
                            inv.host_mut(&h).vars.insert(key, vv.to_value());
                        }
                    }
                }
            }
            "vars" => {
                if value.is_null() {
                    continue;
                }
                for (vk, vv) in value.expect_map(&format!("vars of group '{name}'"))? {
                    let key = vk.expect_str("a variable name")?;
                    inv.group_mut(name).vars.insert(key, vv.to_value());
                }
            }
            "children" => {
                if value.is_null() {
                    continue;
                }
                path.push(name.to_string());
                for (child, child_body) in
                    value.expect_map(&format!("children of group '{name}'"))?
                {
                    let c = child.expect_str("a group name")?;
                    inv.add_child(name, &c);
                    parse_group(&c, child_body, inv, path)?;
                }
                path.pop();
            }
            other => {
                let mut err = Error::invalid(
                    format!("unknown key '{other}' in inventory group '{name}'"),
                    &key.span,
                );
                err = match did_you_mean(other, GROUP_KEYS) {
                    Some(s) => err.with_help(format!(
                        "did you mean '{s}'? a group has only hosts, vars and children"
                    )),
                    None => err.with_help(
                        "a group has only hosts, vars and children; put hosts under 'hosts:'",
                    ),
                };
                return Err(err);
            }
        }
    }
    Ok(())
}
