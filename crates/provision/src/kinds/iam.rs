//! What the IAM kinds share: ownership by tags, the tags they are created with, and the
//! check of roles the spec says already exist.

use aws_sdk_iam::types::Tag;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::ResourceId;
use pipectl_spec::model::RoleMode;

use crate::ctx::{Ctx, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;

pub(super) const IAM: &str = "iam";

pub(super) fn tags(ctx: &Ctx, id: &str, name: &str) -> Vec<Tag> {
    ctx.tags(id, name)
        .into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

pub(super) fn owned(tags: &[Tag], stack: &str) -> Option<String> {
    let get = |k: &str| {
        tags.iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    (get(TAG_STACK).as_deref() == Some(stack))
        .then(|| get(TAG_RESOURCE))
        .flatten()
}

/// Checks the roles the spec says exist (`mode = "existing"`): a missing one stops `up` before
/// any change.
pub(crate) async fn check_existing(ctx: &Ctx) -> Result<(), ProvisionError> {
    let iam = &ctx.aws.iam;
    for (what, role) in [
        ("service_role", &ctx.spec.iam.service_role),
        ("instance_role", &ctx.spec.iam.instance_role),
        ("job_role", &ctx.spec.iam.job_role),
    ] {
        if role.mode != RoleMode::Existing {
            continue;
        }
        let name = role.name.as_deref().unwrap_or_default();
        let at = format!("iam.{what} {name}");
        let r = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .ctx(IAM, "GetRole", &at)?;
        let arn = r.role().map(|r| r.arn().to_string());
        if what == "instance_role" {
            let p = iam
                .get_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .ctx(IAM, "GetInstanceProfile", &at)?;
            let parn = p.instance_profile().map(|p| p.arn().to_string());
            ctx.set_output(
                &ResourceId::InstanceProfile,
                Live::new(name, "exists").arn(parn.as_deref()),
            );
        } else {
            let id = if what == "job_role" {
                ResourceId::JobRole
            } else {
                ResourceId::BatchServiceRole
            };
            ctx.set_output(&id, Live::new(name, "exists").arn(arn.as_deref()));
        }
    }
    Ok(())
}
