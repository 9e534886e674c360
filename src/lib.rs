//! drover: a fast, agentless, Ansible-compatible configuration-management engine.
//!
//! Data flows inventory → playbook → variables/templates → graph → executor → module →
//! connection → output, and the module tree follows that order.

#![warn(missing_docs)]

pub mod cli;
pub(crate) mod clock;
pub mod connection;
pub mod diagnostics;
pub mod exec;
pub mod fuzzing;
pub mod graph;
pub mod inventory;
pub mod modules;
pub(crate) mod output;
pub mod playbook;
pub(crate) mod preflight;
pub(crate) mod pyregex;
pub mod template;
pub mod vars;
pub mod vault;
pub mod yaml;
