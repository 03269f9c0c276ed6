//! Compute's nodes: placement groups, one launch template and one compute environment per
//! compute environment of the spec.

use crate::model::ComputeEnvironment;

use super::build::{Builder, node};
use super::{Kind, Payload, ResourceId as Id};

pub(super) fn placement_groups(b: &mut Builder) {
    for (name, g) in &b.spec.placement_groups {
        b.add(
            node(
                Id::PlacementGroup(name.clone()),
                Kind::PlacementGroup,
                b.prefixed(name),
            )
            .show(vec![(
                "strategy",
                format!("{:?}", g.strategy).to_lowercase(),
            )])
            .payload(Payload::PlacementGroup {
                strategy: g.strategy,
            }),
        );
    }
}

/// Each compute environment and its launch template; `iam` and `subnets` are what they wait
/// for from the other families.
pub(super) fn compute_environments(b: &mut Builder, iam: &[Id], subnets: &[Id]) {
    for (name, ce) in &b.spec.compute_environments {
        launch_template(b, name, ce);
        let mut deps = vec![Id::LaunchTemplate(name.clone()), Id::SecurityGroup];
        deps.extend(iam.iter().cloned());
        let zones = b.spec.ce_zones(ce);
        deps.extend(
            zones
                .iter()
                .map(|z| Id::PrivateSubnet(z.clone()))
                .filter(|id| subnets.contains(id)),
        );
        deps.extend(ce.placement_group.clone().map(Id::PlacementGroup));
        let mut settings = vec![
            ("type", "MANAGED".to_string()),
            (
                "purchase",
                format!("{:?}", ce.purchase).replace("OnDemand", "On-Demand"),
            ),
            ("instance types", ce.instance_types.join(", ")),
            (
                "allocation",
                ce.effective_allocation_strategy().as_aws().into(),
            ),
            ("vCPUs", format!("{}-{}", ce.min_vcpus, ce.max_vcpus)),
            ("zones", zones.join(", ")),
            (
                "image",
                match &ce.image_id {
                    Some(id) => format!("{} on {id} (your own AMI)", ce.image_type()),
                    None => format!("{} (Batch's)", ce.image_type()),
                },
            ),
        ];
        if let Some(p) = ce.bid_percentage {
            settings.push(("bid", format!("{p}% of On-Demand")));
        }
        b.add(
            node(
                Id::ComputeEnvironment(name.clone()),
                Kind::ComputeEnvironment,
                format!("{}-{name}", b.spec.stack.name),
            )
            .after(deps)
            .show(settings)
            .payload(Payload::ComputeEnvironment { key: name.clone() }),
        );
    }
}

fn launch_template(b: &mut Builder, name: &str, ce: &ComputeEnvironment) {
    let interface = if ce.uses_efa() {
        "EFA"
    } else if ce.instance_types.iter().any(|t| ce.efa_on(t)) {
        "EFA where supported, else ENA"
    } else {
        "ENA"
    };
    // Mount Lustre only on instances that run a phase which reads it.
    let mounts_fsx = b.spec.ce_mounts_fsx(name);
    // Its user data names the file system's DNS and mount names, which CreateFileSystem
    // answers with while the file system is still CREATING: created is enough.
    let uses = mounts_fsx.then_some(Id::FileSystem);
    b.add(
        node(
            Id::LaunchTemplate(name.to_string()),
            Kind::LaunchTemplate,
            b.prefixed(name),
        )
        .after([Id::SecurityGroup])
        .uses(uses)
        .show(vec![
            ("network interface", interface.into()),
            (
                "IMDS",
                "v2 required, hop limit 1 (jobs use their job role)".into(),
            ),
            ("root volume", format!("{} gp3, encrypted", ce.root_volume)),
            (
                "user data",
                match (ce.uses_efa(), mounts_fsx) {
                    (true, true) => "installs the EFA driver, mounts FSx (Lustre client)".into(),
                    (true, false) => "installs the EFA driver".into(),
                    (false, true) => "mounts FSx (Lustre client)".into(),
                    (false, false) => "none".into(),
                },
            ),
            ("version", "pinned".into()),
        ])
        .payload(Payload::LaunchTemplate {
            compute_environment: name.to_string(),
            efa: ce.uses_efa(),
            mounts_fsx,
        }),
    );
}
