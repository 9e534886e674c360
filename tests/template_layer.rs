//! Ansible's filters, tests and Python methods, rendered through a real minijinja
//! environment configured as drover configures it.

#[path = "template/common/mod.rs"]
mod common;
#[path = "template/filters.rs"]
mod filters;
#[path = "template/jinja_tests.rs"]
mod jinja_tests;
#[path = "template/pycompat.rs"]
mod pycompat;
#[path = "template/yaml.rs"]
mod yaml;
