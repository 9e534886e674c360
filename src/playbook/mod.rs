//! Playbooks, plays, blocks, tasks and roles.

pub mod keywords;
mod loader;
pub mod model;
pub mod roles;
mod tasks;

pub use loader::{load_playbook, load_playbook_str, Loader, PLAY_KEYWORDS};
pub use model::*;
pub use roles::LoadedRole;
pub use tasks::{ListCtx, BLOCK_KEYWORDS, TASK_KEYWORDS};
