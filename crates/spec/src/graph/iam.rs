//! IAM's nodes: the Batch service role, the ECS instance role and its profile, the jobs' role
//! (each only when the spec asks pipectl to create it).

use crate::model::RoleMode;

use super::build::{Builder, node};
use super::{Kind, Payload, ResourceId as Id, Role};

/// The roles; returns what a compute environment waits for.
pub(super) fn roles(b: &mut Builder) -> Vec<Id> {
    let iam = &b.spec.iam;
    let mut ce_deps = Vec::new();
    if iam.service_role.mode == RoleMode::Create {
        let name = b.role_name(&iam.service_role, "batch-service");
        b.add(
            node(Id::BatchServiceRole, Kind::IamRole, name)
                .show(vec![
                    ("trust", "batch.amazonaws.com".into()),
                    ("policy", "service-role/AWSBatchServiceRole".into()),
                ])
                .payload(Payload::IamRole(Role::BatchService)),
        );
        ce_deps.push(Id::BatchServiceRole);
    }
    if iam.instance_role.mode == RoleMode::Create {
        let name = b.role_name(&iam.instance_role, "ecs-instance");
        b.add(
            node(Id::EcsInstanceRole, Kind::IamRole, &name)
                .show(vec![
                    ("trust", "ec2.amazonaws.com".into()),
                    (
                        "policy",
                        "service-role/AmazonEC2ContainerServiceforEC2Role".into(),
                    ),
                ])
                .payload(Payload::IamRole(Role::EcsInstance)),
        );
        b.add(node(Id::InstanceProfile, Kind::InstanceProfile, name).after([Id::EcsInstanceRole]));
        ce_deps.push(Id::InstanceProfile);
    }
    if iam.job_role.mode == RoleMode::Create {
        let name = b.role_name(&iam.job_role, "job");
        b.add(
            node(Id::JobRole, Kind::IamRole, name)
                .show(vec![
                    ("trust", "ecs-tasks.amazonaws.com".into()),
                    (
                        "policy",
                        "inline: its buckets, PutMetricData in Pipectl*, Batch describe calls"
                            .into(),
                    ),
                ])
                .payload(Payload::IamRole(Role::Job)),
        );
    }
    ce_deps
}
