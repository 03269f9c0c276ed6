//! Logical resource ids: one variant per resource `up` creates, with its key. The one place
//! that knows how an id is spelled (`ce-<name>`, `subnet-private-<zone>`, ...): the spelling
//! is what `plan --output json` prints, what the `pipectl:resource` tag holds and what keys
//! the state file, so it never changes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The logical id of a resource in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceId {
    /// The stack's VPC (`vpc`).
    Vpc,
    /// A private subnet, by availability zone.
    PrivateSubnet(String),
    /// The public subnet that holds the NAT gateway.
    PublicSubnet,
    /// The internet gateway (`igw`).
    InternetGateway,
    /// The public subnet's route table (`rtb-public`).
    PublicRouteTable,
    /// The private subnets' route table (`rtb-private`).
    PrivateRouteTable,
    /// The NAT gateway's elastic IP.
    NatEip,
    /// The NAT gateway (`nat`).
    NatGateway,
    /// The S3 gateway endpoint.
    S3Endpoint,
    /// An interface endpoint, by service suffix (`ecr.api`, `logs`, ...).
    InterfaceEndpoint(String),
    /// The stack's security group (`sg`).
    SecurityGroup,
    /// The role AWS Batch assumes to manage compute (`role-batch-service`).
    BatchServiceRole,
    /// The role of the ECS container instances (`role-ecs-instance`).
    EcsInstanceRole,
    /// The instance profile holding the ECS instance role (`instance-profile`).
    InstanceProfile,
    /// The role the jobs' containers run as (`role-job`).
    JobRole,
    /// The jobs' CloudWatch Logs group (`log-group`).
    LogGroup,
    /// The FSx for Lustre file system (`fsx`).
    FileSystem,
    /// A bucket, by the spec's key.
    Bucket(String),
    /// A data repository association, by its position in the spec's list.
    DataRepositoryAssociation(usize),
    /// A placement group, by the spec's key.
    PlacementGroup(String),
    /// The launch template of a compute environment, by the environment's key.
    LaunchTemplate(String),
    /// A compute environment, by the spec's key (`ce-<key>`).
    ComputeEnvironment(String),
    /// A job queue, by the spec's key (`jq-<key>`).
    JobQueue(String),
    /// A job definition, by phase name.
    JobDefinition(String),
    /// The CloudWatch dashboard (`dashboard`).
    Dashboard,
    /// The SQS queue Batch's job state-change events are delivered to (`events-queue`).
    EventQueue,
    /// The EventBridge rule that sends the stack's job events to it (`events-rule`).
    EventRule,
}

/// An id no resource of a stack can have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a pipectl resource id: {0:?}")]
pub struct UnknownId(pub String);

/// Fixed ids, and the prefix of the keyed ones, in one table each way.
const FIXED: &[(&str, ResourceId)] = &[
    ("vpc", ResourceId::Vpc),
    ("subnet-public", ResourceId::PublicSubnet),
    ("igw", ResourceId::InternetGateway),
    ("rtb-public", ResourceId::PublicRouteTable),
    ("rtb-private", ResourceId::PrivateRouteTable),
    ("eip-nat", ResourceId::NatEip),
    ("nat", ResourceId::NatGateway),
    ("vpce-s3", ResourceId::S3Endpoint),
    ("sg", ResourceId::SecurityGroup),
    ("role-batch-service", ResourceId::BatchServiceRole),
    ("role-ecs-instance", ResourceId::EcsInstanceRole),
    ("instance-profile", ResourceId::InstanceProfile),
    ("role-job", ResourceId::JobRole),
    ("log-group", ResourceId::LogGroup),
    ("fsx", ResourceId::FileSystem),
    ("dashboard", ResourceId::Dashboard),
    ("events-queue", ResourceId::EventQueue),
    ("events-rule", ResourceId::EventRule),
];

const PRIVATE_SUBNET: &str = "subnet-private-";
const INTERFACE_ENDPOINT: &str = "vpce-";
const BUCKET: &str = "bucket-";
const DRA: &str = "dra-";
const PLACEMENT_GROUP: &str = "pg-";
const LAUNCH_TEMPLATE: &str = "lt-";
const COMPUTE_ENVIRONMENT: &str = "ce-";
const JOB_QUEUE: &str = "jq-";
const JOB_DEFINITION: &str = "jd-";

impl ResourceId {
    /// The prefix and key of a keyed id; `None` for a fixed one.
    fn keyed(&self) -> Option<(&'static str, String)> {
        use ResourceId::*;
        Some(match self {
            PrivateSubnet(k) => (PRIVATE_SUBNET, k.clone()),
            InterfaceEndpoint(k) => (INTERFACE_ENDPOINT, k.clone()),
            Bucket(k) => (BUCKET, k.clone()),
            DataRepositoryAssociation(i) => (DRA, i.to_string()),
            PlacementGroup(k) => (PLACEMENT_GROUP, k.clone()),
            LaunchTemplate(k) => (LAUNCH_TEMPLATE, k.clone()),
            ComputeEnvironment(k) => (COMPUTE_ENVIRONMENT, k.clone()),
            JobQueue(k) => (JOB_QUEUE, k.clone()),
            JobDefinition(k) => (JOB_DEFINITION, k.clone()),
            _ => return None,
        })
    }

    /// Whether this is one of the stack's private subnets.
    pub fn is_private_subnet(&self) -> bool {
        matches!(self, ResourceId::PrivateSubnet(_))
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that widths and alignment in format strings apply.
        if let Some((prefix, key)) = self.keyed() {
            return f.pad(&format!("{prefix}{key}"));
        }
        let (name, _) = FIXED
            .iter()
            .find(|(_, id)| id == self)
            .expect("every fixed id is in the table");
        f.pad(name)
    }
}

impl FromStr for ResourceId {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        type Make = fn(String) -> ResourceId;
        // Fixed ids first: `vpce-s3` is the gateway endpoint, `subnet-public` no private one.
        if let Some((_, id)) = FIXED.iter().find(|(name, _)| *name == s) {
            return Ok(id.clone());
        }
        let unknown = || UnknownId(s.to_string());
        let key = |prefix: &str| {
            s.strip_prefix(prefix)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
        };
        let keyed: [(&str, Make); 8] = [
            (PRIVATE_SUBNET, ResourceId::PrivateSubnet),
            (INTERFACE_ENDPOINT, ResourceId::InterfaceEndpoint),
            (BUCKET, ResourceId::Bucket),
            (PLACEMENT_GROUP, ResourceId::PlacementGroup),
            (LAUNCH_TEMPLATE, ResourceId::LaunchTemplate),
            (COMPUTE_ENVIRONMENT, ResourceId::ComputeEnvironment),
            (JOB_QUEUE, ResourceId::JobQueue),
            (JOB_DEFINITION, ResourceId::JobDefinition),
        ];
        if let Some(k) = key(DRA) {
            return k
                .parse::<usize>()
                .ok()
                .filter(|i| i.to_string() == k)
                .map(ResourceId::DataRepositoryAssociation)
                .ok_or_else(unknown);
        }
        keyed
            .iter()
            .find_map(|(prefix, make)| key(prefix).map(make))
            .ok_or_else(unknown)
    }
}

impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<(ResourceId, &'static str)> {
        use ResourceId::*;
        vec![
            (Vpc, "vpc"),
            (
                PrivateSubnet("us-east-1a".into()),
                "subnet-private-us-east-1a",
            ),
            (PublicSubnet, "subnet-public"),
            (InternetGateway, "igw"),
            (PublicRouteTable, "rtb-public"),
            (PrivateRouteTable, "rtb-private"),
            (NatEip, "eip-nat"),
            (NatGateway, "nat"),
            (S3Endpoint, "vpce-s3"),
            (InterfaceEndpoint("ecr.api".into()), "vpce-ecr.api"),
            (InterfaceEndpoint("ecs-agent".into()), "vpce-ecs-agent"),
            (SecurityGroup, "sg"),
            (BatchServiceRole, "role-batch-service"),
            (EcsInstanceRole, "role-ecs-instance"),
            (InstanceProfile, "instance-profile"),
            (JobRole, "role-job"),
            (LogGroup, "log-group"),
            (FileSystem, "fsx"),
            (Bucket("raw-data".into()), "bucket-raw-data"),
            (DataRepositoryAssociation(0), "dra-0"),
            (DataRepositoryAssociation(12), "dra-12"),
            (PlacementGroup("efa".into()), "pg-efa"),
            (LaunchTemplate("gpu-spot".into()), "lt-gpu-spot"),
            (ComputeEnvironment("gpu-spot".into()), "ce-gpu-spot"),
            (JobQueue("main".into()), "jq-main"),
            (JobDefinition("train".into()), "jd-train"),
            (Dashboard, "dashboard"),
            (EventQueue, "events-queue"),
            (EventRule, "events-rule"),
        ]
    }

    #[test]
    fn every_variant_is_spelled_as_before_and_parses_back() {
        for (id, text) in every_variant() {
            assert_eq!(id.to_string(), text);
            assert_eq!(text.parse::<ResourceId>(), Ok(id.clone()), "{text}");
        }
    }

    #[test]
    fn the_test_covers_every_variant() {
        // A new variant must be added to `every_variant` (this match stops compiling).
        for (id, _) in every_variant() {
            match id {
                ResourceId::Vpc
                | ResourceId::PrivateSubnet(_)
                | ResourceId::PublicSubnet
                | ResourceId::InternetGateway
                | ResourceId::PublicRouteTable
                | ResourceId::PrivateRouteTable
                | ResourceId::NatEip
                | ResourceId::NatGateway
                | ResourceId::S3Endpoint
                | ResourceId::InterfaceEndpoint(_)
                | ResourceId::SecurityGroup
                | ResourceId::BatchServiceRole
                | ResourceId::EcsInstanceRole
                | ResourceId::InstanceProfile
                | ResourceId::JobRole
                | ResourceId::LogGroup
                | ResourceId::FileSystem
                | ResourceId::Bucket(_)
                | ResourceId::DataRepositoryAssociation(_)
                | ResourceId::PlacementGroup(_)
                | ResourceId::LaunchTemplate(_)
                | ResourceId::ComputeEnvironment(_)
                | ResourceId::JobQueue(_)
                | ResourceId::JobDefinition(_)
                | ResourceId::Dashboard
                | ResourceId::EventQueue
                | ResourceId::EventRule => {}
            }
        }
        let kinds: std::collections::HashSet<_> = every_variant()
            .iter()
            .map(|(id, _)| std::mem::discriminant(id))
            .collect();
        assert_eq!(kinds.len(), 27, "one example per variant at least");
    }

    #[test]
    fn widths_apply() {
        assert_eq!(format!("{:<6}|", ResourceId::Vpc), "vpc   |");
        assert_eq!(
            format!("{:<8}|", ResourceId::JobQueue("a".into())),
            "jq-a    |"
        );
    }

    #[test]
    fn nonsense_is_an_error() {
        for s in [
            "",
            "vpc2",
            "ce-",
            "bucket",
            "dra-x",
            "dra-01",
            "dra--1",
            "pipectl",
            "subnet-private-",
        ] {
            assert_eq!(
                s.parse::<ResourceId>(),
                Err(UnknownId(s.to_string())),
                "{s:?}"
            );
        }
    }

    #[test]
    fn serializes_as_its_string() {
        let id = ResourceId::ComputeEnvironment("gpu".into());
        assert_eq!(serde_json_like(&id), "ce-gpu");
        let back: ResourceId = toml::from_str::<Wrap>("id = \"jq-main\"").unwrap().id;
        assert_eq!(back, ResourceId::JobQueue("main".into()));
        assert!(toml::from_str::<Wrap>("id = \"nonsense\"").is_err());
    }

    #[derive(Deserialize, Serialize)]
    struct Wrap {
        id: ResourceId,
    }

    fn serde_json_like(id: &ResourceId) -> String {
        let t = toml::to_string(&Wrap { id: id.clone() }).unwrap();
        t.trim()
            .trim_start_matches("id = \"")
            .trim_end_matches('"')
            .to_string()
    }
}
