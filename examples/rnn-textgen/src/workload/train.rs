//! `train`: reads the corpus, trains the model (data-parallel across the nodes of a multi-node
//! job, each on its shard of the corpus), writes weights and metrics.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StandardUnit;
use serde::{Deserialize, Serialize};

use super::*;
use crate::dist::{Comm, Topology};
use crate::measure;
use crate::model::{Config, Model, TrainStats, Vocab};

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
    /// On a multi-node job: the port the main node listens on (default: one derived from the
    /// job's id, the same on every node).
    #[arg(long, env = "RNN_TEXTGEN_PORT")]
    pub port: Option<u16>,
    /// On a multi-node job: how long the nodes may take to meet (Batch starts the others after
    /// the main node, in no order).
    #[arg(long, default_value_t = 600)]
    pub rendezvous_seconds: u64,
    /// On a multi-node job: how long a node may stay silent before it counts as lost.
    #[arg(long, default_value_t = 60)]
    pub io_timeout_seconds: u64,
}

/// One node's share of a data-parallel training.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeStats {
    /// The node's index.
    pub node: usize,
    /// Its training steps (one sequence each).
    pub steps: usize,
    /// Its seconds training, averaging included.
    pub train_seconds: f64,
    /// Its seconds averaging gradients with the other nodes (waiting for them included).
    pub communication_seconds: f64,
    /// `communication_seconds` ÷ `train_seconds`.
    pub communication_share: f64,
    /// Its sequences per second.
    pub samples_per_second: f64,
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
    /// Nodes that trained together (data-parallel; 1 for a single-node job).
    #[serde(default = "one")]
    pub nodes: usize,
    /// Each node's figures, by index (empty for a single-node job).
    #[serde(default)]
    pub per_node: Vec<NodeStats>,
    /// The share of the training time the main node spent averaging gradients.
    #[serde(default)]
    pub communication_share: f64,
}

fn one() -> usize {
    1
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
    log_start(o, &text, characters, &model);
    let before = model.evaluate(held_out);
    let topo = Topology::from_vars(|k| std::env::var(k).ok(), o.port)?;
    let tt = Instant::now();
    let (stats, per_node) = match &topo {
        None => (
            model.train(train_text, o.steps, progress(o.steps, tt)),
            vec![],
        ),
        Some(t) => parallel(&mut model, train_text, o, t)?,
    };
    let train_seconds = tt.elapsed().as_secs_f64();
    let after = model.evaluate(held_out);
    let nodes = topo.as_ref().map_or(1, |t| t.nodes);
    if let Some(t) = topo.as_ref().filter(|t| !t.is_main()) {
        // the main node writes the weights and the figures of every node
        tracing::info!(
            "node {} of {}: trained {} steps in {:.1} s; the main node writes the results",
            t.node,
            t.nodes,
            stats.steps,
            train_seconds
        );
    }
    let is_main = topo.as_ref().is_none_or(Topology::is_main);
    let weights = model.to_json().into_bytes();
    let model_bytes = weights.len();
    if is_main {
        ctx.put(
            &o.model_bucket,
            &key(&ctx.run_id, "model.json"),
            weights,
            "application/json",
        )
        .await?;
    }
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
        steps: stats.steps * nodes,
        characters_trained: stats.characters * nodes,
        duration_seconds: t0.elapsed().as_secs_f64(),
        train_seconds,
        samples_per_second: (stats.steps * nodes) as f64 / train_seconds.max(1e-9),
        characters_per_second: (stats.characters * nodes) as f64 / train_seconds.max(1e-9),
        peak_memory_bytes: measure::peak_rss_bytes(),
        first_loss: stats.first_loss,
        final_loss: stats.final_loss,
        held_out_loss_before: before,
        held_out_loss_after: after,
        loss_curve: measure::downsample(&stats.loss_curve, 100),
        nodes,
        communication_share: per_node
            .iter()
            .find(|n| topo.as_ref().is_some_and(|t| t.main == n.node))
            .map_or(0.0, |n| n.communication_share),
        per_node,
    };
    if !is_main {
        return Ok(m);
    }
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

/// What is about to be trained on what.
fn log_start(o: &TrainOptions, text: &str, characters: usize, model: &Model) {
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
}

/// Logs the loss and speed ten times over `steps`.
fn progress(steps: usize, since: Instant) -> impl FnMut(usize, f32) {
    let every = (steps / 10).max(1);
    move |step, loss| {
        if (step + 1) % every == 0 {
            let secs = since.elapsed().as_secs_f64();
            tracing::info!(
                "step {:>6}/{steps}  loss {loss:.3}  {:.0} samples/s",
                step + 1,
                (step + 1) as f64 / secs.max(1e-9)
            );
        }
    }
}

/// `text` cut into `nodes` runs of characters, the `node`th (the last takes the remainder).
pub fn shard(text: &str, node: usize, nodes: usize) -> &str {
    let n = text.chars().count();
    let per = n / nodes.max(1);
    let at = |i: usize| text.char_indices().nth(i).map_or(text.len(), |(b, _)| b);
    let end = if node + 1 >= nodes {
        text.len()
    } else {
        at((node + 1) * per)
    };
    &text[at(node * per)..end]
}

/// Data-parallel training on this node's shard: `--steps` sequences in all, a share of them
/// per node, every step's gradients averaged over the nodes (the replicas stay the same);
/// then every node's figures, on the main node.
fn parallel(
    model: &mut Model,
    train_text: &str,
    o: &TrainOptions,
    t: &Topology,
) -> Result<(TrainStats, Vec<NodeStats>), Error> {
    let own = shard(train_text, t.node, t.nodes);
    let steps = o.steps.div_ceil(t.nodes);
    tracing::info!(
        "node {} of {} (main: node {}): {} steps on characters {} of the corpus; meeting on port {}",
        t.node,
        t.nodes,
        t.main,
        steps,
        own.chars().count(),
        t.port
    );
    let mut comm = Comm::connect(
        t,
        Duration::from_secs(o.rendezvous_seconds),
        Duration::from_secs(o.io_timeout_seconds),
    )?;
    let tt = Instant::now();
    let stats = model.train_with(own, steps, |g| comm.all_reduce_mean(g), progress(steps, tt))?;
    let secs = tt.elapsed().as_secs_f64();
    let mine = [secs as f32, comm.seconds as f32, stats.steps as f32];
    let all = comm.gather(&mine)?;
    let per_node = all
        .iter()
        .enumerate()
        .map(|(node, v)| NodeStats {
            node,
            steps: v[2] as usize,
            train_seconds: f64::from(v[0]),
            communication_seconds: f64::from(v[1]),
            communication_share: f64::from(v[1]) / f64::from(v[0]).max(1e-9),
            samples_per_second: f64::from(v[2]) / f64::from(v[0]).max(1e-9),
        })
        .collect();
    Ok((stats, per_node))
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
    fn shards_cover_the_text_once_on_char_boundaries() {
        let text = "abcdé—fghij";
        let parts: Vec<&str> = (0..3).map(|i| shard(text, i, 3)).collect();
        assert_eq!(parts.concat(), text);
        assert_eq!(parts[0].chars().count(), 3);
        assert_eq!(shard(text, 0, 1), text);
    }

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
