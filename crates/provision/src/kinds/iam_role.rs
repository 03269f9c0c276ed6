//! The stack's IAM roles, under the path `/pipectl/<stack>/`, each with the stack's permissions
//! boundary (`crate::policies::boundary_document`): the ECS instance role with the AWS managed
//! policy the seed names (and no more), and the jobs' own role with an inline least-privilege
//! policy. (The Batch service role is Batch's service-linked role or one the spec names:
//! validation refuses to create one.)

use aws_sdk_iam::types::Tag;
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Payload, Resource, Role};

use super::iam::{IAM, owned, tags};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;
use crate::policies::{boundary_arn, trust};

pub(crate) struct IamRole;

impl Handler for IamRole {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let iam = &ctx.aws.iam;
        let path = ctx.iam_path();
        let roles = iam.list_roles().path_prefix(&path).send().await;
        let mut out = Vec::new();
        for role in roles.ctx(IAM, "ListRoles", "roles")?.roles() {
            let name = role.role_name();
            let t =
                iam.list_role_tags()
                    .role_name(name)
                    .send()
                    .await
                    .ctx(IAM, "ListRoleTags", name)?;
            let Some(logical) = owned(t.tags(), &ctx.stack) else {
                continue;
            };
            let attached = iam
                .list_attached_role_policies()
                .role_name(name)
                .send()
                .await
                .ctx(IAM, "ListAttachedRolePolicies", name)?;
            let policies: Vec<&str> = attached
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn())
                .collect();
            // ListRoles leaves the boundary out: GetRole has it.
            let got = iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .ctx(IAM, "GetRole", name)?;
            let boundary = got
                .role()
                .and_then(|r| r.permissions_boundary())
                .and_then(|b| b.permissions_boundary_arn())
                .unwrap_or_default()
                .to_string();
            let policy_digest = t
                .tags()
                .iter()
                .find(|t| t.key() == TAG_POLICY_DIGEST)
                .map(|t| t.value().to_string())
                .unwrap_or_default();
            let live = Live::new(name, "exists")
                .arn(Some(role.arn()))
                .attr("policies", policies.join(","))
                .attr("boundary", boundary)
                .attr("policy-digest", policy_digest);
            out.push(Observed {
                kind: Kind::IamRole,
                logical,
                live,
            });
        }

        Ok(out)
    }

    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        let want_digest = match role_of(r) {
            Role::Job => digest(&job_policy(ctx)),
            _ => String::new(),
        };
        let mut drifts = role_drift(role_def(role_of(r)).1, &want_digest, live);
        let boundary = boundary_arn(&ctx.spec, &ctx.account);
        if live.get("boundary") != boundary {
            drifts.push(Drift::new(
                "permissions boundary",
                &boundary,
                live.get("boundary"),
                true,
            ));
        }
        drifts
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let iam = &ctx.aws.iam;
        let id: &str = &r.id.to_string();
        let (principal, policy) = role_def(role_of(r));
        let out = iam
            .create_role()
            .role_name(&r.name)
            .path(ctx.iam_path())
            .assume_role_policy_document(trust(principal, &ctx.aws.region, &ctx.account))
            .permissions_boundary(boundary_arn(&ctx.spec, &ctx.account))
            .description(format!(
                "pipectl {}: {}",
                ctx.stack,
                role_purpose(role_of(r))
            ))
            .set_tags(Some(tags(ctx, id, &r.name)))
            .send()
            .await
            .ctx(IAM, "CreateRole", id)?;
        let arn = out.role().map(|r| r.arn().to_string());
        let live = Live::new(&r.name, "exists")
            .arn(arn.as_deref())
            .attr("boundary", boundary_arn(&ctx.spec, &ctx.account));
        let drift = match policy {
            Some(p) => Drift::new("managed policy", p, "", true),
            None => Drift::new("inline policy", "", "", true),
        };
        Self::update(ctx, r, &live, &[drift]).await
    }

    async fn update(
        ctx: &Ctx,
        r: &Resource,
        live: &Live,
        drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        let iam = &ctx.aws.iam;
        let id: &str = &r.id.to_string();
        let mut live = live.clone();
        if drifts.iter().any(|d| d.what == "permissions boundary") {
            // before any policy: the boundary caps what the role's policies can grant
            let boundary = boundary_arn(&ctx.spec, &ctx.account);
            iam.put_role_permissions_boundary()
                .role_name(&live.physical_id)
                .permissions_boundary(&boundary)
                .send()
                .await
                .ctx(IAM, "PutRolePermissionsBoundary", id)?;
            live = live.attr("boundary", boundary);
        }
        if drifts
            .iter()
            .any(|d| d.in_place && d.what != "permissions boundary")
        {
            match role_def(role_of(r)) {
                (_, Some(policy)) => {
                    iam.attach_role_policy()
                        .role_name(&live.physical_id)
                        .policy_arn(policy)
                        .send()
                        .await
                        .ctx(IAM, "AttachRolePolicy", id)?;
                    live = live.attr("policies", policy);
                }
                (_, None) => {
                    let doc = job_policy(ctx);
                    iam.put_role_policy()
                        .role_name(&live.physical_id)
                        .policy_name(JOB_POLICY_NAME)
                        .policy_document(&doc)
                        .send()
                        .await
                        .ctx(IAM, "PutRolePolicy", id)?;
                    iam.tag_role()
                        .role_name(&live.physical_id)
                        .tags(
                            Tag::builder()
                                .key(TAG_POLICY_DIGEST)
                                .value(digest(&doc))
                                .build()
                                .expect("key and value set"),
                        )
                        .send()
                        .await
                        .ctx(IAM, "TagRole", id)?;
                    live = live.attr("policy-digest", digest(&doc));
                }
            }
        }
        Ok(live)
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let iam = &ctx.aws.iam;
        let id = o.logical.as_str();
        let name = o.live.physical_id.as_str();
        let gone = |r: Result<(), pipectl_aws::AwsError>| match r {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map_err(ProvisionError::from),
        };
        // A role goes only once nothing is attached to it or holds it.
        if let Some(p) = crate::wait::found(
            iam.list_instance_profiles_for_role()
                .role_name(name)
                .send()
                .await
                .ctx(IAM, "ListInstanceProfilesForRole", id),
        )? {
            for ip in p.instance_profiles() {
                gone(
                    iam.remove_role_from_instance_profile()
                        .instance_profile_name(ip.instance_profile_name())
                        .role_name(name)
                        .send()
                        .await
                        .ctx(IAM, "RemoveRoleFromInstanceProfile", id)
                        .map(drop),
                )?;
            }
        }
        for policy in o.live.get("policies").split(',').filter(|p| !p.is_empty()) {
            gone(
                iam.detach_role_policy()
                    .role_name(name)
                    .policy_arn(policy)
                    .send()
                    .await
                    .ctx(IAM, "DetachRolePolicy", id)
                    .map(drop),
            )?;
        }
        if let Some(inline) =
            crate::wait::found(iam.list_role_policies().role_name(name).send().await.ctx(
                IAM,
                "ListRolePolicies",
                id,
            ))?
        {
            for p in inline.policy_names() {
                gone(
                    iam.delete_role_policy()
                        .role_name(name)
                        .policy_name(p)
                        .send()
                        .await
                        .ctx(IAM, "DeleteRolePolicy", id)
                        .map(drop),
                )?;
            }
        }
        gone(
            iam.delete_role()
                .role_name(name)
                .send()
                .await
                .ctx(IAM, "DeleteRole", id)
                .map(drop),
        )
    }
}

/// Who may assume the role, and the managed policy it gets (none for the job role, whose
/// policy is inline: see [`job_policy`]).
fn role_def(role: Role) -> (&'static str, Option<&'static str>) {
    match role {
        Role::BatchService => (
            "batch.amazonaws.com",
            Some("arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole"),
        ),
        Role::Job => ("ecs-tasks.amazonaws.com", None),
        Role::EcsInstance => (
            "ec2.amazonaws.com",
            Some("arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"),
        ),
    }
}

/// Which of the stack's roles a resource is.
fn role_of(r: &Resource) -> Role {
    match &r.payload {
        Payload::IamRole(role) => *role,
        _ => unreachable!("an IAM role's payload"),
    }
}

/// What the role is for, in its description.
fn role_purpose(role: Role) -> &'static str {
    match role {
        Role::BatchService => "AWS Batch service role",
        Role::Job => "the jobs' own role (jobRoleArn)",
        Role::EcsInstance => "ECS container instances of AWS Batch",
    }
}

const JOB_POLICY_NAME: &str = "pipectl-job";

const TAG_POLICY_DIGEST: &str = "pipectl:policy-digest";

/// The job role's inline policy (see [`crate::policies::job_statements`]).
pub(crate) fn job_policy(ctx: &Ctx) -> String {
    crate::policies::job_policy(&crate::policies::bucket_names(&ctx.spec, &ctx.account))
}

fn digest(text: &str) -> String {
    crate::digest::hex_sha256(text, 8)
}

/// The managed policy a role must have attached, or (`None`: the job role) the digest its
/// inline policy must carry; both are fixed in place.
fn role_drift(managed: Option<&str>, want_digest: &str, live: &Live) -> Vec<Drift> {
    match managed {
        Some(policy) if !live.get("policies").split(',').any(|p| p == policy) => {
            vec![Drift::new(
                "managed policy",
                policy,
                live.get("policies"),
                true,
            )]
        }
        Some(_) => vec![],
        None if live.get("policy-digest") == want_digest => vec![],
        None => vec![Drift::new(
            "inline policy",
            want_digest,
            live.get("policy-digest"),
            true,
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_managed_policy_is_attached_in_place() {
        let (_, policy) = role_def(Role::BatchService);
        let live = Live::new("r", "exists").attr("policies", "arn:aws:iam::aws:policy/Other");
        let d = role_drift(policy, "", &live);
        assert_eq!(d.len(), 1);
        assert!(d[0].in_place && d[0].what == "managed policy");
        let live = live.attr("policies", format!("x,{}", policy.unwrap()));
        assert!(role_drift(policy, "", &live).is_empty());
    }

    #[test]
    fn the_job_role_follows_its_inline_policy_digest() {
        let (principal, policy) = role_def(Role::Job);
        assert_eq!((principal, policy), ("ecs-tasks.amazonaws.com", None));
        let live = Live::new("r", "exists").attr("policy-digest", "abc");
        assert!(role_drift(None, "abc", &live).is_empty());
        assert_eq!(
            role_drift(None, "def", &live),
            vec![Drift::new("inline policy", "def", "abc", true)]
        );
    }
}
