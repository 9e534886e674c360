//! Ansible's Jinja layer: its filters, tests, and the Python string/dict/list methods
//! Ansible content calls (`x.startswith(…)`, `d.items()` …).

pub(crate) mod clock;
pub(crate) mod data_tags;
pub(crate) mod filters;
pub(crate) mod jinja_builtins;
pub(crate) mod jinja_globals;
pub(crate) mod jinja_tests;
pub(crate) mod password_hash;
pub(crate) mod percent;
pub(crate) mod pycompat;
pub(crate) mod register;
pub(crate) mod tags;
pub(crate) mod yaml_emitter;

pub use register::register;
