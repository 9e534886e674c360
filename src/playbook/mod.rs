//! Playbooks, plays, blocks, tasks and roles.

pub mod async_kw;
pub(crate) mod collections;
pub mod flag;
pub mod keywords;
mod loader;
pub(crate) mod model;
pub(crate) mod module_defaults;
pub(crate) mod roles;
mod tasks;
mod throttle;

pub(crate) use loader::{load_playbook, load_playbook_str, Loader, PLAY_KEYWORDS};
pub(crate) use model::*;
// What tests/module_cases.rs builds a task from (a module case runs without a playbook).
pub use flag::Flag;
pub use model::{Inherited, LoopControl, Task};
pub(crate) use tasks::{ListCtx, BLOCK_KEYWORDS, TASK_KEYWORDS};
