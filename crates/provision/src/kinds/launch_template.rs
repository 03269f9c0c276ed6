//! The launch templates Batch launches instances with: IMDSv2 required, encrypted gp3 root
//! volume, an EFA interface where the spec's EFA mode and the instance types allow it, user
//! data that mounts FSx for Lustre. None of it changes in place: a compute environment keeps
//! the version it was created with.

use aws_sdk_ec2::types::{
    LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataEndpointState,
    LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest,
    LaunchTemplateTagSpecificationRequest, RequestLaunchTemplateData, ResourceType,
    ShutdownBehavior, Tag, VolumeType,
};
use pipectl_aws::ResultExt;
use pipectl_spec::graph::{Kind, Payload, Resource, ResourceId};

use super::ec2::{EC2, stack_filter, tag, tag_spec};
use super::{Handler, Observed};
use crate::ctx::{Ctx, Drift, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::user_data::LustreMount;

pub(crate) struct LaunchTemplate;

impl Handler for LaunchTemplate {
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let lts = ec2
            .describe_launch_templates()
            .filters(stack_filter(ctx))
            .send()
            .await;
        let mut out = Vec::new();
        let lts = lts.ctx(EC2, "DescribeLaunchTemplates", "launch templates")?;
        for t in lts.launch_templates() {
            let Some(l) = tag(t.tags(), TAG_RESOURCE)
                .filter(|_| tag(t.tags(), TAG_STACK) == Some(ctx.stack.as_str()))
            else {
                continue;
            };
            let ltid = t.launch_template_id().unwrap_or_default();
            let version = t.latest_version_number().unwrap_or(1);
            let v = ec2
                .describe_launch_template_versions()
                .launch_template_id(ltid)
                .versions(version.to_string())
                .send()
                .await
                .ctx(EC2, "DescribeLaunchTemplateVersions", l)?;
            let data = v
                .launch_template_versions()
                .first()
                .and_then(|v| v.launch_template_data());
            let tokens = data
                .and_then(|d| d.metadata_options())
                .and_then(|m| m.http_tokens())
                .map_or("optional", |t| t.as_str());
            let hops = data
                .and_then(|d| d.metadata_options())
                .and_then(aws_sdk_ec2::types::LaunchTemplateInstanceMetadataOptions::http_put_response_hop_limit)
                .unwrap_or(1);
            let encrypted = data
                .map(aws_sdk_ec2::types::ResponseLaunchTemplateData::block_device_mappings)
                .unwrap_or_default()
                .iter()
                .all(|b| {
                    b.ebs()
                        .and_then(aws_sdk_ec2::types::LaunchTemplateEbsBlockDevice::encrypted)
                        == Some(true)
                });
            let iface = data
                .map(aws_sdk_ec2::types::ResponseLaunchTemplateData::network_interfaces)
                .unwrap_or_default()
                .first()
                .and_then(|n| n.interface_type())
                .unwrap_or("interface")
                .to_string();
            let live = Live::new(ltid, "exists")
                .attr("name", t.launch_template_name().unwrap_or_default())
                .attr("version", version.to_string())
                .attr("http-tokens", tokens)
                .attr("hop-limit", hops.to_string())
                .attr("encrypted", encrypted.to_string())
                .attr("interface", if iface == "efa" { "efa" } else { "ena" });
            out.push(Observed {
                kind: Kind::LaunchTemplate,
                logical: l.into(),
                live,
            });
        }

        Ok(out)
    }

    fn drift(_ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
        template_drift(launch_template(r).1, live)
    }

    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id: &str = &r.id.to_string();
        let (ce_key, efa, mounts_fsx) = launch_template(r);
        let ce = &ctx.spec.compute_environments[ce_key];
        let sg = ctx.dep(&ResourceId::SecurityGroup)?.physical_id;
        let mut data = template_data(ctx, id, &r.name, ce.root_volume.bytes());
        if efa {
            data = data.network_interfaces(
                LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                    .device_index(0)
                    .interface_type("efa")
                    .groups(&sg)
                    .delete_on_termination(true)
                    .build(),
            );
        }
        let mut live = Live::new("", "exists");
        let fsx = if mounts_fsx {
            Some(ctx.dep(&ResourceId::FileSystem)?)
        } else {
            None
        };
        let path = ctx
            .spec
            .fsx
            .as_ref()
            .map_or("/fsx", |f| f.mount_path.as_str());
        let mount = fsx.as_ref().map(|f| LustreMount {
            dns: f.get("dns"),
            mount_name: f.get("mount-name"),
            path,
        });
        if let Some(text) = crate::user_data::render(mount.as_ref(), efa) {
            data = data.user_data(base64(text.as_bytes()));
        }
        if let Some(m) = &mount {
            live = live.attr(
                "mounts",
                format!("{}@tcp:/{} on {}", m.dns, m.mount_name, m.path),
            );
        }
        // A failed set-up shuts the instance down (see user_data): terminate, not stop.
        data = data.instance_initiated_shutdown_behavior(ShutdownBehavior::Terminate);
        let req = ec2
            .create_launch_template()
            .launch_template_name(&r.name)
            .launch_template_data(data.build())
            .tag_specifications(tag_spec(ctx, ResourceType::LaunchTemplate, id, &r.name));
        let token = ctx.client_token(id, req.as_input());
        let out = req
            .client_token(token)
            .send()
            .await
            .ctx(EC2, "CreateLaunchTemplate", id)?;
        let t = out.launch_template();
        live.physical_id = t
            .and_then(|t| t.launch_template_id())
            .unwrap_or_default()
            .to_string();
        Ok(live
            .attr("name", &r.name)
            .attr(
                "version",
                t.and_then(aws_sdk_ec2::types::LaunchTemplate::latest_version_number)
                    .unwrap_or(1)
                    .to_string(),
            )
            .attr("http-tokens", "required")
            .attr("hop-limit", "1")
            .attr("encrypted", "true")
            .attr("interface", if efa { "efa" } else { "ena" }))
    }

    async fn delete(ctx: &Ctx, o: &Observed, _keep_data: bool) -> Result<(), ProvisionError> {
        let ec2 = &ctx.aws.ec2;
        let id = o.logical.as_str();
        match ec2
            .delete_launch_template()
            .launch_template_id(&o.live.physical_id)
            .send()
            .await
            .ctx(EC2, "DeleteLaunchTemplate", id)
            .map(drop)
        {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map_err(Into::into),
        }
    }
}

/// IMDSv2 only with hop limit 1, the encrypted gp3 root volume, and the stack's tags on the
/// instances and their volumes.
fn template_data(
    ctx: &Ctx,
    id: &str,
    name: &str,
    root_volume_bytes: u64,
) -> aws_sdk_ec2::types::builders::RequestLaunchTemplateDataBuilder {
    let mut tags =
        LaunchTemplateTagSpecificationRequest::builder().resource_type(ResourceType::Instance);
    let mut vtags =
        LaunchTemplateTagSpecificationRequest::builder().resource_type(ResourceType::Volume);
    for (k, v) in ctx.tags(id, name) {
        tags = tags.tags(Tag::builder().key(&k).value(&v).build());
        vtags = vtags.tags(Tag::builder().key(k).value(v).build());
    }
    RequestLaunchTemplateData::builder()
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                // 1: containers (one hop further) cannot reach IMDS and take the
                // instance's credentials; jobs get theirs from their job role.
                .http_put_response_hop_limit(1)
                .build(),
        )
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name("/dev/xvda")
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .volume_size(i32::try_from(root_volume_bytes / (1 << 30)).unwrap_or(100))
                        .volume_type(VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .tag_specifications(tags.build())
        .tag_specifications(vtags.build())
}

/// What a launch template is built from: its compute environment's key, an EFA interface,
/// a Lustre mount.
fn launch_template(r: &Resource) -> (&str, bool, bool) {
    match &r.payload {
        Payload::LaunchTemplate {
            compute_environment,
            efa,
            mounts_fsx,
        } => (compute_environment, *efa, *mounts_fsx),
        _ => unreachable!("a launch template's payload"),
    }
}

/// Standard base64, as EC2 wants launch-template user data.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            s.push(if i <= c.len() {
                A[((n >> shift) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    s
}

/// What AWS has against what the template must be: IMDSv2 only, hop limit 1, an encrypted
/// root volume, and the right network interface.
fn template_drift(efa: bool, live: &Live) -> Vec<Drift> {
    let mut d = Vec::new();
    if live.get("http-tokens") != "required" {
        d.push(Drift::new(
            "IMDS tokens",
            "required",
            live.get("http-tokens"),
            false,
        ));
    }
    if live.get("hop-limit") != "1" {
        d.push(Drift::new(
            "IMDS hop limit",
            "1",
            live.get("hop-limit"),
            false,
        ));
    }
    if live.get("encrypted") != "true" {
        d.push(Drift::new("root volume encryption", "on", "off", false));
    }
    let want = if efa { "efa" } else { "ena" };
    if live.get("interface") != want {
        d.push(Drift::new(
            "network interface",
            want,
            live.get("interface"),
            false,
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Live {
        Live::new("lt-1", "exists")
            .attr("http-tokens", "required")
            .attr("hop-limit", "1")
            .attr("encrypted", "true")
            .attr("interface", "efa")
    }

    #[test]
    fn a_template_as_built_has_no_drift() {
        assert!(template_drift(true, &good()).is_empty());
    }

    #[test]
    fn each_difference_replaces_the_template() {
        let d = template_drift(
            false,
            &good()
                .attr("http-tokens", "optional")
                .attr("hop-limit", "2"),
        );
        let what: Vec<&str> = d.iter().map(|d| d.what.as_str()).collect();
        assert_eq!(what, ["IMDS tokens", "IMDS hop limit", "network interface"]);
        assert!(d.iter().all(|d| !d.in_place));
        let d = template_drift(true, &good().attr("encrypted", "false"));
        assert_eq!(
            d,
            vec![Drift::new("root volume encryption", "on", "off", false)]
        );
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
