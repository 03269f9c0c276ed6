//! A character-level recurrent network (one tanh layer, softmax output), trained with truncated
//! backpropagation through time and Adagrad, the classic "min-char-rnn" shape: the workload
//! of the example pipeline, small enough to train in about half a minute on two CPU cores.
//! No dependency beyond serde: the arithmetic is written out, so what it costs is plain.

pub mod model;
pub mod rng;

pub use model::{Config, Model, TrainStats, Vocab};
