//! pipectl's run record: what one run did, from AWS's own timestamps, written atomically after
//! every change under `<runs-dir>/<run-id>.json`. The runner writes it, `run --attach` resumes
//! from it, the metering reconciles it and the report draws it. Pure: no AWS, no async.
//! Schema `pipectl.run`, version [`RECORD_VERSION`]; docs/run-record.md documents it.

pub mod record;
pub mod status;
pub mod store;
pub mod time;

pub use record::{
    Attempt, Failure, FallbackSwitch, PhaseRecord, PriceRef, RECORD_SCHEMA, RECORD_VERSION,
    RecordedPrices, ReplacedJob, RunRecord, Stuck,
};
pub use status::{JobStatus, Purchase, RunStatus};
pub use store::{RecordError, RunStore};
pub use time::{new_run_id, now_ms, utc};
