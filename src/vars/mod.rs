//! Variables: files, precedence, lazy templating and facts.

pub(crate) mod file;
pub mod magic;
pub(crate) mod precedence;
pub(crate) mod scope;

pub use scope::{as_data, Scope};

/// Variables by name, in definition order (the order `vars` and `hostvars` show).
pub type Vars = indexmap::IndexMap<String, minijinja::Value>;
