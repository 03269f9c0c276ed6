//! Error paths the local AWS cannot produce (it enforces no IAM and its tokens never expire),
//! with `aws-smithy-mocks`: how such answers are classified, which exit code and hint follow.

use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use pipectl_aws::{AwsError, ErrorKind, ResultExt};

fn answer(code: &'static str, message: &'static str) -> AwsError {
    let rule = mock!(aws_sdk_sts::Client::get_caller_identity).then_error(move || {
        GetCallerIdentityError::generic(
            ErrorMetadata::builder().code(code).message(message).build(),
        )
    });
    let client = mock_client!(aws_sdk_sts, RuleMode::Sequential, &[&rule]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(client.get_caller_identity().send())
        .ctx("sts", "GetCallerIdentity", "account")
        .unwrap_err()
}

#[test]
fn access_denied_is_a_refusal_with_a_permissions_hint() {
    let e = answer(
        "AccessDenied",
        "User: arn:aws:iam::1:user/x is not authorized to perform: sts:GetCallerIdentity",
    );
    assert_eq!(e.kind, ErrorKind::Refused);
    assert!(!e.is_transient());
    assert_eq!(e.code.as_deref(), Some("AccessDenied"));
    let text = e.to_string();
    assert!(
        text.starts_with("account: sts:GetCallerIdentity failed (AccessDenied): User:"),
        "{text}"
    );
    assert!(e.hint().unwrap().contains("IAM permissions"));
}

#[test]
fn expired_credentials_point_at_the_profile() {
    let e = answer(
        "ExpiredToken",
        "The security token included in the request is expired",
    );
    // its own kind: not retried, and the hint says how to sign in again
    assert_eq!(e.kind, ErrorKind::Credentials);
    assert!(!e.is_transient());
    assert!(e.hint().unwrap().contains("aws sso login --profile"));
}

#[test]
fn throttling_left_after_the_retries_is_transient() {
    let e = answer("Throttling", "Rate exceeded");
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert!(e.is_transient());
    assert!(e.hint().unwrap().contains("resumes"));
}
