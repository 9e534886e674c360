//! Variables: files, precedence and the magic variables (their lazy templating is the
//! template layer's `Scope`).

pub(crate) mod file;
pub mod magic;
pub(crate) mod precedence;

/// Variables by name, in definition order (the order `vars` and `hostvars` show).
pub type Vars = indexmap::IndexMap<String, minijinja::Value>;
