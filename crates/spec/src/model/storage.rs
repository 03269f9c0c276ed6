//! `[fsx]` and `[buckets]`: the shared file system and the S3 buckets.

use crate::units::{Rate, Size};
use serde::{Deserialize, Serialize};

use super::phases::yes;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fsx {
    pub capacity: Size,
    pub deployment_type: FsxDeployment,
    /// MB/s per TiB of storage; fixed for SCRATCH types.
    #[serde(default)]
    pub throughput_per_tib: Option<u32>,
    #[serde(default = "default_mount")]
    pub mount_path: String,
    /// Throughput the workload needs; checked against what the file system delivers.
    #[serde(default)]
    pub required_throughput: Option<Rate>,
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
    #[serde(rename = "2.10")]
    V2_10,
    #[serde(rename = "2.12")]
    V2_12,
    #[serde(rename = "2.15")]
    V2_15,
}

impl LustreVersion {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[allow(non_camel_case_types)]
pub enum FsxDeployment {
    SCRATCH_1,
    SCRATCH_2,
    PERSISTENT_1,
    PERSISTENT_2,
}

impl FsxDeployment {
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::SCRATCH_1 => "SCRATCH_1",
            Self::SCRATCH_2 => "SCRATCH_2",
            Self::PERSISTENT_1 => "PERSISTENT_1",
            Self::PERSISTENT_2 => "PERSISTENT_2",
        }
    }
}

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
    #[serde(default = "yes")]
    pub import: bool,
    #[serde(default)]
    pub export: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Expected stored size, for the storage estimate.
    pub size: Size,
    #[serde(default)]
    pub versioning: bool,
    #[serde(default)]
    pub description: Option<String>,
}
