//! `document`: writes the model card and the run's document to the documentation bucket.

use aws_sdk_cloudwatch::types::StandardUnit;
use serde::{Deserialize, Serialize};

use super::*;
use crate::cost::{self, CostSoFar};

/// `document`'s settings, as flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DocumentOptions {
    /// Bucket the run's training metrics are read from.
    #[arg(long, env = "PIPECTL_BUCKET_MODEL_WEIGHTS")]
    pub model_bucket: String,
    /// Bucket the run's samples and inference metrics are read from.
    #[arg(long, env = "PIPECTL_BUCKET_RESULTS")]
    pub results_bucket: String,
    /// Bucket the model card and the run's document are written to.
    #[arg(long, env = "PIPECTL_BUCKET_DOCUMENTATION")]
    pub docs_bucket: String,
    /// This job's AWS Batch id, to price it and the jobs before it; none outside Batch.
    #[arg(long, env = "AWS_BATCH_JOB_ID")]
    pub job_id: Option<String>,
}

/// What `document` writes next to the model card, for machines.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDocument {
    /// The run's id.
    pub run_id: String,
    /// The stack the run ran in, when known.
    pub stack: Option<String>,
    /// Where the bundled corpus comes from and its licence.
    pub corpus_source: String,
    /// What `train` measured.
    pub train: TrainMetrics,
    /// What `infer` measured.
    pub infer: InferMetrics,
    /// Every sample `infer` generated.
    pub samples: Vec<Sample>,
    /// The compute cost of this job and the jobs before it, when it could be worked out.
    pub cost_so_far: Option<CostSoFar>,
    /// Why there is no cost so far, when there is none.
    pub cost_note: Option<String>,
}

/// The `document` phase: reads the run's metrics and samples, prices the run so far, writes
/// `MODEL_CARD.md` and `run.json` and publishes the cost; returns what it wrote as `run.json`.
pub async fn document(ctx: &Ctx, o: &DocumentOptions) -> Result<RunDocument, Error> {
    let train: TrainMetrics = ctx
        .get_json(&o.model_bucket, &key(&ctx.run_id, "train-metrics.json"))
        .await?;
    let infer: InferMetrics = ctx
        .get_json(&o.results_bucket, &key(&ctx.run_id, "infer-metrics.json"))
        .await?;
    let samples: Vec<Sample> = ctx
        .get_json(&o.results_bucket, &key(&ctx.run_id, "samples.json"))
        .await?;
    let (cost_so_far, cost_note) = match &o.job_id {
        None => (
            None,
            Some("not run as an AWS Batch job (no AWS_BATCH_JOB_ID): no jobs to price".to_string()),
        ),
        Some(id) => match cost::so_far(&ctx.aws, id).await {
            Ok(c) => (Some(c), None),
            Err(e) => {
                tracing::warn!("cost so far not known: {e}");
                (None, Some(format!("cost so far not known: {e}")))
            }
        },
    };
    let doc = RunDocument {
        run_id: ctx.run_id.clone(),
        stack: ctx.stack.clone(),
        corpus_source: CORPUS_SOURCE.to_string(),
        train,
        infer,
        samples,
        cost_so_far,
        cost_note,
    };
    let card = crate::card::render(&doc);
    ctx.put(
        &o.docs_bucket,
        &key(&ctx.run_id, "MODEL_CARD.md"),
        card.into_bytes(),
        "text/markdown; charset=utf-8",
    )
    .await?;
    ctx.put_json(&o.docs_bucket, &key(&ctx.run_id, "run.json"), &doc)
        .await?;
    if let Some(c) = &doc.cost_so_far {
        tracing::info!(
            "cost so far: ${:.6} over {} jobs (compute at list prices)",
            c.total_usd,
            c.jobs.len()
        );
        ctx.publish(&[("CostSoFarUSD", c.total_usd, StandardUnit::None)])
            .await;
    }
    Ok(doc)
}
