//! `train`: reads the corpus, trains the model, writes weights and metrics.

use std::time::Instant;

use aws_sdk_cloudwatch::types::StandardUnit;
use serde::{Deserialize, Serialize};

use super::*;
use crate::measure;
use crate::model::{Config, Model, Vocab};

/// `train`'s settings, as flags (buckets default to what `pipectl run` sets).
#[derive(Debug, Clone, clap::Args)]
pub struct TrainOptions {
    /// Bucket the corpus is read from.
    #[arg(long, env = "PIPECTL_BUCKET_INPUT_DATA")]
    pub input_bucket: String,
    /// The corpus's key in the input bucket (UTF-8 text).
    #[arg(long, default_value = CORPUS_KEY)]
    pub corpus_key: String,
    /// Bucket the weights and training metrics are written to.
    #[arg(long, env = "PIPECTL_BUCKET_MODEL_WEIGHTS")]
    pub model_bucket: String,
    /// Training sequences of --seq-len characters (the default: about 25 s on one core here).
    #[arg(long, default_value_t = 30000)]
    pub steps: usize,
    /// The network's size and training settings.
    #[command(flatten)]
    pub config: Config,
}

/// The corpus a model was trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusInfo {
    /// The bucket it was read from.
    pub bucket: String,
    /// Its key in that bucket.
    pub key: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Its length in characters.
    pub characters: usize,
    /// How many distinct characters it has: the model's vocabulary size.
    pub vocabulary: usize,
    /// Characters kept out of training to measure the model on.
    pub held_out_characters: usize,
}

/// What `train` measured, as written to `train-metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainMetrics {
    /// The run's id.
    pub run_id: String,
    /// The corpus trained on.
    pub corpus: CorpusInfo,
    /// The network's size and training settings.
    pub config: Config,
    /// The model's number of weights and biases.
    pub parameters: usize,
    /// Size of the weights file (`model.json`) in bytes.
    pub model_bytes: usize,
    /// Training sequences run.
    pub steps: usize,
    /// Characters trained on (`steps` × `config.seq_len`).
    pub characters_trained: usize,
    /// The whole phase: reading the corpus, training, writing the weights.
    pub duration_seconds: f64,
    /// Seconds spent training alone.
    pub train_seconds: f64,
    /// Training sequences (of `config.seq_len` characters) per second.
    pub samples_per_second: f64,
    /// Characters trained on per second.
    pub characters_per_second: f64,
    /// The process's peak resident memory in bytes; `None` where not measured (not Linux).
    pub peak_memory_bytes: Option<u64>,
    /// Smoothed training loss per character (nats) after the first step.
    pub first_loss: f32,
    /// Smoothed training loss per character (nats) after the last step.
    pub final_loss: f32,
    /// Loss per character (nats) on the held-out text before training.
    pub held_out_loss_before: f32,
    /// Loss per character (nats) on the held-out text after training.
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

/// The `train` phase: reads the corpus, trains on all but its held-out tail, writes `model.json`
/// and `train-metrics.json` and publishes the figures; returns the metrics.
pub async fn train(ctx: &Ctx, o: &TrainOptions) -> Result<TrainMetrics, Error> {
    let t0 = Instant::now();
    let text = read_corpus(ctx, o).await?;
    let characters = text.chars().count();
    let (train_text, held_out) = split_held_out(&text);
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
    publish(ctx, &m).await;
    Ok(m)
}

/// The corpus as text, long enough to train on after the held-out tenth.
async fn read_corpus(ctx: &Ctx, o: &TrainOptions) -> Result<String, Error> {
    let bytes = ctx.get(&o.input_bucket, &o.corpus_key).await?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Data {
        bucket: o.input_bucket.clone(),
        key: o.corpus_key.clone(),
        message: format!("the corpus is not UTF-8 text: {e}"),
    })?;
    let characters = text.chars().count();
    let (train_text, _) = split_held_out(&text);
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
    Ok(text)
}

/// The training figures as CloudWatch metrics of the workload's namespace.
async fn publish(ctx: &Ctx, m: &TrainMetrics) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::CORPUS;

    #[test]
    fn the_held_out_tail_is_a_tenth_and_on_a_char_boundary() {
        let (a, b) = split_held_out("abcdefghij—klmnopqrs");
        assert_eq!(b.chars().count(), 2);
        assert_eq!(format!("{a}{b}"), "abcdefghij—klmnopqrs");
        let (a, b) = split_held_out(CORPUS);
        assert_eq!(b.chars().count(), 4000);
        assert!(a.len() > 100_000);
    }
}
