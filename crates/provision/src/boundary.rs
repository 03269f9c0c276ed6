//! The stack's permissions boundary in IAM: `up` checks that an administrator created it as
//! `pipectl bootstrap` writes it (before any change), and `bootstrap` creates it or makes the
//! spec's document its default version. The operator's own policy can read it and nothing more.

use aws_sdk_iam::types::PolicyVersion;
use pipectl_aws::{Aws, ResultExt};
use pipectl_spec::Spec;
use pipectl_spec::model::RoleMode;
use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::ProvisionError;
use crate::policies::{boundary_arn, boundary_document};

const IAM: &str = "iam";
const RESOURCE: &str = "permissions-boundary";

/// Whether the spec has pipectl create a role (which must then carry the boundary).
pub fn needed(spec: &Spec) -> bool {
    [&spec.iam.instance_role, &spec.iam.job_role]
        .into_iter()
        .any(|r| r.mode == RoleMode::Create)
}

/// The boundary's default version's document, or `None` when there is no such policy.
async fn current(aws: &Aws, arn: &str) -> Result<Option<Value>, ProvisionError> {
    let policy =
        match aws
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .ctx(IAM, "GetPolicy", RESOURCE)
        {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
    let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
        return Ok(None);
    };
    let got = aws
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .ctx(IAM, "GetPolicyVersion", RESOURCE)?;
    Ok(got
        .policy_version()
        .and_then(PolicyVersion::document)
        .map(parse_document))
}

/// IAM answers a policy document URL-encoded (RFC 3986); some endpoints answer it plain.
fn parse_document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
        serde_json::from_str(&decoded).unwrap_or(Value::Null)
    })
}

/// Before `up` changes anything: the boundary exists and is the spec's. Nothing to check when
/// the spec has pipectl create no role.
pub async fn check(ctx: &Ctx) -> Result<(), ProvisionError> {
    if !needed(&ctx.spec) {
        return Ok(());
    }
    let arn = boundary_arn(&ctx.spec, &ctx.account);
    let want = boundary_document(&ctx.spec, &ctx.account);
    match current(&ctx.aws, &arn).await? {
        Some(doc) if doc == want => Ok(()),
        found => Err(ProvisionError::Refused {
            resource: RESOURCE.into(),
            message: match found {
                None => format!(
                    "the stack's permissions boundary {arn} does not exist; every role pipectl creates must carry it"
                ),
                Some(_) => format!(
                    "the stack's permissions boundary {arn} is not this spec's (its buckets changed, or it was edited)"
                ),
            },
            hint: Some(
                "an administrator runs `pipectl bootstrap SPEC` once for this stack (pipectl's own policy cannot create or change it; `pipectl iam-policy SPEC --boundary` prints it)".into(),
            ),
        }),
    }
}

/// What `bootstrap` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bootstrapped {
    /// The policy was created.
    Created,
    /// It existed with another document: the spec's is its new default version.
    Updated,
    /// It was already the spec's.
    Unchanged,
}

/// Creates the stack's boundary, or makes the spec's document its default version (the oldest
/// other version deleted first when IAM's five are taken). An administrator's call.
pub async fn bootstrap(
    aws: &Aws,
    spec: &Spec,
    account: &str,
) -> Result<Bootstrapped, ProvisionError> {
    let arn = boundary_arn(spec, account);
    let want = boundary_document(spec, account);
    let text = want.to_string();
    match current(aws, &arn).await? {
        Some(doc) if doc == want => Ok(Bootstrapped::Unchanged),
        None => {
            aws.iam
                .create_policy()
                .policy_name(format!("pipectl-{}-boundary", spec.stack.name))
                .path("/pipectl/")
                .description(format!(
                    "pipectl {}: the permissions boundary of every role pipectl creates for this stack",
                    spec.stack.name
                ))
                .policy_document(&text)
                .send()
                .await
                .ctx(IAM, "CreatePolicy", RESOURCE)?;
            Ok(Bootstrapped::Created)
        }
        Some(_) => {
            let versions = aws
                .iam
                .list_policy_versions()
                .policy_arn(&arn)
                .send()
                .await
                .ctx(IAM, "ListPolicyVersions", RESOURCE)?;
            let mut old: Vec<&PolicyVersion> = versions
                .versions()
                .iter()
                .filter(|v| !v.is_default_version())
                .collect();
            old.sort_by_key(|v| v.create_date().map(aws_sdk_iam::primitives::DateTime::secs));
            if versions.versions().len() >= 5
                && let Some(oldest) = old.first().and_then(|v| v.version_id())
            {
                aws.iam
                    .delete_policy_version()
                    .policy_arn(&arn)
                    .version_id(oldest)
                    .send()
                    .await
                    .ctx(IAM, "DeletePolicyVersion", RESOURCE)?;
            }
            aws.iam
                .create_policy_version()
                .policy_arn(&arn)
                .policy_document(&text)
                .set_as_default(true)
                .send()
                .await
                .ctx(IAM, "CreatePolicyVersion", RESOURCE)?;
            Ok(Bootstrapped::Updated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_reads_back_encoded_or_plain() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(parse_document(plain), parse_document(encoded));
        assert_eq!(parse_document(plain)["Version"], "2012-10-17");
    }
}
