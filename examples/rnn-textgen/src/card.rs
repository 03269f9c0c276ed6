//! The model card: what was trained on what, how well, how fast, at what cost so far, and what
//! it writes — Markdown, for the documentation bucket.

use std::fmt::Write;

use crate::workload::{RunDocument, TrainMetrics, key};

fn mib(b: Option<u64>) -> String {
    b.map_or("not measured".into(), |b| {
        format!("{:.1} MiB", b as f64 / 1_048_576.0)
    })
}

/// A one-line picture of the loss curve (high to low blocks).
pub fn sparkline(values: &[f32]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    values
        .iter()
        .map(|v| {
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
            BARS[((t * 7.0).round() as usize).min(7)]
        })
        .collect()
}

/// The model card of run document `d`, as Markdown.
pub fn render(d: &RunDocument) -> String {
    let t = &d.train;
    let mut s = String::new();
    let _ = writeln!(s, "# Model card: rnn-textgen, run {}\n", d.run_id);
    if let Some(stack) = &d.stack {
        let _ = writeln!(
            s,
            "Stack `{stack}`. Written by the pipeline's `document` phase.\n"
        );
    }
    let _ = writeln!(s, "## Model\n");
    let _ = writeln!(
        s,
        "A character-level recurrent network: one tanh layer of {} units over a vocabulary of {} characters, softmax output; trained with truncated backpropagation through {} characters and Adagrad (learning rate {}), seed {}.\n",
        t.config.hidden,
        t.corpus.vocabulary,
        t.config.seq_len,
        t.config.learning_rate,
        t.config.seed
    );
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Parameters | {} |", t.parameters);
    let _ = writeln!(
        s,
        "| Weights | {} bytes (`{}`) |",
        t.model_bytes,
        key(&d.run_id, "model.json")
    );
    let _ = writeln!(s, "\n## Data\n");
    let _ = writeln!(
        s,
        "{}: `s3://{}/{}`, {} bytes, {} characters; the last {} characters held out.\n",
        d.corpus_source,
        t.corpus.bucket,
        t.corpus.key,
        t.corpus.bytes,
        t.corpus.characters,
        t.corpus.held_out_characters
    );
    training(&mut s, t);
    inference(&mut s, d);
    cost_so_far(&mut s, d);
    let _ = writeln!(s, "\n## Outputs of this run\n");
    for (what, k) in [
        ("weights", "model.json"),
        ("training metrics", "train-metrics.json"),
        ("samples", "samples.json"),
        ("inference metrics", "infer-metrics.json"),
        ("this card", "MODEL_CARD.md"),
        ("everything above as JSON", "run.json"),
    ] {
        let _ = writeln!(s, "- {what}: `{}`", key(&d.run_id, k));
    }
    s
}

/// The training section: steps, time, throughput, memory, losses and the loss curve.
fn training(s: &mut String, t: &TrainMetrics) {
    let _ = writeln!(s, "## Training\n");
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(
        s,
        "| Steps | {} ({} characters) |",
        t.steps, t.characters_trained
    );
    let _ = writeln!(
        s,
        "| Duration | {:.1} s training, {:.1} s the whole phase |",
        t.train_seconds, t.duration_seconds
    );
    let _ = writeln!(
        s,
        "| Throughput | {:.0} samples/s ({:.0} characters/s) |",
        t.samples_per_second, t.characters_per_second
    );
    let _ = writeln!(s, "| Peak memory | {} |", mib(t.peak_memory_bytes));
    let _ = writeln!(
        s,
        "| Training loss | {:.3} → {:.3} nats/character |",
        t.first_loss, t.final_loss
    );
    let _ = writeln!(
        s,
        "| Held-out loss | {:.3} → {:.3} nats/character (uniform guess: {:.3}) |",
        t.held_out_loss_before,
        t.held_out_loss_after,
        (t.corpus.vocabulary as f32).ln()
    );
    let curve: Vec<f32> = t.loss_curve.iter().map(|(_, l)| *l).collect();
    let _ = writeln!(s, "\nLoss curve: `{}`\n", sparkline(&curve));
}

/// The inference section: latency, throughput, model load and three samples.
fn inference(s: &mut String, d: &RunDocument) {
    let i = &d.infer;
    let _ = writeln!(s, "## Inference\n");
    let _ = writeln!(
        s,
        "{} requests of {} characters each at temperature {}, one after another on one core.\n",
        i.requests, i.characters_per_request, i.temperature
    );
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(
        s,
        "| Latency | p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms |",
        i.latency.p50_ms, i.latency.p95_ms, i.latency.p99_ms, i.latency.max_ms
    );
    let _ = writeln!(
        s,
        "| Throughput | {:.1} requests/s ({:.0} characters/s) |",
        i.requests_per_second, i.characters_per_second
    );
    let _ = writeln!(s, "| Model load | {:.3} s |", i.load_seconds);
    let _ = writeln!(s, "| Peak memory | {} |", mib(i.peak_memory_bytes));
    let _ = writeln!(s, "\nSamples:\n");
    for sample in d.samples.iter().take(3) {
        let text = format!("{}{}", sample.prompt, sample.text).replace('\n', " ");
        let _ = writeln!(s, "> {text}\n");
    }
}

/// The cost section: each job at list prices, or why the cost is not known.
fn cost_so_far(s: &mut String, d: &RunDocument) {
    let _ = writeln!(s, "## Cost so far\n");
    match (&d.cost_so_far, &d.cost_note) {
        (Some(c), _) => {
            let _ = writeln!(
                s,
                "Compute of this job and the jobs it depends on: the run time of each attempt as AWS Batch recorded it, at list prices ({}), without EC2's 60-second minimum per instance or the time instances take to start. Storage, transfer, those minimums and the figure reconciled with Spot price history: `pipectl cost --run {}`.\n",
                c.prices, d.run_id
            );
            let _ = writeln!(
                s,
                "| Job | Queue | Instance | Purchase | Attempts | Seconds | $/hour | Cost |\n|---|---|---|---|---:|---:|---:|---:|"
            );
            for j in &c.jobs {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {:.1} | {} | {} |",
                    j.job_name,
                    j.queue,
                    j.instance_type.as_deref().unwrap_or("?"),
                    j.purchase.as_deref().unwrap_or("?"),
                    j.attempts,
                    j.seconds,
                    j.usd_per_hour
                        .map_or("no price".into(), |r| format!("{r:.4}")),
                    j.usd.map_or("-".into(), |u| format!("${u:.6}")),
                );
            }
            let _ = writeln!(s, "| **Total** | | | | | | | **${:.6}** |", c.total_usd);
        }
        (None, note) => {
            let _ = writeln!(s, "{}", note.as_deref().unwrap_or("not known"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sparkline_falls_with_the_loss() {
        assert_eq!(sparkline(&[4.0, 3.0, 2.0, 1.0]), "█▆▃▁");
        assert_eq!(sparkline(&[2.0, 2.0]), "▁▁");
        assert_eq!(sparkline(&[]), "");
    }
}
