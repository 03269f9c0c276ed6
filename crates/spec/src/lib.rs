//! pipectl's spec: the TOML model of a pipeline, strict units, validation with file:line:col
//! locations, instance-type facts, and the resource graph `up` would build. No AWS calls.

pub mod diag;
pub mod fsx;
pub mod graph;
pub mod instances;
pub mod load;
pub mod model;
pub mod net;
pub mod source;
pub mod units;
pub mod validate;

pub use diag::{Diagnostics, Finding, Level};
pub use load::{LoadError, LoadedSpec, load_bytes, load_file, load_str};
pub use model::Spec;
