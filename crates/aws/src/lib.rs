//! pipectl's AWS plumbing: the one SDK-config builder ([`connect`]), the service clients with
//! call accounting, error classification with the resource, operation and code, and the one
//! poll/wait helper. Nothing here knows about specs.

mod calls;
mod clients;
mod error;
pub mod metric_schema;
pub mod permissions;
mod target;
pub mod wait;

pub use calls::CallLog;
pub use clients::{Aws, AwsOptions, LOCAL_ENDPOINT, connect, profile_exists};
pub use error::{AwsError, ErrorKind, ResultExt};
pub use target::{Target, credentials_configured};
