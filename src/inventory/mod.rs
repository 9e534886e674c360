//! Inventories: Ansible's YAML and INI formats, directories of them, `group_vars/` and
//! `host_vars/`, Terraform outputs, and host patterns.

pub mod ini;
mod loader;
mod model;
pub mod pattern;
mod shard;
pub mod terraform;
mod vars_dirs;
mod yaml;

pub use loader::load_sources;
pub use model::{Group, Host, Inventory, VarLayer, Vars};
pub use shard::Shard;
pub use vars_dirs::{load_vars_dirs, VarsDirScope};
