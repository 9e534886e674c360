//! The command line: one file per verb.

pub mod apply;
pub mod config;
pub mod graph;
pub mod inventory;
pub(crate) mod load;
pub mod report;
pub mod schema;
pub mod vault;
