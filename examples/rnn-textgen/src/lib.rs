//! A character-level recurrent network (one tanh layer, softmax output), trained with truncated
//! backpropagation through time and Adagrad, the classic "min-char-rnn" shape: the workload
//! of the example pipeline, small enough to train in about half a minute on two CPU cores.
//! The arithmetic is written out, so what it costs is plain. Around it, the pipeline's three
//! phases (`workload`): train, infer and document, reading and writing S3, publishing to
//! CloudWatch, and pricing the run so far from AWS Batch's own records (`cost`).

pub mod card;
pub mod cost;
pub mod dist;
pub mod measure;
pub mod model;
pub mod rng;
pub mod vocab;
pub mod workload;

pub use model::{Config, Model, TrainStats, Vocab};
