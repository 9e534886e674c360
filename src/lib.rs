//! drover: a fast, agentless, Ansible-compatible configuration-management engine.
//!
//! Data flows inventory → playbook → variables/templates → graph → executor → module →
//! connection → output, and the module tree follows that order.

pub mod diagnostics;
pub mod yaml;
pub mod inventory;
pub mod vars;
pub mod connection;
pub mod template;
pub mod clock;
pub mod modules;
pub mod playbook;
pub mod exec;
pub mod output;
pub mod cli;
