//! Ansible's Jinja layer: its filters, tests, and the Python string/dict/list methods
//! Ansible content calls (`x.startswith(…)`, `d.items()` …).

pub mod clock;
pub mod filters;
pub mod jinja_builtins;
pub mod jinja_globals;
pub mod jinja_tests;
pub mod percent;
pub mod pycompat;
pub mod register;
pub mod tags;
pub mod yaml_emitter;

pub use register::register;
