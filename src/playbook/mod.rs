//! Playbooks, plays, blocks, tasks and roles.

pub mod model;

pub use model::*;
