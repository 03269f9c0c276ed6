//! AWS errors as pipectl reports them: which resource, which service and operation, the error
//! code and message, what kind of failure it is, and a hint where one is known.

use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an AWS call ended in; decides retrying, the hint and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// AWS could not be reached (network, DNS, TLS, connection refused, timeout on the wire).
    Unreachable,
    /// AWS answered "slow down" and the SDK's retries ran out.
    Throttled,
    /// The resource does not exist.
    NotFound,
    /// AWS refused the request (validation, permissions, conflicts, limits).
    Refused,
    /// No usable credentials: none found in the chain, or AWS rejected them (expired session,
    /// unknown key). Not worth retrying: the user must sign in again.
    Credentials,
    /// Anything else (a response that could not be read, a request that could not be built).
    Other,
}

/// A failed AWS call: the resource, service and operation, the kind, AWS's code and message.
#[derive(Debug, Clone)]
pub struct AwsError {
    /// Service as the SDK names it, lower-case (`ec2`, `batch`, `fsx`).
    pub service: &'static str,
    /// API operation (`CreateVpc`), a row of [`crate::permissions::OPERATIONS`].
    pub operation: &'static str,
    /// What the call was about: a resource's logical id, or e.g. `account`.
    pub resource: String,
    /// The kind of failure, from the SDK error and AWS's code.
    pub kind: ErrorKind,
    /// AWS's error code (`InvalidVpcID.NotFound`); None when AWS gave none or was not reached.
    pub code: Option<String>,
    /// AWS's message, or what went wrong before an answer (unreachable, no credentials).
    pub message: String,
}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "EC2ThrottledException",
];

impl AwsError {
    /// Classifies an SDK error of `service`:`operation` about `resource`.
    pub fn from_sdk<E, R>(
        err: &SdkError<E, R>,
        service: &'static str,
        operation: &'static str,
        resource: impl Into<String>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let chain = source_chain(err);
        let (kind, code, message) = match err {
            // The Rust SDK reports a credential chain that found nothing (or failed) as a
            // failure to dispatch the request, which is no network failure.
            _ if !matches!(err, SdkError::ServiceError(_)) && is_credentials_failure(&chain) => (
                ErrorKind::Credentials,
                None,
                format!("no usable AWS credentials: {chain}"),
            ),
            SdkError::DispatchFailure(e) => {
                let why = e
                    .as_connector_error()
                    .map_or_else(|| format!("{e:?}"), |c| source_chain(c));
                (
                    ErrorKind::Unreachable,
                    None,
                    format!("could not reach AWS: {why}"),
                )
            }
            SdkError::TimeoutError(_) => (
                ErrorKind::Unreachable,
                None,
                "timed out waiting for AWS to answer".to_string(),
            ),
            SdkError::ServiceError(e) => {
                let inner = e.err();
                let code = inner.code().map(str::to_string);
                let message = inner
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| inner.to_string());
                (classify_code(code.as_deref(), &message), code, message)
            }
            other => (
                ErrorKind::Other,
                other.code().map(str::to_string),
                source_chain(other),
            ),
        };
        AwsError {
            service,
            operation,
            resource: resource.into(),
            kind,
            code,
            message,
        }
    }

    /// Whether AWS says the resource does not exist (nothing to delete, or not created yet).
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Worth another try later: AWS unreachable or throttling.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, ErrorKind::Unreachable | ErrorKind::Throttled)
    }

    /// What the user can do: sign in, start the endpoint, wait out throttling, add a permission.
    pub fn hint(&self) -> Option<&'static str> {
        match (self.kind, self.code.as_deref()) {
            (ErrorKind::Credentials, _) => Some(
                "sign in: `aws configure` (access keys), or `aws sso login --profile NAME` when an SSO session expired; pipectl reads the standard chain (environment, --profile, SSO, instance role)",
            ),
            (ErrorKind::Unreachable, _) => Some(
                "is the endpoint up? locally: localstack/start; on AWS: check network and --region",
            ),
            (ErrorKind::Throttled, _) => Some(
                "AWS is throttling this account; wait and run the command again (it resumes where it stopped)",
            ),
            (_, Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation")) => Some(
                "the credentials lack a permission; `pipectl iam-policy SPEC` prints the policy pipectl needs (docs/commands.md, \"IAM permissions\")",
            ),
            _ => None,
        }
    }
}

/// Codes with which AWS rejects the credentials themselves.
const BAD_CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "RequestExpired",
];

/// What the SDK's credential providers say when they have nothing to sign with.
fn is_credentials_failure(chain: &str) -> bool {
    let c = chain.to_ascii_lowercase();
    c.contains("credential provider")
        || c.contains("credentials provider")
        || c.contains("loading credentials")
        || c.contains("credentialsnotloaded")
        || c.contains("credentials error")
        || c.contains("access token provider")
        || c.contains("sso session")
}

fn classify_code(code: Option<&str>, message: &str) -> ErrorKind {
    match code {
        Some(c) if THROTTLING.contains(&c) => ErrorKind::Throttled,
        Some(c) if BAD_CREDENTIALS.contains(&c) => ErrorKind::Credentials,
        Some(c)
            if c.contains("NotFound")
                || c.ends_with(".NotFound")
                || c.ends_with(".Unknown")
                || c == "NoSuchEntity"
                || c == "NoSuchBucket"
                || c == "FileSystemNotFound"
                // SQS: the JSON protocol's code, and the query protocol's it also sends
                || c == "QueueDoesNotExist"
                || c == "AWS.SimpleQueueService.NonExistentQueue" =>
        {
            ErrorKind::NotFound
        }
        Some("ClientException") if message.contains("does not exist") => ErrorKind::NotFound,
        Some(_) => ErrorKind::Refused,
        None => ErrorKind::Other,
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}:{} failed",
            self.resource, self.service, self.operation
        )?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for AwsError {}

/// `.ctx("ec2", "CreateVpc", "vpc")` on an SDK result.
pub trait ResultExt<T> {
    /// Turns an SDK error into an [`AwsError`] naming the service, operation and resource.
    fn ctx(
        self,
        service: &'static str,
        operation: &'static str,
        resource: impl Into<String>,
    ) -> Result<T, AwsError>;
}

impl<T, E, R> ResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    fn ctx(
        self,
        service: &'static str,
        operation: &'static str,
        resource: impl Into<String>,
    ) -> Result<T, AwsError> {
        self.map_err(|e| AwsError::from_sdk(&e, service, operation, resource))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(
            classify_code(Some("TooManyRequestsException"), ""),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify_code(Some("RequestLimitExceeded"), ""),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify_code(Some("InvalidVpcID.NotFound"), ""),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify_code(Some("InvalidPlacementGroup.Unknown"), ""),
            ErrorKind::NotFound
        );
        assert_eq!(classify_code(Some("NoSuchEntity"), ""), ErrorKind::NotFound);
        for sqs in [
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
        ] {
            assert_eq!(classify_code(Some(sqs), ""), ErrorKind::NotFound, "{sqs}");
        }
        assert_eq!(
            classify_code(Some("ResourceNotFoundException"), ""),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify_code(Some("ExpiredToken"), ""),
            ErrorKind::Credentials
        );
        assert_eq!(
            classify_code(Some("InvalidClientTokenId"), ""),
            ErrorKind::Credentials
        );
        assert!(is_credentials_failure(
            "dispatch failure: other: the credential provider was not enabled"
        ));
        assert!(!is_credentials_failure(
            "dispatch failure: io error: connection refused"
        ));
        assert_eq!(
            classify_code(Some("ClientException"), "Job queue q does not exist"),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify_code(
                Some("ClientException"),
                "Cannot delete, found existing JobQueue relationship"
            ),
            ErrorKind::Refused
        );
    }
}
