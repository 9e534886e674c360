//! Variables: files, precedence, lazy templating and facts.

pub mod file;
pub mod precedence;
pub mod scope;

pub use scope::{as_data, Scope};
