//! A credential provider that fails is reported as a credentials error (not "AWS unreachable",
//! not retried), with a hint to sign in. No request leaves this machine: signing fails first.

use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError, future};
use pipectl_aws::{ErrorKind, ResultExt};

#[derive(Debug)]
struct Expired;

impl ProvideCredentials for Expired {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::provider_error(
            "the SSO session has expired",
        )))
    }
}

#[tokio::test]
async fn a_failing_credential_provider_is_a_credentials_error() {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(Expired)
        .build();
    let sts = aws_sdk_sts::Client::from_conf(conf);
    let err = sts
        .get_caller_identity()
        .send()
        .await
        .ctx("sts", "GetCallerIdentity", "account")
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Credentials, "{err}");
    assert!(!err.is_transient(), "not retried");
    assert!(err.hint().unwrap().contains("aws sso login"));
}
