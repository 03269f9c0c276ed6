//! The instance profile that carries the ECS instance role to Batch's instances.

use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Resource, ResourceId};

use super::iam::{IAM, owned, tags};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;

pub(crate) struct InstanceProfile;

impl Handler for InstanceProfile {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let iam = &ctx.aws.iam;
        let path = ctx.iam_path();
        let profiles = iam.list_instance_profiles().path_prefix(&path).send().await;
        let mut out = Vec::new();
        for p in profiles
            .ctx(IAM, "ListInstanceProfiles", "instance profiles")?
            .instance_profiles()
        {
            let name = p.instance_profile_name();
            let t = iam
                .list_instance_profile_tags()
                .instance_profile_name(name)
                .send()
                .await
                .ctx(IAM, "ListInstanceProfileTags", name)?;
            let Some(logical) = owned(t.tags(), &ctx.stack) else {
                continue;
            };
            let roles: Vec<&str> = p
                .roles()
                .iter()
                .map(aws_sdk_iam::types::Role::role_name)
                .collect();
            let live = Live::new(name, "exists")
                .arn(Some(p.arn()))
                .attr("roles", roles.join(","));
            out.push(Observed {
                kind: Kind::InstanceProfile,
                logical,
                live,
            });
        }

        Ok(out)
    }

    fn drift(ctx: &Ctx, _r: &Resource, live: &Live) -> Vec<Drift> {
        let role = ctx
            .output(&ResourceId::EcsInstanceRole)
            .map(|l| l.physical_id)
            .unwrap_or_default();
        if live.get("roles") == role {
            vec![]
        } else {
            vec![Drift::new("role", role, live.get("roles"), true)]
        }
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let iam = &ctx.aws.iam;
        let id: &str = &r.id.to_string();
        let out = iam
            .create_instance_profile()
            .instance_profile_name(&r.name)
            .path(ctx.iam_path())
            .set_tags(Some(tags(ctx, id, &r.name)))
            .send()
            .await
            .ctx(IAM, "CreateInstanceProfile", id)?;
        let arn = out.instance_profile().map(|p| p.arn().to_string());
        let live = Live::new(&r.name, "exists").arn(arn.as_deref());
        Self::update(ctx, r, &live, &[Drift::new("role", "", "", true)]).await
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
        if drifts.iter().any(|d| d.in_place) {
            let role = ctx.dep(&ResourceId::EcsInstanceRole)?.physical_id;
            iam.add_role_to_instance_profile()
                .instance_profile_name(&live.physical_id)
                .role_name(&role)
                .send()
                .await
                .ctx(IAM, "AddRoleToInstanceProfile", id)?;
            live = live.attr("roles", role);
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
        for role in o.live.get("roles").split(',').filter(|r| !r.is_empty()) {
            gone(
                iam.remove_role_from_instance_profile()
                    .instance_profile_name(name)
                    .role_name(role)
                    .send()
                    .await
                    .ctx(IAM, "RemoveRoleFromInstanceProfile", id)
                    .map(drop),
            )?;
        }
        gone(
            iam.delete_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .ctx(IAM, "DeleteInstanceProfile", id)
                .map(drop),
        )
    }
}
