//! A boolean keyword (`become`, `check_mode`, `diff`, `no_log`, `run_once`,
//! `any_errors_fatal`, `delegate_facts`): written literally, or a template Ansible renders
//! for each host (and loop item) when the task runs: `no_log: "{{ hide_secrets }}"`.

use crate::diagnostics::{Error, Result, Span};
use crate::yaml::{Node, NodeKind};
use minijinja::Value;

/// How a task fails on a keyword it cannot read, in Ansible's words (the keyword follows).
pub const KEYWORD_FAILED: &str = "Task failed: Error processing keyword ";

/// A boolean keyword as written.
#[derive(Clone, Debug)]
pub enum Flag {
    /// `true`, `yes`, `0` … as YAML or Ansible's boolean strings read them.
    Literal(bool),
    /// A string holding a template, rendered when the task runs.
    Template {
        /// The string as written.
        expr: Value,
        /// Where it is written.
        span: Span,
    },
}

impl Flag {
    /// Read the keyword `what`: a boolean, or a string with `{{`/`{%` in it. Anything
    /// else (`maybe`, a list) is refused where it is written.
    pub fn parse(node: &Node, what: &str) -> Result<Flag> {
        match &node.kind {
            NodeKind::Str(s) if crate::template::is_template(s) => Ok(Flag::Template {
                expr: node.to_value(),
                span: node.span.clone(),
            }),
            _ => node.expect_bool(what).map(Flag::Literal),
        }
    }

    /// The value when it is written literally.
    pub fn literal(&self) -> Option<bool> {
        match self {
            Flag::Literal(b) => Some(*b),
            Flag::Template { .. } => None,
        }
    }

    /// True unless written literally as false: a template may turn out true.
    pub fn may_be_true(&self) -> bool {
        self.literal() != Some(false)
    }

    /// The boolean a rendered value means, as Ansible converts keyword values; the error
    /// says what was given and where the keyword is.
    pub fn convert(&self, key: &str, rendered: &Value) -> Result<bool> {
        crate::modules::args::to_bool(rendered).ok_or_else(|| {
            let shown = rendered
                .as_str()
                .map_or_else(|| rendered.to_string(), str::to_string);
            let e = Error::module(format!(
                "{KEYWORD_FAILED}'{key}': The value '{shown}' could not be converted to 'bool'."
            ))
            .with_help("use true or false (or yes/no), or a template giving one");
            match self {
                Flag::Template { span, .. } => e.at(span.clone()),
                Flag::Literal(_) => e,
            }
        })
    }

    /// The error for a template that could not be rendered, in Ansible's words.
    pub fn render_error(&self, key: &str, e: Error) -> Error {
        let message = format!("{KEYWORD_FAILED}'{key}': {}", e.message);
        let e = e.with_message(message);
        match self {
            Flag::Template { span, .. } => e.at(span.clone()),
            Flag::Literal(_) => e,
        }
    }
}
