//! The YAML tree drover works on: every node keeps the span it came from.

use crate::diagnostics::{Error, Result, Span};
use minijinja::Value;

/// What a node holds, its scalars already typed by YAML 1.1 rules.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// `~`, `null`, an empty value.
    Null,
    /// `true`, `yes`, `off` …
    Bool(bool),
    /// An integer (wide enough for what PyYAML reads: Python ints are unbounded).
    Int(i128),
    /// A float, `.inf` and `.nan` included.
    Float(f64),
    /// A string: quoted, block, or a plain scalar that is nothing else.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
    /// An inline `!vault` scalar no given password opens: its ciphertext. It fails where
    /// it is used (`crate::vault::undecryptable`).
    Vault(String),
}

/// A YAML node and where it came from.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its value.
    pub kind: NodeKind,
    /// Where it starts in its file, for error messages.
    pub span: Span,
    /// True for quoted and block scalars: they are strings whatever they look like.
    pub quoted: bool,
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Node {
    /// An unquoted node.
    pub fn new(kind: NodeKind, span: Span) -> Self {
        Node {
            kind,
            span,
            quoted: false,
        }
    }

    /// A short name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "boolean",
            NodeKind::Int(_) => "integer",
            NodeKind::Float(_) => "float",
            NodeKind::Str(_) => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
            NodeKind::Vault(_) => "vault-encrypted string no given password opens",
        }
    }

    /// Is it `null` (or an empty value)?
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if it is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if it is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// A mapping key as text (Ansible keys are strings; scalars are shown as Python would).
    pub fn key_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Str(s) => Some(s.clone()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(f.to_string()),
            NodeKind::Bool(true) => Some("True".into()),
            NodeKind::Bool(false) => Some("False".into()),
            NodeKind::Null => Some("None".into()),
            _ => None,
        }
    }

    /// The mapping's entries, or a located error saying a mapping was expected.
    pub fn expect_map(&self, what: &str) -> Result<&[(Node, Node)]> {
        self.as_map().ok_or_else(|| {
            Error::invalid(
                format!("{what} must be a mapping, found a {}", self.type_name()),
                &self.span,
            )
        })
    }

    /// A scalar as a string (numbers and booleans as Python prints them), or a located
    /// error saying `what` must be a string.
    pub fn expect_str(&self, what: &str) -> Result<String> {
        match &self.kind {
            NodeKind::Str(s) => Ok(s.clone()),
            NodeKind::Int(_) | NodeKind::Float(_) | NodeKind::Bool(_) => {
                Ok(self.key_text().unwrap_or_default())
            }
            _ => Err(Error::invalid(
                format!("{what} must be a string, found a {}", self.type_name()),
                &self.span,
            )),
        }
    }

    /// A list of strings; a single string is accepted as a one-element list (as Ansible
    /// does for `tags`, `notify`, `when` …).
    pub fn expect_str_list(&self, what: &str) -> Result<Vec<String>> {
        match &self.kind {
            NodeKind::Seq(items) => items.iter().map(|n| n.expect_str(what)).collect(),
            NodeKind::Null => Ok(Vec::new()),
            _ => Ok(vec![self.expect_str(what)?]),
        }
    }

    /// Booleans as Ansible's `boolean()` reads keyword values: YAML booleans, and the
    /// strings yes/no/true/false/on/off/1/0.
    pub fn expect_bool(&self, what: &str) -> Result<bool> {
        match &self.kind {
            NodeKind::Bool(b) => Ok(*b),
            NodeKind::Int(1) => Ok(true),
            NodeKind::Int(0) => Ok(false),
            NodeKind::Str(s) => parse_bool_str(s).ok_or_else(|| {
                Error::invalid(format!("{what} must be a boolean, found '{s}'"), &self.span)
                    .with_help("use true or false")
            }),
            _ => Err(Error::invalid(
                format!("{what} must be a boolean, found a {}", self.type_name()),
                &self.span,
            )),
        }
    }

    /// Convert to a template value. `!unsafe` strings were already wrapped by the loader.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Null => Value::from(()),
            NodeKind::Bool(b) => Value::from(*b),
            // An `i64` when it fits, as every other integer drover handles.
            NodeKind::Int(i) => i64::try_from(*i).map_or_else(|_| Value::from(*i), Value::from),
            NodeKind::Float(f) => Value::from(*f),
            NodeKind::Str(s) => Value::from(s.as_str()),
            NodeKind::Vault(s) => crate::vault::undecryptable::value(s, &self.span),
            NodeKind::Seq(items) => {
                Value::from(items.iter().map(Node::to_value).collect::<Vec<_>>())
            }
            NodeKind::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.key_value(), v.to_value()))
                .collect(),
        }
    }

    fn key_value(&self) -> Value {
        match &self.kind {
            NodeKind::Str(s) => Value::from(s.as_str()),
            _ => self.to_value(),
        }
    }

    /// Does this node (or anything under it) hold a vault-encrypted scalar?
    pub fn contains_vault(&self) -> bool {
        match &self.kind {
            NodeKind::Vault(_) => true,
            NodeKind::Seq(items) => items.iter().any(Node::contains_vault),
            NodeKind::Map(entries) => entries.iter().any(|(_, v)| v.contains_vault()),
            _ => false,
        }
    }
}

/// The strings Ansible's `boolean()` accepts.
pub fn parse_bool_str(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "1" | "y" | "t" => Some(true),
        "no" | "off" | "false" | "0" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}
