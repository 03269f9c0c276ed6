//! `rnn-textgen`: the example pipeline's workload. Under `pipectl run` each phase's job runs one
//! subcommand; the run id, stack and bucket names come from the environment pipectl gives every
//! job (PIPECTL_RUN_ID, PIPECTL_STACK, PIPECTL_BUCKET_*), and each can be given as a flag.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pipectl_aws::{AwsOptions, connect};
use rnn_textgen::workload::{
    self, CORPUS, CORPUS_KEY, Ctx, DocumentOptions, InferOptions, TrainOptions,
};

#[derive(Parser)]
#[command(
    name = "rnn-textgen",
    version,
    about = "Train, serve and document a character-level RNN text generator on S3"
)]
struct Cli {
    /// Region (else AWS_REGION, AWS_DEFAULT_REGION, us-east-1).
    #[arg(long, global = true)]
    region: Option<String>,
    /// Do not publish metrics to CloudWatch (the metrics files are written all the same).
    #[arg(long, global = true)]
    no_metrics: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Run {
    /// The run's id: every object of the run is under runs/<id>/.
    #[arg(long, env = "PIPECTL_RUN_ID")]
    run_id: String,
    /// The stack, a dimension of the CloudWatch metrics.
    #[arg(long, env = "PIPECTL_STACK")]
    stack: Option<String>,
    /// The phase, the other dimension (default: the subcommand).
    #[arg(long, env = "PIPECTL_PHASE")]
    phase: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Reads the corpus from the input bucket, trains, writes weights and metrics to the model bucket.
    Train {
        #[command(flatten)]
        run: Run,
        #[command(flatten)]
        o: TrainOptions,
    },
    /// Loads the run's weights, answers a batch of prompts, writes samples and latency figures.
    Infer {
        #[command(flatten)]
        run: Run,
        #[command(flatten)]
        o: InferOptions,
    },
    /// Writes the model card (metrics, samples, cost so far) to the documentation bucket.
    Document {
        #[command(flatten)]
        run: Run,
        #[command(flatten)]
        o: DocumentOptions,
    },
    /// Puts the bundled corpus (or --file) into the input bucket.
    UploadCorpus {
        #[arg(long, env = "PIPECTL_BUCKET_INPUT_DATA")]
        input_bucket: String,
        #[arg(long, default_value = CORPUS_KEY)]
        key: String,
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
    /// Copies one object (a model card, a metrics file) out of a bucket.
    Download {
        #[arg(long)]
        bucket: String,
        #[arg(long)]
        key: String,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

fn region(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".into())
}

async fn context(cli_region: Option<String>, metrics: bool, run: Option<Run>, phase: &str) -> Ctx {
    // In a container on AWS there is no AWS_ENDPOINT_URL: the SDK's own endpoints. Locally the
    // job's environment (or the caller's) points at LocalStack.
    let real_aws = std::env::var("AWS_ENDPOINT_URL").map_or(true, |e| e.is_empty());
    let aws = connect(
        &AwsOptions {
            real_aws,
            max_attempts: 5,
            ..Default::default()
        },
        &region(cli_region),
    )
    .await;
    let (run_id, stack, phase) = match run {
        Some(r) => (
            r.run_id,
            r.stack,
            r.phase.unwrap_or_else(|| phase.to_string()),
        ),
        None => (String::new(), None, phase.to_string()),
    };
    Ctx {
        aws,
        run_id,
        stack,
        phase,
        metrics,
    }
}

async fn main_async(cli: Cli) -> Result<(), workload::Error> {
    let metrics = !cli.no_metrics;
    match cli.command {
        Command::Train { run, o } => {
            let c = &o.config;
            if o.steps == 0 || c.hidden == 0 || c.seq_len == 0 || c.learning_rate <= 0.0 {
                return Err(workload::Error::Input(
                    "--steps, --hidden, --seq-len and --learning-rate must be positive".into(),
                ));
            }
            let ctx = context(cli.region, metrics, Some(run), "train").await;
            workload::train(&ctx, &o).await.map(drop)
        }
        Command::Infer { run, o } => {
            let ctx = context(cli.region, metrics, Some(run), "infer").await;
            workload::infer(&ctx, &o).await.map(drop)
        }
        Command::Document { run, mut o } => {
            o.job_id = o.job_id.filter(|j| !j.is_empty());
            let ctx = context(cli.region, metrics, Some(run), "document").await;
            workload::document(&ctx, &o).await.map(drop)
        }
        Command::UploadCorpus {
            input_bucket,
            key,
            file,
        } => {
            let text = match &file {
                None => CORPUS.to_string(),
                Some(p) => std::fs::read_to_string(p)
                    .map_err(|e| workload::Error::Input(format!("{}: {e}", p.display())))?,
            };
            let ctx = context(cli.region, false, None, "upload-corpus").await;
            workload::upload_corpus(&ctx, &input_bucket, &key, &text).await
        }
        Command::Download { bucket, key, out } => {
            let ctx = context(cli.region, false, None, "download").await;
            let bytes = ctx.get(&bucket, &key).await?;
            match out {
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes),
                Some(p) => std::fs::write(&p, &bytes),
            }
            .map_err(|e| workload::Error::Input(format!("writing s3://{bucket}/{key}: {e}")))
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RNN_TEXTGEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .init();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(main_async(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rnn-textgen: error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("  hint: {h}");
            }
            ExitCode::FAILURE
        }
    }
}
