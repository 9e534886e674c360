//! Inventories: Ansible's YAML and INI formats, directories of them, `group_vars/` and
//! `host_vars/`, Terraform outputs, and host patterns.

pub(crate) mod ini;
mod loader;
mod model;
pub(crate) mod pattern;
mod shard;
pub(crate) mod terraform;
mod vars_dirs;
mod yaml;

pub(crate) use loader::load_sources;
pub(crate) use model::Inventory;
pub use shard::Shard;
pub(crate) use vars_dirs::{load_vars_dirs, VarsDirScope};
