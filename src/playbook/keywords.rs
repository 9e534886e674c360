//! Keywords shared by plays, blocks, role entries and tasks, read into [`Inherited`].

use super::model::{Cond, Inherited};
use super::Flag;
use crate::diagnostics::{Error, Result};
use crate::vars::file::check_var_name;
use crate::vars::Vars;
use crate::yaml::{Node, NodeKind};
use minijinja::Value;

/// Keywords Ansible has that drover refuses, with the reason shown to the user.
pub const UNSUPPORTED: &[(&str, &str)] = &[
    ("connection", "per-task or per-play connection plugins are not supported; set ansible_connection in the inventory"),
    ("debugger", "the task debugger is not supported"),
    ("vars_prompt", "vars_prompt is not supported: drover runs unattended; pass values with -e"),
    ("ignore_unreachable", "ignore_unreachable is not supported yet"),
    ("port", "port in playbooks is not supported; set ansible_port in the inventory"),
    ("order", "host order is not supported; hosts run in inventory order"),
    ("fact_path", "fact_path is not supported"),
    ("gather_subset", "gather_subset is not supported: drover gathers its fixed set in one command"),
    ("gather_timeout", "gather_timeout is not supported"),
    ("hash_behaviour", "hash_behaviour is not configurable: it is always 'replace'"),
];

/// Why drover refuses the keyword `key` ([`UNSUPPORTED`]), if it does.
pub fn unsupported_reason(key: &str) -> Option<&'static str> {
    UNSUPPORTED.iter().find(|(k, _)| *k == key).map(|(_, r)| *r)
}

/// Read a condition list (`when`, `failed_when` …): a string, a boolean, or a list.
pub fn conditions(node: &Node) -> Result<Vec<Cond>> {
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Null => Vec::new(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|n| match &n.kind {
            NodeKind::Str(_) | NodeKind::Bool(_) => Ok(Cond {
                expr: n.to_value(),
                span: n.span.clone(),
            }),
            NodeKind::Int(_) | NodeKind::Float(_) => Ok(Cond {
                expr: Value::from(n.key_text().unwrap_or_default()),
                span: n.span.clone(),
            }),
            _ => Err(Error::invalid(
                format!(
                    "a condition must be a string or a boolean, found a {}",
                    n.type_name()
                ),
                &n.span,
            )),
        })
        .collect()
}

/// A `vars:` mapping (a list of single-key mappings is accepted, as Ansible does).
pub fn vars_block(node: &Node) -> Result<Vars> {
    let mut vars = Vars::new();
    let mut add = |map: &[(Node, Node)]| -> Result<()> {
        for (k, v) in map {
            let name = k.expect_str("a variable name")?;
            check_var_name(&name, &k.span)?;
            vars.insert(name, v.to_value());
        }
        Ok(())
    };
    match &node.kind {
        NodeKind::Null => {}
        NodeKind::Map(m) => add(m)?,
        NodeKind::Seq(items) => {
            for i in items {
                add(i.expect_map("an entry of vars")?)?;
            }
        }
        _ => {
            return Err(Error::invalid(
                format!("vars must be a mapping, found a {}", node.type_name()),
                &node.span,
            ))
        }
    }
    Ok(vars)
}

/// Apply one inheritable keyword to `kw`. Returns false when `key` is not one.
pub fn apply_inheritable(kw: &mut Inherited, key: &str, value: &Node) -> Result<bool> {
    match key {
        "when" => kw.when.extend(conditions(value)?),
        "tags" => {
            for t in tag_list(value)? {
                if !kw.tags.contains(&t) {
                    kw.tags.push(t);
                }
            }
        }
        "become" => kw.become_ = Some(Flag::parse(value, "become")?),
        "become_user" => kw.become_user = Some(Value::from(value.expect_str("become_user")?)),
        "remote_user" => kw.remote_user = Some(Value::from(value.expect_str("remote_user")?)),
        "become_method" => {
            let m = value.expect_str("become_method")?;
            if m != "sudo" && m != "su" {
                return Err(Error::invalid(
                    format!("become_method '{m}' is not supported"),
                    &value.span,
                )
                .with_help("drover supports sudo and su"));
            }
            kw.become_method = Some(m);
        }
        "become_flags" | "become_exe" => {
            return Err(Error::invalid(
                format!("{key} is not supported"),
                &value.span,
            ));
        }
        "vars" => {
            for (k, v) in vars_block(value)? {
                kw.vars.insert(k, v);
            }
        }
        "environment" => {
            if !value.is_null() {
                kw.environment.push(value.to_value());
            }
        }
        "ignore_errors" => kw.ignore_errors = Some(value.to_value()),
        "check_mode" => kw.check_mode = Some(Flag::parse(value, "check_mode")?),
        "diff" => kw.diff = Some(Flag::parse(value, "diff")?),
        "no_log" => kw.no_log = Some(Flag::parse(value, "no_log")?),
        "any_errors_fatal" => kw.any_errors_fatal = Some(Flag::parse(value, "any_errors_fatal")?),
        "run_once" => kw.run_once = Some(Flag::parse(value, "run_once")?),
        "timeout" => kw.timeout = Some(value.to_value()),
        "delegate_to" => {
            let target = value.expect_str("delegate_to")?;
            if target.trim().is_empty() {
                return Err(Error::invalid("delegate_to names no host", &value.span)
                    .with_help("name an inventory host, an address or localhost"));
            }
            kw.delegate_to = Some(Value::from(target));
        }
        "delegate_facts" => kw.delegate_facts = Some(Flag::parse(value, "delegate_facts")?),
        "module_defaults" => kw
            .module_defaults
            .extend(super::module_defaults::parse(value)?),
        "collections" => {
            kw.collections = Some(std::sync::Arc::new(super::collections::parse(value)?))
        }
        "throttle" => kw.throttle = Some(super::throttle::parse(value)?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Tags: a string (comma-separated allowed), a number, or a list.
pub fn tag_list(node: &Node) -> Result<Vec<String>> {
    let raw = node.expect_str_list("tags")?;
    Ok(raw
        .iter()
        .flat_map(|t| t.split(',').map(|s| s.trim().to_string()))
        .filter(|t| !t.is_empty())
        .collect())
}

/// An error for a key that is not valid where it stands.
pub fn unknown_key(key: &str, node: &Node, place: &str, valid: &[&str]) -> Error {
    if let Some(reason) = unsupported_reason(key) {
        return Error::invalid(format!("'{key}' is not supported by drover"), &node.span)
            .with_help(reason);
    }
    let e = Error::invalid(
        format!("'{key}' is not a valid keyword for {place}"),
        &node.span,
    );
    match crate::diagnostics::did_you_mean(key, valid.iter().copied()) {
        Some(s) => e.with_help(format!("did you mean '{s}'?")),
        None => e.with_help(format!("valid keywords here: {}", valid.join(", "))),
    }
}
