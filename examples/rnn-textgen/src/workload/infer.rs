//! `infer`: loads the weights, answers a batch of prompts, writes samples and latency figures.

use std::time::Instant;

use aws_sdk_cloudwatch::types::StandardUnit;
use serde::{Deserialize, Serialize};

use super::*;
use crate::measure::{self, Latency};
use crate::model::Model;
use crate::rng::Rng;

/// `infer`'s settings, as flags.
#[derive(Debug, Clone, clap::Args)]
pub struct InferOptions {
    /// Bucket the run's weights are read from.
    #[arg(long, env = "PIPECTL_BUCKET_MODEL_WEIGHTS")]
    pub model_bucket: String,
    /// Bucket the samples and inference metrics are written to.
    #[arg(long, env = "PIPECTL_BUCKET_RESULTS")]
    pub results_bucket: String,
    /// Requests to answer, one after another (at least 1).
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Characters generated per request.
    #[arg(long, default_value_t = 200)]
    pub characters: usize,
    /// Sampling temperature: below 1 more predictable text, above 1 more varied.
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

/// One request's answer, as written to `samples.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// The prompt, one of [`PROMPTS`].
    pub prompt: String,
    /// The characters generated after the prompt (the prompt not included).
    pub text: String,
    /// How long generating took, in milliseconds.
    pub latency_ms: f64,
}

/// What `infer` measured, as written to `infer-metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InferMetrics {
    /// The run's id.
    pub run_id: String,
    /// The key of the weights in the model bucket.
    pub model_key: String,
    /// The model's number of weights and biases.
    pub parameters: usize,
    /// Seconds to read and parse the weights.
    pub load_seconds: f64,
    /// Requests answered (the warm-up request not counted).
    pub requests: usize,
    /// Characters generated per request.
    pub characters_per_request: usize,
    /// The sampling temperature.
    pub temperature: f32,
    /// Latency of the requests.
    pub latency: Latency,
    /// Requests answered per second, one after another on one core.
    pub requests_per_second: f64,
    /// Characters generated per second over the batch.
    pub characters_per_second: f64,
    /// Seconds of the phase from reading the weights to the end of the batch.
    pub duration_seconds: f64,
    /// The process's peak resident memory in bytes; `None` where not measured (not Linux).
    pub peak_memory_bytes: Option<u64>,
}

/// The `infer` phase: loads the run's weights, answers the requests, writes `samples.json` and
/// `infer-metrics.json` and publishes the figures; returns the metrics and samples.
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
