//! The command line: one file per verb.

pub mod apply;
pub mod config;
pub mod graph;
pub mod inventory;
pub mod load;
pub mod report;
pub mod schema;
pub mod vault;

pub use load::{load_run, LoadedRun};
