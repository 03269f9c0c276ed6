//! The resource graph: every AWS resource `pipectl up` creates for a spec, its physical name,
//! the settings that matter, and what it waits for. `plan` prints it; the provisioner walks it
//! (forward for `up`, reversed for `down`).

mod batch;
mod build;
mod compute;
mod iam;
mod id;
mod network;
mod observability;
mod payload;
mod storage;

use std::collections::HashMap;

use serde::Serialize;

use crate::model::Spec;
use build::Builder;

pub use id::{ResourceId, UnknownId};
pub use network::{INTERFACE_ENDPOINTS, interface_endpoints};
pub use payload::{Endpoint, Payload, Role, placement_strategy_aws};

/// A resource's type; `plan --output json` prints it kebab-case (`compute-environment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An EC2 VPC.
    Vpc,
    /// An EC2 subnet (one private per zone, one public for the NAT gateway).
    Subnet,
    /// An EC2 route table.
    RouteTable,
    /// An EC2 internet gateway, for the public subnet.
    InternetGateway,
    /// An EC2 elastic IP (the NAT gateway's).
    ElasticIp,
    /// An EC2 NAT gateway: the private subnets' way out.
    NatGateway,
    /// An EC2 VPC endpoint (gateway for S3, interface for the others).
    VpcEndpoint,
    /// An EC2 security group.
    SecurityGroup,
    /// An IAM role.
    IamRole,
    /// An IAM instance profile (wraps the ECS instance role).
    InstanceProfile,
    /// An EC2 placement group.
    PlacementGroup,
    /// An EC2 launch template, one per compute environment.
    LaunchTemplate,
    /// An AWS Batch compute environment.
    ComputeEnvironment,
    /// An AWS Batch job queue.
    JobQueue,
    /// An AWS Batch job definition, one per phase.
    JobDefinition,
    /// An FSx for Lustre file system.
    FileSystem,
    /// An FSx data repository association (links the file system to an S3 bucket).
    DataRepositoryAssociation,
    /// An S3 bucket.
    Bucket,
    /// A CloudWatch dashboard.
    Dashboard,
    /// A CloudWatch Logs log group.
    LogGroup,
    /// An SQS queue (Batch's job events for `run`).
    EventQueue,
    /// An EventBridge rule (sends the stack's job events to the queue).
    EventRule,
}

impl Kind {
    /// The AWS service's short name (`ec2`, `iam`, `batch`, `logs`, `fsx`, `s3`, `cloudwatch`,
    /// `sqs`, `events`).
    pub fn service(self) -> &'static str {
        match self {
            Kind::Vpc
            | Kind::Subnet
            | Kind::RouteTable
            | Kind::InternetGateway
            | Kind::ElasticIp
            | Kind::NatGateway
            | Kind::VpcEndpoint
            | Kind::SecurityGroup
            | Kind::PlacementGroup
            | Kind::LaunchTemplate => "ec2",
            Kind::IamRole | Kind::InstanceProfile => "iam",
            Kind::ComputeEnvironment | Kind::JobQueue | Kind::JobDefinition => "batch",
            Kind::LogGroup => "logs",
            Kind::FileSystem | Kind::DataRepositoryAssociation => "fsx",
            Kind::Bucket => "s3",
            Kind::Dashboard => "cloudwatch",
            Kind::EventQueue => "sqs",
            Kind::EventRule => "events",
        }
    }
    /// The name people read in `plan` and `status` (`compute environment`).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Vpc => "VPC",
            Kind::Subnet => "subnet",
            Kind::RouteTable => "route table",
            Kind::InternetGateway => "internet gateway",
            Kind::ElasticIp => "elastic IP",
            Kind::NatGateway => "NAT gateway",
            Kind::VpcEndpoint => "VPC endpoint",
            Kind::SecurityGroup => "security group",
            Kind::IamRole => "IAM role",
            Kind::InstanceProfile => "instance profile",
            Kind::PlacementGroup => "placement group",
            Kind::LaunchTemplate => "launch template",
            Kind::ComputeEnvironment => "compute environment",
            Kind::JobQueue => "job queue",
            Kind::JobDefinition => "job definition",
            Kind::FileSystem => "FSx for Lustre",
            Kind::DataRepositoryAssociation => "data repository association",
            Kind::Bucket => "S3 bucket",
            Kind::Dashboard => "CloudWatch dashboard",
            Kind::LogGroup => "log group",
            Kind::EventQueue => "SQS queue",
            Kind::EventRule => "EventBridge rule",
        }
    }
}

/// One AWS resource `up` creates, with what it waits for.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    /// Logical id, unique in the graph and stored in the `pipectl:resource` tag.
    pub id: ResourceId,
    /// Its type.
    pub kind: Kind,
    /// The name AWS will know it by (`<account-id>` where only AWS can fill it in).
    pub name: String,
    /// Settings worth seeing in a plan, in order (for people: nothing decides from them).
    pub settings: Vec<(String, String)>,
    /// What must be ready (available, valid: usable) before it is created; it is removed
    /// before them.
    pub depends_on: Vec<ResourceId>,
    /// What it waits for only to be created: it builds from the identity and the attributes
    /// the create call answers with, not from a usable resource (a launch template names the
    /// file system's DNS and mount names while FSx is still creating it). Such a dependency
    /// does not hold it to a later wave: the create call answers in a second.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<ResourceId>,
    /// What provision builds from.
    #[serde(skip)]
    pub payload: Payload,
}

/// Every resource of one stack, in plan order (dependencies before dependents).
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// The stack's name (the spec's `stack.name`, the `pipectl:stack` tag).
    pub stack: String,
    /// The resources, in plan order.
    pub resources: Vec<Resource>,
}

impl Graph {
    /// The graph for a validated spec, family by family in plan order.
    pub fn from_spec(spec: &Spec) -> Graph {
        let mut b = Builder::new(spec);
        let subnets = network::vpc(&mut b);
        network::security_group(&mut b);
        let iam = iam::roles(&mut b);
        observability::log_group(&mut b);
        storage::file_system(&mut b, &subnets);
        storage::buckets(&mut b);
        storage::data_repositories(&mut b);
        compute::placement_groups(&mut b);
        compute::compute_environments(&mut b, &iam, &subnets);
        batch::job_queues(&mut b);
        batch::job_definitions(&mut b);
        observability::job_events(&mut b);
        observability::dashboard(&mut b);
        debug_assert!(b.has(&ResourceId::SecurityGroup));
        Graph {
            stack: spec.stack.name.clone(),
            resources: b.out,
        }
    }

    /// The resource with this id; `None` if the spec does not make it.
    pub fn get(&self, id: &ResourceId) -> Option<&Resource> {
        self.resources.iter().find(|r| &r.id == id)
    }

    /// Everything a resource waits for in some way: to be ready, or only created.
    pub fn prerequisites(r: &Resource) -> impl Iterator<Item = &ResourceId> {
        r.depends_on.iter().chain(&r.uses)
    }

    /// Resources in dependency order, grouped in waves that can be created concurrently: a
    /// resource is one wave after what it waits for to be ready, and in no earlier wave than
    /// what it waits for only to be created.
    pub fn waves(&self) -> Vec<Vec<&Resource>> {
        fn visit(
            i: usize,
            g: &Graph,
            index: &HashMap<&ResourceId, usize>,
            depth: &mut Vec<usize>,
        ) -> usize {
            if depth[i] != usize::MAX {
                return depth[i];
            }
            depth[i] = 0; // the graph is acyclic by construction; this guards against a bug looping
            let r = &g.resources[i];
            let ready = r.depends_on.iter().map(|d| (d, 1));
            let created = r.uses.iter().map(|d| (d, 0));
            let mut d = 0;
            for (dep, after) in ready.chain(created) {
                if let Some(&j) = index.get(dep) {
                    d = d.max(visit(j, g, index, depth) + after);
                }
            }
            depth[i] = d;
            d
        }
        let index: HashMap<&ResourceId, usize> = self
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (&r.id, i))
            .collect();
        let mut depth = vec![usize::MAX; self.resources.len()];
        for i in 0..self.resources.len() {
            visit(i, self, &index, &mut depth);
        }
        let levels = depth.iter().copied().max().map_or(0, |m| m + 1);
        let mut waves = vec![Vec::new(); levels];
        for (i, r) in self.resources.iter().enumerate() {
            waves[depth[i]].push(r);
        }
        waves
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(text: &str) -> Graph {
        let spec = crate::load_str(std::path::Path::new("spec.toml"), text.to_string())
            .unwrap()
            .spec;
        Graph::from_spec(&spec)
    }

    fn seed() -> Graph {
        graph(include_str!("../../../infra-specs/two-hour-pipeline.toml"))
    }

    fn efa() -> Graph {
        graph(include_str!(
            "../../../infra-specs/two-hour-pipeline-efa.toml"
        ))
    }

    #[test]
    fn every_id_reads_back_and_every_dependency_exists() {
        for g in [seed(), efa()] {
            for r in &g.resources {
                assert_eq!(r.id.to_string().parse::<ResourceId>(), Ok(r.id.clone()));
                for d in Graph::prerequisites(r) {
                    assert!(g.get(d).is_some(), "{} after missing {d}", r.id);
                }
            }
        }
    }

    #[test]
    fn each_kind_carries_the_payload_provision_builds_from() {
        for g in [seed(), efa()] {
            for r in &g.resources {
                let ok = match r.kind {
                    Kind::Vpc => matches!(r.payload, Payload::Vpc { .. }),
                    Kind::Subnet => matches!(r.payload, Payload::Subnet { .. }),
                    Kind::RouteTable => matches!(r.payload, Payload::RouteTable { .. }),
                    Kind::VpcEndpoint => matches!(r.payload, Payload::VpcEndpoint { .. }),
                    Kind::IamRole => matches!(r.payload, Payload::IamRole(_)),
                    Kind::Bucket => matches!(r.payload, Payload::Bucket { .. }),
                    Kind::DataRepositoryAssociation => {
                        matches!(r.payload, Payload::DataRepositoryAssociation { .. })
                    }
                    Kind::PlacementGroup => matches!(r.payload, Payload::PlacementGroup { .. }),
                    Kind::LaunchTemplate => matches!(r.payload, Payload::LaunchTemplate { .. }),
                    Kind::ComputeEnvironment => {
                        matches!(r.payload, Payload::ComputeEnvironment { .. })
                    }
                    Kind::JobQueue => matches!(r.payload, Payload::JobQueue { .. }),
                    Kind::JobDefinition => matches!(r.payload, Payload::JobDefinition { .. }),
                    _ => r.payload == Payload::None,
                };
                assert!(ok, "{}: {:?}", r.id, r.payload);
            }
        }
    }

    #[test]
    fn route_tables_route_through_their_gateway() {
        let g = seed();
        let public = g.get(&ResourceId::PublicRouteTable).unwrap();
        assert_eq!(
            public.payload,
            Payload::RouteTable {
                default_route: Some(ResourceId::InternetGateway),
                subnets: vec![ResourceId::PublicSubnet],
            }
        );
        let Payload::RouteTable {
            default_route,
            subnets,
        } = &g.get(&ResourceId::PrivateRouteTable).unwrap().payload
        else {
            panic!("a route table")
        };
        assert_eq!(default_route, &Some(ResourceId::NatGateway));
        assert!(!subnets.is_empty() && subnets.iter().all(ResourceId::is_private_subnet));
    }

    #[test]
    fn efa_reaches_the_launch_template_and_the_job_definition() {
        let g = efa();
        let lt = g
            .resources
            .iter()
            .find(|r| matches!(&r.payload, Payload::LaunchTemplate { efa: true, .. }));
        assert!(lt.is_some(), "an EFA launch template");
        assert!(matches!(
            g.get(&ResourceId::JobDefinition("training".into()))
                .unwrap()
                .payload,
            Payload::JobDefinition { uverbs: true, .. }
        ));
        assert!(matches!(
            seed()
                .get(&ResourceId::JobDefinition("training".into()))
                .unwrap()
                .payload,
            Payload::JobDefinition { uverbs: false, .. }
        ));
    }

    #[test]
    fn launch_templates_wait_for_the_file_system_created_not_available() {
        let g = seed();
        let waves = g.waves();
        let wave_of = |id: &ResourceId| {
            waves
                .iter()
                .position(|w| w.iter().any(|r| &r.id == id))
                .unwrap()
        };
        let fsx = ResourceId::FileSystem;
        let mut mounting = 0;
        for r in g
            .resources
            .iter()
            .filter(|r| r.kind == Kind::LaunchTemplate)
        {
            assert!(
                !r.depends_on.contains(&fsx),
                "{} waits for FSx to be available",
                r.id
            );
            if let Payload::LaunchTemplate {
                mounts_fsx: true, ..
            } = r.payload
            {
                mounting += 1;
                assert_eq!(
                    r.uses,
                    vec![fsx.clone()],
                    "{} builds from the created file system",
                    r.id
                );
            } else {
                assert!(r.uses.is_empty(), "{}", r.id);
            }
            // after the subnet and the security group, beside (not after) the file system
            assert!(wave_of(&r.id) > wave_of(&ResourceId::SecurityGroup));
            assert!(
                wave_of(&r.id) > wave_of(&ResourceId::PrivateSubnet("us-east-1a".into()))
                    || g.get(&ResourceId::PrivateSubnet("us-east-1a".into()))
                        .is_none()
            );
            assert_eq!(wave_of(&r.id), wave_of(&fsx), "{}", r.id);
        }
        assert!(mounting > 0, "the seed spec mounts Lustre somewhere");
        // the associations need the file system available
        for r in g
            .resources
            .iter()
            .filter(|r| r.kind == Kind::DataRepositoryAssociation)
        {
            assert!(r.depends_on.contains(&fsx) && r.uses.is_empty(), "{}", r.id);
            assert!(wave_of(&r.id) > wave_of(&fsx));
        }
    }
}
