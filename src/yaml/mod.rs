//! YAML read the way Ansible reads it: PyYAML's YAML 1.1 scalar rules (`yes`/`no`/`on`/
//! `off` are booleans, `0644` is octal), duplicate keys refused, and a span on every node.
//!
//! yaml-rust2 does the tokenising and hands us events with positions; we build our own
//! tree ([`Node`]) and resolve plain scalars ourselves (see [`scalar`]).

mod loader;
pub(crate) mod node;
pub(crate) mod scalar;

pub use loader::{
    decode_utf8 as loader_decode, load_data, load_file, load_str, load_str_with, read_source,
};
pub use node::{Node, NodeKind};
