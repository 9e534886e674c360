//! Ansible's filters and tests (placeholder until the filter layer lands).
use minijinja::Environment;

pub fn register(_env: &mut Environment<'static>) {}
