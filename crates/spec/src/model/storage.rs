//! `[fsx]` and `[buckets]`: the shared file system and the S3 buckets.

use crate::units::{Rate, Size};
use serde::{Deserialize, Serialize};

use super::phases::yes;

/// `[fsx]`: one FSx for Lustre file system, mounted by the phases that use it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fsx {
    /// Storage capacity, e.g. `"1200GiB"`; the allowed values depend on `deployment_type`.
    pub capacity: Size,
    /// FSx deployment type; sets the allowed capacities and throughput.
    pub deployment_type: FsxDeployment,
    /// MB/s per TiB of storage; fixed for SCRATCH types.
    #[serde(default)]
    pub throughput_per_tib: Option<u32>,
    /// Where the instances mount it (default `/fsx`).
    #[serde(default = "default_mount")]
    pub mount_path: String,
    /// Throughput the workload needs; checked against what the file system delivers.
    #[serde(default)]
    pub required_throughput: Option<Rate>,
    /// S3 buckets linked to directories of the file system (data repository associations).
    #[serde(default)]
    pub data_repositories: Vec<DataRepository>,
    /// Lustre version (`FileSystemTypeVersion`); FSx makes 2.10 when none is sent, which data
    /// repository associations do not support, so pipectl sends 2.15 unless told otherwise.
    #[serde(default)]
    pub lustre_version: Option<LustreVersion>,
}

impl Fsx {
    /// The version sent to FSx.
    pub fn effective_lustre_version(&self) -> LustreVersion {
        self.lustre_version.unwrap_or(LustreVersion::V2_15)
    }
}

/// FSx for Lustre versions (CreateFileSystem `FileSystemTypeVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum LustreVersion {
    /// Lustre 2.10: no data repository associations, not available on PERSISTENT_2.
    #[serde(rename = "2.10")]
    V2_10,
    /// Lustre 2.12.
    #[serde(rename = "2.12")]
    V2_12,
    /// Lustre 2.15, pipectl's default.
    #[serde(rename = "2.15")]
    V2_15,
}

impl LustreVersion {
    /// The value FSx takes in `FileSystemTypeVersion`.
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::V2_10 => "2.10",
            Self::V2_12 => "2.12",
            Self::V2_15 => "2.15",
        }
    }
}

fn default_mount() -> String {
    "/fsx".to_string()
}

/// FSx for Lustre deployment type (CreateFileSystem `LustreConfiguration.DeploymentType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[allow(non_camel_case_types)]
pub enum FsxDeployment {
    /// Scratch, first generation: 1200, 2400 or n × 3600 GiB at 200 MB/s/TiB; no associations.
    SCRATCH_1,
    /// Scratch: 200 MB/s/TiB baseline, bursting to 1300; data not replicated.
    SCRATCH_2,
    /// Persistent, replicated: 50, 100 or 200 MB/s/TiB.
    PERSISTENT_1,
    /// Persistent, replicated: 125, 250, 500 or 1000 MB/s/TiB.
    PERSISTENT_2,
}

impl FsxDeployment {
    /// The value FSx takes in `DeploymentType`.
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::SCRATCH_1 => "SCRATCH_1",
            Self::SCRATCH_2 => "SCRATCH_2",
            Self::PERSISTENT_1 => "PERSISTENT_1",
            Self::PERSISTENT_2 => "PERSISTENT_2",
        }
    }
}

/// A data repository association: a bucket (and prefix) linked to a directory of the file system.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataRepository {
    /// A key of `[buckets]`.
    pub bucket: String,
    /// Directory in the file system linked to the bucket, e.g. "/input".
    pub file_system_path: String,
    /// Prefix inside the bucket.
    #[serde(default)]
    pub prefix: String,
    /// Import the bucket's listing at creation, then new, changed, deleted objects (default on).
    #[serde(default = "yes")]
    pub import: bool,
    /// Copy files created, changed or deleted in the directory back to the bucket (default off).
    #[serde(default)]
    pub export: bool,
}

/// `[buckets.NAME]`: an S3 bucket of the stack, named `pipectl-<stack>-<NAME>-<account id>`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Expected stored size, for the storage estimate.
    pub size: Size,
    /// Whether S3 versioning is enabled (default false).
    #[serde(default)]
    pub versioning: bool,
    /// Free text for readers of the spec; not sent to AWS.
    #[serde(default)]
    pub description: Option<String>,
}
