//! drover: a fast, agentless, Ansible-compatible configuration-management engine.
//!
//! Data flows inventory → playbook → variables/templates → graph → executor → module →
//! connection → output, and the module tree follows that order.

pub mod cli;
pub mod clock;
pub mod connection;
pub mod diagnostics;
pub mod exec;
pub mod fuzzing;
pub mod graph;
pub mod inventory;
pub mod modules;
pub mod output;
pub mod playbook;
pub mod preflight;
pub mod pyregex;
pub mod template;
pub mod vars;
pub mod vault;
pub mod yaml;
