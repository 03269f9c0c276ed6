//! The one place where SDK configuration is built: endpoint (LocalStack by default, real AWS
//! with `--aws`), region, profile, credentials, retries, and the call-counting interceptor on
//! every client.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::calls::{CallLog, CountCalls};
use crate::error::{AwsError, ResultExt};

/// The local default: LocalStack as `localstack/start` runs it.
pub const LOCAL_ENDPOINT: &str = "http://127.0.0.1:4566";

/// How to reach AWS: endpoint, region, profile, retries (the CLI's global options).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Talk to real AWS (the SDK's endpoint resolution) instead of the local endpoint.
    pub real_aws: bool,
    /// Endpoint override; else `AWS_ENDPOINT_URL`, else [`LOCAL_ENDPOINT`] (unless `real_aws`).
    pub endpoint_url: Option<String>,
    /// Named profile of the AWS config/credentials files (`--profile`); None: the default chain.
    pub profile: Option<String>,
    /// Region override; else the spec's.
    pub region: Option<String>,
    /// SDK attempts per call (standard retry mode, exponential backoff with jitter).
    pub max_attempts: u32,
    /// Sent in every request's User-Agent (`app/NAME`): the pipectl binary names itself, so
    /// that its requests can be told from others (the local AWS's request log, CloudTrail).
    pub app_name: Option<String>,
}

impl AwsOptions {
    /// The endpoint calls go to, or `None` for AWS's own.
    pub fn endpoint(&self) -> Option<String> {
        if self.real_aws {
            return self.endpoint_url.clone();
        }
        self.endpoint_url
            .clone()
            .or_else(|| {
                std::env::var("AWS_ENDPOINT_URL")
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .or_else(|| Some(LOCAL_ENDPOINT.to_string()))
    }
}

/// Clients for every service pipectl uses, sharing one configuration and one call log.
#[derive(Debug, Clone)]
pub struct Aws {
    /// EC2: VPC, subnets, gateways, endpoints, security groups, launch templates, placement groups.
    pub ec2: aws_sdk_ec2::Client,
    /// IAM: the stack's roles and instance profiles.
    pub iam: aws_sdk_iam::Client,
    /// Batch: compute environments, job queues, job definitions and jobs.
    pub batch: aws_sdk_batch::Client,
    /// FSx: the Lustre file system and its data repository associations.
    pub fsx: aws_sdk_fsx::Client,
    /// S3: the stack's buckets; path-style addressing whenever an endpoint is set (LocalStack).
    pub s3: aws_sdk_s3::Client,
    /// CloudWatch: the runner's metrics and the stack's dashboard.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// CloudWatch Logs: the stack's log group and the jobs' log streams.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// STS: the account id (`GetCallerIdentity`).
    pub sts: aws_sdk_sts::Client,
    /// EventBridge: the stack's rule for Batch's job state-change events.
    pub events: aws_sdk_eventbridge::Client,
    /// SQS: the stack's queue those events are delivered to, read by `run`.
    pub sqs: aws_sdk_sqs::Client,
    /// Every operation made through these clients, counted.
    pub calls: CallLog,
    /// Region every client calls: [`AwsOptions::region`], else the spec's `[stack] region`.
    pub region: String,
    /// Endpoint in use ([`AwsOptions::endpoint`]); None when calling AWS's own endpoints.
    pub endpoint: Option<String>,
    /// The account, once STS has said it (one call per connection).
    account: std::sync::Arc<std::sync::OnceLock<String>>,
}

async fn sdk_config(opts: &AwsOptions, region: &str) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(opts.max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(20));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .retry_config(retry);
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(app) = opts
        .app_name
        .as_deref()
        .and_then(|a| aws_types::app_name::AppName::new(a.to_string()).ok())
    {
        loader = loader.app_name(app);
    }
    let endpoint = opts.endpoint();
    if let Some(url) = &endpoint {
        loader = loader.endpoint_url(url);
        // A local endpoint needs no real credentials; never look for (or print) any.
        let has_env_creds = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
        if !opts.real_aws && !has_env_creds && opts.profile.is_none() {
            loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "pipectl-local",
            ));
        }
    }
    loader.load().await
}

/// Whether a named profile is in the AWS config or credentials files (as the SDK reads them:
/// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` or the files under ~/.aws).
pub async fn profile_exists(name: &str) -> bool {
    use aws_runtime::env_config::file::EnvConfigFiles;
    use aws_types::os_shim_internal::{Env, Fs};
    match aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
        .await
    {
        Ok(set) => set.get_profile(name).is_some(),
        Err(_) => false,
    }
}

/// Builds every client. No network call is made until a client is used.
pub async fn connect(opts: &AwsOptions, spec_region: &str) -> Aws {
    let region = opts
        .region
        .clone()
        .unwrap_or_else(|| spec_region.to_string());
    let cfg = sdk_config(opts, &region).await;
    let calls = CallLog::default();
    let endpoint = opts.endpoint();
    let counting = CountCalls(calls.clone());
    macro_rules! client {
        ($krate:ident) => {
            $krate::Client::from_conf(
                $krate::config::Builder::from(&cfg)
                    .interceptor(counting.clone())
                    .build(),
            )
        };
    }
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .interceptor(counting.clone())
            .force_path_style(endpoint.is_some())
            .build(),
    );
    Aws {
        ec2: client!(aws_sdk_ec2),
        iam: client!(aws_sdk_iam),
        batch: client!(aws_sdk_batch),
        fsx: client!(aws_sdk_fsx),
        s3,
        cloudwatch: client!(aws_sdk_cloudwatch),
        logs: client!(aws_sdk_cloudwatchlogs),
        sts: client!(aws_sdk_sts),
        events: client!(aws_sdk_eventbridge),
        sqs: client!(aws_sdk_sqs),
        calls,
        region,
        endpoint,
        account: Default::default(),
    }
}

impl Aws {
    /// The account the credentials belong to (one STS call per connection, remembered).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        if let Some(account) = self.account.get() {
            return Ok(account.clone());
        }
        let out = self.sts.get_caller_identity().send().await.ctx(
            "sts",
            "GetCallerIdentity",
            "account",
        )?;
        let account = out.account().unwrap_or_default().to_string();
        Ok(self.account.get_or_init(|| account).clone())
    }

    /// Whether calls go to a local emulator rather than AWS.
    pub fn is_local(&self) -> bool {
        self.endpoint
            .as_deref()
            .is_some_and(|e| e.contains("127.0.0.1") || e.contains("localhost"))
    }
}
