//! The network: h_t = tanh(Wxh x_t + Whh h_{t-1} + bh), y_t = Why h_t + by, p_t = softmax(y_t),
//! cross-entropy loss on the next character; gradients by backpropagation through `seq_len`
//! steps, clipped to ±5, applied with Adagrad.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;
pub use crate::vocab::Vocab;

/// The network's size and training settings (also `train`'s flags; defaults as [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct Config {
    /// Hidden units.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Characters per training sequence (backpropagation through time).
    #[arg(long, default_value_t = 32)]
    pub seq_len: usize,
    /// Adagrad's step size (positive).
    #[arg(long, default_value_t = 0.1)]
    pub learning_rate: f32,
    /// Seed of the initial weights.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hidden: 128,
            seq_len: 32,
            learning_rate: 0.1,
            seed: 42,
        }
    }
}

/// Weights (row-major) and the vocabulary they are for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// The size and settings the weights were made with.
    pub config: Config,
    /// The characters the inputs and outputs stand for.
    pub vocab: Vocab,
    wxh: Vec<f32>, // hidden × vocab
    whh: Vec<f32>, // hidden × hidden
    why: Vec<f32>, // vocab × hidden
    bh: Vec<f32>,
    by: Vec<f32>,
}

/// What training measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainStats {
    /// Training sequences run: as many as asked, or 0 if the text is shorter than one sequence.
    pub steps: usize,
    /// Characters trained on (`steps` × `seq_len`).
    pub characters: usize,
    /// Smoothed loss per character (nats) after each step.
    pub loss_curve: Vec<f32>,
    /// Smoothed loss after the first step (nats per character); ln(vocabulary size) if none ran.
    pub first_loss: f32,
    /// Smoothed loss after the last step (nats per character); ln(vocabulary size) if none ran.
    pub final_loss: f32,
}

struct Grads {
    wxh: Vec<f32>,
    whh: Vec<f32>,
    why: Vec<f32>,
    bh: Vec<f32>,
    by: Vec<f32>,
}

impl Grads {
    /// Zeros in the shape of `m`'s weights.
    fn zeros_like(m: &Model) -> Grads {
        Grads {
            wxh: vec![0.0; m.wxh.len()],
            whh: vec![0.0; m.whh.len()],
            why: vec![0.0; m.why.len()],
            bh: vec![0.0; m.bh.len()],
            by: vec![0.0; m.by.len()],
        }
    }

    /// The five parts in a fixed order (how they are flattened).
    fn parts_mut(&mut self) -> [&mut Vec<f32>; 5] {
        [
            &mut self.wxh,
            &mut self.whh,
            &mut self.why,
            &mut self.bh,
            &mut self.by,
        ]
    }
}

impl Model {
    /// An untrained model for `vocab`: small random weights drawn from `config.seed`, zero biases.
    pub fn new(vocab: Vocab, config: Config) -> Model {
        let (h, v) = (config.hidden, vocab.len());
        let mut rng = Rng::new(config.seed);
        let mut init = |n: usize| (0..n).map(|_| rng.normal(0.01)).collect::<Vec<f32>>();
        Model {
            wxh: init(h * v),
            whh: init(h * h),
            why: init(v * h),
            bh: vec![0.0; h],
            by: vec![0.0; v],
            config,
            vocab,
        }
    }

    /// How many weights and biases the model has.
    pub fn parameters(&self) -> usize {
        self.wxh.len() + self.whh.len() + self.why.len() + self.bh.len() + self.by.len()
    }

    /// One step of the recurrence from `h` with input `x`; returns the new state.
    fn step(&self, x: usize, h: &[f32]) -> Vec<f32> {
        let (hn, v) = (self.config.hidden, self.vocab.len());
        (0..hn)
            .map(|i| {
                let row = &self.whh[i * hn..(i + 1) * hn];
                let rec: f32 = row.iter().zip(h).map(|(w, x)| w * x).sum();
                (self.wxh[i * v + x] + rec + self.bh[i]).tanh()
            })
            .collect()
    }

    /// Output probabilities for state `h`.
    fn probs(&self, h: &[f32], temperature: f32) -> Vec<f32> {
        let hn = self.config.hidden;
        let y: Vec<f32> = (0..self.vocab.len())
            .map(|k| {
                let row = &self.why[k * hn..(k + 1) * hn];
                (row.iter().zip(h).map(|(w, x)| w * x).sum::<f32>() + self.by[k]) / temperature
            })
            .collect();
        let m = y.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = y.iter().map(|v| (v - m).exp()).collect();
        let s: f32 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    }

    /// Loss and gradients over `inputs` → `targets`, starting from `h0`; returns the last state.
    // Row and column indices name the matrices' rows as the equations do.
    #[allow(clippy::needless_range_loop)]
    fn loss_and_grads(
        &self,
        inputs: &[usize],
        targets: &[usize],
        h0: &[f32],
    ) -> (f32, Grads, Vec<f32>) {
        let (hn, v) = (self.config.hidden, self.vocab.len());
        let mut hs: Vec<Vec<f32>> = vec![h0.to_vec()];
        let mut ps: Vec<Vec<f32>> = Vec::with_capacity(inputs.len());
        let mut loss = 0.0;
        for (&x, &t) in inputs.iter().zip(targets) {
            let h = self.step(x, hs.last().expect("state"));
            let p = self.probs(&h, 1.0);
            loss -= p[t].max(1e-12).ln();
            hs.push(h);
            ps.push(p);
        }
        let mut g = Grads {
            wxh: vec![0.0; hn * v],
            whh: vec![0.0; hn * hn],
            why: vec![0.0; v * hn],
            bh: vec![0.0; hn],
            by: vec![0.0; v],
        };
        let mut dh_next = vec![0.0f32; hn];
        for s in (0..inputs.len()).rev() {
            let mut dy = ps[s].clone();
            dy[targets[s]] -= 1.0;
            let h = &hs[s + 1];
            let hp = &hs[s];
            for k in 0..v {
                g.by[k] += dy[k];
                let row = &mut g.why[k * hn..(k + 1) * hn];
                for (gw, hv) in row.iter_mut().zip(h) {
                    *gw += dy[k] * hv;
                }
            }
            let mut dh = dh_next.clone();
            for k in 0..v {
                let row = &self.why[k * hn..(k + 1) * hn];
                for (d, w) in dh.iter_mut().zip(row) {
                    *d += w * dy[k];
                }
            }
            let draw: Vec<f32> = dh
                .iter()
                .zip(h)
                .map(|(d, hv)| (1.0 - hv * hv) * d)
                .collect();
            for i in 0..hn {
                g.bh[i] += draw[i];
                g.wxh[i * v + inputs[s]] += draw[i];
                let row = &mut g.whh[i * hn..(i + 1) * hn];
                for (gw, hv) in row.iter_mut().zip(hp) {
                    *gw += draw[i] * hv;
                }
            }
            dh_next = vec![0.0; hn];
            for i in 0..hn {
                let row = &self.whh[i * hn..(i + 1) * hn];
                for (d, w) in dh_next.iter_mut().zip(row) {
                    *d += w * draw[i];
                }
            }
        }
        for part in [&mut g.wxh, &mut g.whh, &mut g.why, &mut g.bh, &mut g.by] {
            for x in part.iter_mut() {
                *x = x.clamp(-5.0, 5.0);
            }
        }
        (loss, g, hs.pop().expect("state"))
    }

    /// Trains on `text` for `steps` sequences (wrapping around the text), reporting the
    /// smoothed loss per character after each.
    pub fn train(
        &mut self,
        text: &str,
        steps: usize,
        progress: impl FnMut(usize, f32),
    ) -> TrainStats {
        let alone = |_: &mut [f32]| Ok::<(), std::convert::Infallible>(());
        match self.train_with(text, steps, alone, progress) {
            Ok(stats) => stats,
            Err(never) => match never {},
        }
    }

    /// [`Model::train`] as one of several replicas (data-parallel): each step's gradients and
    /// loss, flattened, go through `reduce`, which replaces them by their mean over every
    /// replica, before the update; replicas that start from the same weights stay the same.
    pub fn train_with<E>(
        &mut self,
        text: &str,
        steps: usize,
        mut reduce: impl FnMut(&mut [f32]) -> Result<(), E>,
        mut progress: impl FnMut(usize, f32),
    ) -> Result<TrainStats, E> {
        let data = self.vocab.encode(text);
        let (hn, t) = (self.config.hidden, self.config.seq_len);
        let lr = self.config.learning_rate;
        let mut mem = Grads::zeros_like(self);
        let uniform = (self.vocab.len() as f32).ln();
        let mut smooth = uniform;
        let mut curve = Vec::with_capacity(steps);
        let mut h = vec![0.0f32; hn];
        let mut pos = 0usize;
        let mut chars = 0usize;
        let mut flat: Vec<f32> = Vec::with_capacity(self.parameters() + 1);
        for step in 0..steps {
            if data.len() < t + 1 {
                break;
            }
            if pos + t + 1 > data.len() {
                pos = 0;
                h = vec![0.0; hn];
            }
            let (loss, mut g, h_last) =
                self.loss_and_grads(&data[pos..pos + t], &data[pos + 1..pos + t + 1], &h);
            h = h_last;
            flat.clear();
            for part in g.parts_mut() {
                flat.extend_from_slice(part);
            }
            flat.push(loss);
            reduce(&mut flat)?;
            let mut at = 0;
            for part in g.parts_mut() {
                let n = part.len();
                part.copy_from_slice(&flat[at..at + n]);
                at += n;
            }
            let loss = flat[at];
            let pairs = [
                (&mut self.wxh, &g.wxh, &mut mem.wxh),
                (&mut self.whh, &g.whh, &mut mem.whh),
                (&mut self.why, &g.why, &mut mem.why),
                (&mut self.bh, &g.bh, &mut mem.bh),
                (&mut self.by, &g.by, &mut mem.by),
            ];
            for (w, gr, m) in pairs {
                for ((w, gr), m) in w.iter_mut().zip(gr).zip(m.iter_mut()) {
                    *m += gr * gr;
                    *w -= lr * gr / (*m + 1e-8).sqrt();
                }
            }
            smooth = 0.98 * smooth + 0.02 * loss / t as f32;
            curve.push(smooth);
            chars += t;
            pos += t;
            progress(step, smooth);
        }
        Ok(TrainStats {
            steps: curve.len(),
            characters: chars,
            first_loss: curve.first().copied().unwrap_or(uniform),
            final_loss: curve.last().copied().unwrap_or(uniform),
            loss_curve: curve,
        })
    }

    /// Mean loss per character of `text` (no training): how well the model predicts it.
    pub fn evaluate(&self, text: &str) -> f32 {
        let data = self.vocab.encode(text);
        if data.len() < 2 {
            return f32::NAN;
        }
        let mut h = vec![0.0f32; self.config.hidden];
        let mut loss = 0.0;
        for w in data.windows(2) {
            h = self.step(w[0], &h);
            loss -= self.probs(&h, 1.0)[w[1]].max(1e-12).ln();
        }
        loss / (data.len() - 1) as f32
    }

    /// Continues `prompt` with `n` characters sampled at `temperature`.
    pub fn generate(&self, prompt: &str, n: usize, temperature: f32, rng: &mut Rng) -> String {
        let mut h = vec![0.0f32; self.config.hidden];
        let mut last = 0;
        for x in self.vocab.encode(prompt) {
            h = self.step(x, &h);
            last = x;
        }
        let mut out = String::with_capacity(n);
        if prompt.is_empty() || self.vocab.encode(prompt).is_empty() {
            h = self.step(last, &h);
        }
        for _ in 0..n {
            let p = self.probs(&h, temperature.max(1e-3));
            let r = rng.unit();
            let mut acc = 0.0;
            let mut pick = p.len() - 1;
            for (i, pi) in p.iter().enumerate() {
                acc += pi;
                if r < acc {
                    pick = i;
                    break;
                }
            }
            out.push(self.vocab.chars[pick]);
            h = self.step(pick, &h);
        }
        out
    }

    /// The settings, vocabulary and weights as JSON, for `from_json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("weights serialise")
    }
    /// Reads what `to_json` wrote; an error if it does not parse or the weights' shapes do not
    /// match the settings and vocabulary.
    pub fn from_json(text: &str) -> Result<Model, String> {
        let m: Model = serde_json::from_str(text).map_err(|e| format!("weights: {e}"))?;
        let (h, v) = (m.config.hidden, m.vocab.len());
        if m.wxh.len() != h * v
            || m.whh.len() != h * h
            || m.why.len() != v * h
            || m.bh.len() != h
            || m.by.len() != v
        {
            return Err(format!(
                "weights: shapes do not match hidden {h} × vocabulary {v}"
            ));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "the quick brown fox jumps over the lazy dog. the dog sleeps. the fox runs. ";

    fn small() -> Model {
        let text = TEXT.repeat(8);
        Model::new(
            Vocab::of(&text),
            Config {
                hidden: 24,
                seq_len: 16,
                learning_rate: 0.1,
                seed: 7,
            },
        )
    }

    #[test]
    fn training_lowers_the_loss_on_what_it_read() {
        let text = TEXT.repeat(8);
        let mut m = small();
        let before = m.evaluate(&text);
        let stats = m.train(&text, 400, |_, _| {});
        let after = m.evaluate(&text);
        assert_eq!(stats.steps, 400);
        assert!(after < before * 0.6, "loss {before} → {after}");
        assert!(stats.final_loss < stats.first_loss);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let m = small();
        let data = m.vocab.encode("the quick brown");
        let h0 = vec![0.0; m.config.hidden];
        let (_, g, _) = m.loss_and_grads(&data[..8], &data[1..9], &h0);
        for idx in [0usize, 5, 77] {
            let eps = 1e-2;
            let mut p = m.clone();
            p.whh[idx] += eps;
            let (lp, _, _) = p.loss_and_grads(&data[..8], &data[1..9], &h0);
            let mut q = m.clone();
            q.whh[idx] -= eps;
            let (lq, _, _) = q.loss_and_grads(&data[..8], &data[1..9], &h0);
            let numeric = (lp - lq) / (2.0 * eps);
            assert!(
                (numeric - g.whh[idx]).abs() < 1e-3 + 0.05 * numeric.abs(),
                "{idx}: {numeric} vs {}",
                g.whh[idx]
            );
        }
    }

    #[test]
    fn replicas_that_average_their_gradients_stay_the_same_and_learn() {
        use std::sync::mpsc::channel;
        let text = TEXT.repeat(8);
        let (first, second) = text.split_at(text.len() / 2);
        let (to_b, from_a) = channel::<Vec<f32>>();
        let (to_a, from_b) = channel::<Vec<f32>>();
        // each replica sends its step's gradients to the other and takes the mean of both
        let replica = |shard: String,
                       tx: std::sync::mpsc::Sender<Vec<f32>>,
                       rx: std::sync::mpsc::Receiver<Vec<f32>>| {
            std::thread::spawn(move || {
                let mut m = small();
                m.train_with(
                    &shard,
                    200,
                    |g: &mut [f32]| {
                        tx.send(g.to_vec()).map_err(|_| "peer gone")?;
                        let theirs = rx.recv().map_err(|_| "peer gone")?;
                        for (x, y) in g.iter_mut().zip(theirs) {
                            *x = (*x + y) / 2.0;
                        }
                        Ok::<(), &str>(())
                    },
                    |_, _| {},
                )
                .unwrap();
                m
            })
        };
        let a = replica(first.to_string(), to_b, from_b);
        let b = replica(second.to_string(), to_a, from_a);
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(a.to_json(), b.to_json(), "the replicas stay the same");
        assert!(
            a.evaluate(&text) < small().evaluate(&text) * 0.8,
            "and learn from both halves"
        );
        let stopped = small().train_with(&text, 10, |_: &mut [f32]| Err("node 1 lost"), |_, _| {});
        assert_eq!(
            stopped.unwrap_err(),
            "node 1 lost",
            "a failed reduce stops training"
        );
    }

    #[test]
    fn weights_round_trip_and_generate_the_same_text() {
        let text = TEXT.repeat(8);
        let mut m = small();
        m.train(&text, 100, |_, _| {});
        let back = Model::from_json(&m.to_json()).unwrap();
        let a = m.generate("the ", 40, 0.8, &mut Rng::new(3));
        let b = back.generate("the ", 40, 0.8, &mut Rng::new(3));
        assert_eq!(a, b);
        assert_eq!(a.chars().count(), 40);
        assert!(a.chars().all(|c| m.vocab.index(c).is_some()));
        assert!(Model::from_json("{}").is_err());
    }
}
