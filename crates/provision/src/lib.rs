//! pipectl's provisioner: makes a spec's AWS resources exist (`up`), reports them (`status`)
//! and removes them (`down`), against AWS or LocalStack through the same code. Ownership is
//! by tags (`pipectl:stack`, `pipectl:resource`); the state file is a cache of ids.

// Errors carry the resource, operation, code and message by value; they are rare and not hot.
#![allow(clippy::result_large_err)]

mod apply;
pub mod boundary;
mod ctx;
mod destroy;
mod digest;
mod error;
mod kinds;
pub mod policies;
mod recheck;
mod session;
mod state;
mod token;
mod user_data;
mod wait;

/// The seed spec, for the unit tests of the modules that read a whole graph.
#[cfg(test)]
pub(crate) fn seed_spec() -> pipectl_spec::Spec {
    pipectl_spec::load_str(
        std::path::Path::new("seed.toml"),
        include_str!("../../../infra-specs/two-hour-pipeline.toml").to_string(),
    )
    .expect("the seed spec loads")
    .spec
}

pub use apply::{Action, Change, Plan, Summary, apply, plan};
pub use ctx::{Ctx, Drift, Event, Live, Progress, TAG_RESOURCE, TAG_STACK, Timeouts};
pub use destroy::{DownSummary, destroy};
pub use error::ProvisionError;
pub use kinds::Observed;
pub use session::{Session, default_state_dir};
pub use state::{
    Ended, Entry, Lifespan, STATE_VERSION, State, StateStore, lifespans, parse_rfc3339,
};
