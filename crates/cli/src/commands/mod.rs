//! One module per subcommand; the options they share are resolved in `crate::options`.

pub mod advise;
pub mod cost;
pub mod down;
pub mod iam_policy;
pub mod metered;
pub mod plan;
pub mod report;
pub mod run;
pub mod shell;
pub mod stack;
pub mod status;
pub mod sweep;
pub mod up;
pub mod validate;
