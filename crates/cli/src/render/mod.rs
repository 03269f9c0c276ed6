//! Output rendering for people and machines.

pub mod cost;
pub mod diagnostics;
pub mod plan;
pub mod progress;
pub mod reconcile;
pub mod run_progress;
pub mod table;
pub mod terminal;
