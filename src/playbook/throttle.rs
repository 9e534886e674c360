//! Reading the `throttle` keyword (its effect is `exec::throttle`).

use crate::diagnostics::{Error, Result};
use crate::yaml::{Node, NodeKind};
use minijinja::Value;

/// A `throttle:` value: an integer, or a template giving one when the task runs. A literal
/// that is no integer is refused now (Ansible stops the run when a host reaches the task).
pub fn parse(node: &Node) -> Result<Value> {
    let bad = |what: String| {
        Error::invalid(
            format!("Failed to convert the throttle value to an integer: {what}"),
            &node.span,
        )
        .with_help("throttle takes a number of hosts (0: no limit), or a template giving one")
    };
    match &node.kind {
        NodeKind::Int(_) => Ok(node.to_value()),
        NodeKind::Str(s) if s.contains("{{") || s.contains("{%") => Ok(node.to_value()),
        NodeKind::Str(s) => match s.trim().parse::<i64>() {
            Ok(n) => Ok(Value::from(n)),
            Err(_) => Err(bad(format!(
                "invalid literal for int() with base 10: '{s}'"
            ))),
        },
        _ => Err(bad(format!("found a {}", node.type_name()))),
    }
}
