//! The resource graph: every AWS resource `pipectl up` creates for a spec, its physical name,
//! the settings that matter, and what it waits for. `plan` prints it; the provisioner walks it
//! (forward for `up`, reversed for `down`).

use std::collections::HashMap;

use serde::Serialize;

use crate::model::{EfaMode, Egress, RoleMode, Spec};
use crate::net::{Cidr, SUBNET_BITS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Vpc,
    Subnet,
    RouteTable,
    InternetGateway,
    ElasticIp,
    NatGateway,
    VpcEndpoint,
    SecurityGroup,
    IamRole,
    InstanceProfile,
    PlacementGroup,
    LaunchTemplate,
    ComputeEnvironment,
    JobQueue,
    JobDefinition,
    FileSystem,
    DataRepositoryAssociation,
    Bucket,
    Dashboard,
    LogGroup,
}

impl Kind {
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
        }
    }
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
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    /// Logical id, unique in the graph and stored in the `pipectl:resource` tag.
    pub id: String,
    pub kind: Kind,
    /// The name AWS will know it by (`<account-id>` where only AWS can fill it in).
    pub name: String,
    /// Settings worth seeing in a plan, in order.
    pub settings: Vec<(String, String)>,
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub stack: String,
    pub resources: Vec<Resource>,
}

/// The interface endpoints Batch instances and their jobs need when there is no NAT gateway:
/// ECR (API and image layers; layers come from S3 through the gateway endpoint), the ECS agent
/// (ecs, ecs-agent, ecs-telemetry), CloudWatch Logs for job output, CloudWatch for metrics, and
/// STS for the jobs' role credentials.
pub const INTERFACE_ENDPOINTS: &[&str] = &[
    "ecr.api",
    "ecr.dkr",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "logs",
    "monitoring",
    "sts",
];

/// Every interface endpoint of a spec with `egress = "vpc-endpoints"`: the ones above and the
/// spec's `extra_endpoints`.
pub fn interface_endpoints(spec: &Spec) -> Vec<String> {
    let mut all: Vec<String> = INTERFACE_ENDPOINTS.iter().map(|s| s.to_string()).collect();
    for e in &spec.network.extra_endpoints {
        if !all.contains(e) {
            all.push(e.clone());
        }
    }
    all
}

struct Builder<'a> {
    spec: &'a Spec,
    out: Vec<Resource>,
}

impl Builder<'_> {
    fn add(
        &mut self,
        id: impl Into<String>,
        kind: Kind,
        name: impl Into<String>,
        deps: &[&str],
        settings: Vec<(&str, String)>,
    ) {
        self.out.push(Resource {
            id: id.into(),
            kind,
            name: name.into(),
            settings: settings
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        });
    }
    fn prefixed(&self, name: &str) -> String {
        format!("pipectl-{}-{name}", self.spec.stack.name)
    }

    /// A role's name: the spec's, else one derived from the stack.
    fn role_name(&self, role: &crate::model::Role, default: &str) -> String {
        role.name.clone().unwrap_or_else(|| self.prefixed(default))
    }
}

impl Graph {
    /// The graph for a validated spec.
    pub fn from_spec(spec: &Spec) -> Graph {
        let mut b = Builder {
            spec,
            out: Vec::new(),
        };
        let stack = &spec.stack.name;
        let net = &spec.network;

        // Network. With an existing VPC, only what pipectl owns inside it is created.
        let subnet_ids: Vec<String> = if let Some(cidr) = &net.cidr {
            let vpc = cidr.parse::<Cidr>().ok();
            b.add(
                "vpc",
                Kind::Vpc,
                b.prefixed("vpc"),
                &[],
                vec![("cidr", cidr.clone()), ("dns hostnames", "on".into())],
            );
            let carve = |i: usize| {
                vpc.and_then(|v| v.subnet(v.prefix + SUBNET_BITS, i as u32))
                    .map_or("?".into(), |c| c.to_string())
            };
            let mut ids = Vec::new();
            for (i, az) in net.availability_zones.iter().enumerate() {
                let id = format!("subnet-private-{az}");
                b.add(
                    &id,
                    Kind::Subnet,
                    b.prefixed(&format!("private-{az}")),
                    &["vpc"],
                    vec![
                        ("zone", az.clone()),
                        ("cidr", carve(i)),
                        ("public IPs", "off".into()),
                    ],
                );
                ids.push(id);
            }
            let mut rt_deps: Vec<&str> = vec!["vpc"];
            rt_deps.extend(ids.iter().map(String::as_str));
            match net.egress {
                Egress::NatGateway => {
                    let az = net.availability_zones.first().cloned().unwrap_or_default();
                    b.add(
                        "igw",
                        Kind::InternetGateway,
                        b.prefixed("igw"),
                        &["vpc"],
                        vec![],
                    );
                    b.add(
                        "subnet-public",
                        Kind::Subnet,
                        b.prefixed("public"),
                        &["vpc"],
                        vec![
                            ("zone", az),
                            ("cidr", carve(net.availability_zones.len())),
                            ("use", "NAT gateway only".into()),
                        ],
                    );
                    b.add(
                        "rtb-public",
                        Kind::RouteTable,
                        b.prefixed("public"),
                        &["vpc", "igw", "subnet-public"],
                        vec![("routes", "0.0.0.0/0 → internet gateway".into())],
                    );
                    b.add("eip-nat", Kind::ElasticIp, b.prefixed("nat"), &[], vec![]);
                    b.add(
                        "nat",
                        Kind::NatGateway,
                        b.prefixed("nat"),
                        &["subnet-public", "eip-nat", "rtb-public"],
                        vec![],
                    );
                    rt_deps.push("nat");
                    b.add(
                        "rtb-private",
                        Kind::RouteTable,
                        b.prefixed("private"),
                        &rt_deps,
                        vec![("routes", "0.0.0.0/0 → NAT gateway".into())],
                    );
                }
                Egress::VpcEndpoints => {
                    b.add(
                        "rtb-private",
                        Kind::RouteTable,
                        b.prefixed("private"),
                        &rt_deps,
                        vec![("routes", "local only".into())],
                    );
                    b.add(
                        "vpce-s3",
                        Kind::VpcEndpoint,
                        b.prefixed("s3"),
                        &["vpc", "rtb-private"],
                        vec![
                            ("type", "gateway".into()),
                            ("service", format!("com.amazonaws.{}.s3", spec.stack.region)),
                        ],
                    );
                    let mut deps: Vec<&str> = vec!["vpc", "sg"];
                    deps.extend(ids.iter().map(String::as_str));
                    for svc in &interface_endpoints(spec) {
                        b.add(
                            format!("vpce-{svc}"),
                            Kind::VpcEndpoint,
                            b.prefixed(svc),
                            &deps,
                            vec![
                                ("type", "interface".into()),
                                (
                                    "service",
                                    format!("com.amazonaws.{}.{svc}", spec.stack.region),
                                ),
                                ("private DNS", "on".into()),
                            ],
                        );
                    }
                }
                Egress::None => {
                    b.add(
                        "rtb-private",
                        Kind::RouteTable,
                        b.prefixed("private"),
                        &rt_deps,
                        vec![("routes", "local only".into())],
                    );
                }
            }
            ids
        } else {
            Vec::new()
        };
        let vpc_dep: Vec<&str> = if net.cidr.is_some() {
            vec!["vpc"]
        } else {
            vec![]
        };
        b.add(
            "sg",
            Kind::SecurityGroup,
            b.prefixed("batch"),
            &vpc_dep,
            vec![
                (
                    "inbound",
                    "all traffic from this group only (EFA, Lustre, MNP)".into(),
                ),
                ("outbound", "all".into()),
            ],
        );
        let subnet_deps: Vec<&str> = subnet_ids.iter().map(String::as_str).collect();

        // IAM
        let mut iam_deps: Vec<&str> = Vec::new();
        if spec.iam.service_role.mode == RoleMode::Create {
            let name = b.role_name(&spec.iam.service_role, "batch-service");
            b.add(
                "role-batch-service",
                Kind::IamRole,
                name,
                &[],
                vec![
                    ("trust", "batch.amazonaws.com".into()),
                    ("policy", "service-role/AWSBatchServiceRole".into()),
                ],
            );
            iam_deps.push("role-batch-service");
        }
        if spec.iam.instance_role.mode == RoleMode::Create {
            let name = b.role_name(&spec.iam.instance_role, "ecs-instance");
            b.add(
                "role-ecs-instance",
                Kind::IamRole,
                &name,
                &[],
                vec![
                    ("trust", "ec2.amazonaws.com".into()),
                    (
                        "policy",
                        "service-role/AmazonEC2ContainerServiceforEC2Role".into(),
                    ),
                ],
            );
            b.add(
                "instance-profile",
                Kind::InstanceProfile,
                name,
                &["role-ecs-instance"],
                vec![],
            );
            iam_deps.push("instance-profile");
        }

        if spec.iam.job_role.mode == RoleMode::Create {
            let name = b.role_name(&spec.iam.job_role, "job");
            b.add(
                "role-job",
                Kind::IamRole,
                name,
                &[],
                vec![
                    ("trust", "ecs-tasks.amazonaws.com".into()),
                    (
                        "policy",
                        "inline: its buckets, PutMetricData in Pipectl*, Batch describe calls"
                            .into(),
                    ),
                ],
            );
        }

        b.add(
            "log-group",
            Kind::LogGroup,
            spec.log_group_name(),
            &[],
            vec![(
                "retention",
                format!("{} days", spec.stack.log_retention_days),
            )],
        );

        // Storage: FSx first, because it is the slowest to become available.
        if let Some(f) = &spec.fsx {
            let mut deps: Vec<&str> = vec!["sg"];
            deps.extend(subnet_deps.first().copied());
            let perf = crate::fsx::performance(f);
            b.add(
                "fsx",
                Kind::FileSystem,
                b.prefixed("lustre"),
                &deps,
                vec![
                    ("deployment", f.deployment_type.as_aws().into()),
                    ("Lustre", f.effective_lustre_version().as_aws().into()),
                    ("capacity", f.capacity.to_string()),
                    (
                        "throughput",
                        format!("{} MB/s/TiB ({:.0} MB/s)", perf.per_tib, perf.baseline_mb_s),
                    ),
                    (
                        "zone",
                        net.availability_zones
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "first subnet's".into()),
                    ),
                    ("mount", f.mount_path.clone()),
                ],
            );
        }
        for (key, bucket) in &spec.buckets {
            b.add(
                format!("bucket-{key}"),
                Kind::Bucket,
                format!("pipectl-{stack}-{key}-<account-id>"),
                &[],
                vec![
                    ("expected size", bucket.size.to_string()),
                    ("public access", "blocked".into()),
                    ("encryption", "SSE-S3 (AES256), TLS-only policy".into()),
                    (
                        "versioning",
                        if bucket.versioning { "on" } else { "off" }.into(),
                    ),
                ],
            );
        }
        if let Some(f) = &spec.fsx {
            for (i, repo) in f.data_repositories.iter().enumerate() {
                let bucket = format!("bucket-{}", repo.bucket);
                let dirs = match (repo.import, repo.export) {
                    (true, true) => "import + export",
                    (true, false) => "import",
                    (false, true) => "export",
                    (false, false) => "link only",
                };
                b.add(
                    format!("dra-{i}"),
                    Kind::DataRepositoryAssociation,
                    format!("{} ↔ {}", repo.file_system_path, repo.bucket),
                    &["fsx", &bucket],
                    vec![("direction", dirs.into())],
                );
            }
        }

        // Compute
        for (name, _) in &spec.placement_groups {
            let g = &spec.placement_groups[name];
            b.add(
                format!("pg-{name}"),
                Kind::PlacementGroup,
                b.prefixed(name),
                &[],
                vec![("strategy", format!("{:?}", g.strategy).to_lowercase())],
            );
        }
        for (name, ce) in &spec.compute_environments {
            let interface = if ce.uses_efa() {
                "EFA"
            } else if ce.instance_types.iter().any(|t| ce.efa_on(t)) {
                "EFA where supported, else ENA"
            } else {
                "ENA"
            };
            // Mount Lustre only on instances that run a phase which reads it.
            let mounts_fsx = spec.ce_mounts_fsx(name);
            let mut lt_deps: Vec<&str> = vec!["sg"];
            if mounts_fsx {
                lt_deps.push("fsx");
            }
            let lt = format!("lt-{name}");
            b.add(
                &lt,
                Kind::LaunchTemplate,
                b.prefixed(name),
                &lt_deps,
                vec![
                    ("network interface", interface.into()),
                    (
                        "IMDS",
                        "v2 required, hop limit 1 (jobs use their job role)".into(),
                    ),
                    ("root volume", format!("{} gp3, encrypted", ce.root_volume)),
                    (
                        "user data",
                        match (ce.uses_efa(), mounts_fsx) {
                            (true, true) => {
                                "installs the EFA driver, mounts FSx (Lustre client)".into()
                            }
                            (true, false) => "installs the EFA driver".into(),
                            (false, true) => "mounts FSx (Lustre client)".into(),
                            (false, false) => "none".into(),
                        },
                    ),
                    ("version", "pinned".into()),
                ],
            );
            let mut deps: Vec<String> = vec![lt, "sg".into()];
            deps.extend(iam_deps.iter().map(|s| s.to_string()));
            let zones = spec.ce_zones(ce);
            deps.extend(
                zones
                    .iter()
                    .map(|z| format!("subnet-private-{z}"))
                    .filter(|id| subnet_ids.contains(id)),
            );
            if let Some(pg) = &ce.placement_group {
                deps.push(format!("pg-{pg}"));
            }
            let deps_ref: Vec<&str> = deps.iter().map(String::as_str).collect();
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
                format!("ce-{name}"),
                Kind::ComputeEnvironment,
                format!("{stack}-{name}"),
                &deps_ref,
                settings,
            );
        }
        for (name, q) in &spec.job_queues {
            let deps: Vec<String> = q
                .compute_environments
                .iter()
                .map(|c| format!("ce-{c}"))
                .collect();
            let deps_ref: Vec<&str> = deps.iter().map(String::as_str).collect();
            b.add(
                format!("jq-{name}"),
                Kind::JobQueue,
                format!("{stack}-{name}"),
                &deps_ref,
                vec![
                    ("priority", q.priority.to_string()),
                    ("compute environments", q.compute_environments.join(" → ")),
                ],
            );
        }
        for phase in &spec.phases {
            let mut settings = vec![
                ("image", phase.image.clone()),
                (
                    "resources",
                    format!("{} vCPU, {}, {} GPU", phase.vcpus, phase.memory, phase.gpus),
                ),
                (
                    "retry",
                    match (phase.retry.attempts, phase.retry.on_spot_interruption) {
                        (1, _) => "1 attempt (no retry)".to_string(),
                        (n, true) => format!("{n} attempts: RETRY on \"Host EC2*\", EXIT on \"*\""),
                        (n, false) => format!("{n} attempts on any failure"),
                    },
                ),
            ];
            if phase.is_multi_node() {
                settings.insert(0, ("type", format!("multi-node, {} nodes", phase.nodes)));
            }
            if let Some(t) = phase.timeout {
                settings.push(("timeout", t.to_string()));
            }
            if spec.phase_uses_fsx(phase) {
                settings.push((
                    "mounts",
                    spec.fsx
                        .as_ref()
                        .map(|f| f.mount_path.clone())
                        .unwrap_or_default(),
                ));
            }
            let efa = spec.job_queues.get(&phase.queue).is_some_and(|q| {
                q.compute_environments
                    .iter()
                    .filter_map(|c| spec.compute_environments.get(c))
                    .any(|ce| ce.efa == EfaMode::Required)
            });
            if efa {
                settings.push(("devices", "/dev/infiniband/uverbs0".into()));
            }
            settings.push((
                "job role",
                match &phase.job_role {
                    Some(arn) => arn.clone(),
                    None if spec.iam.job_role.mode == RoleMode::Create => {
                        "the stack's (role-job)".into()
                    }
                    None => spec.iam.job_role.name.clone().unwrap_or_default(),
                },
            ));
            let deps: &[&str] =
                if phase.job_role.is_none() && spec.iam.job_role.mode == RoleMode::Create {
                    &["role-job", "log-group"]
                } else {
                    &["log-group"]
                };
            settings.push(("logs", spec.log_group_name()));
            b.add(
                format!("jd-{}", phase.name),
                Kind::JobDefinition,
                format!("{stack}-{}", phase.name),
                deps,
                settings,
            );
        }
        let mut queues: Vec<String> = spec.job_queues.keys().map(|q| format!("jq-{q}")).collect();
        // its FSx widget needs the file system's id
        if spec.fsx.is_some() {
            queues.push("fsx".into());
        }
        let qref: Vec<&str> = queues.iter().map(String::as_str).collect();
        b.add(
            "dashboard",
            Kind::Dashboard,
            format!("pipectl-{stack}"),
            &qref,
            vec![(
                "widgets",
                "queues, jobs, phase durations and costs, FSx throughput, EC2/GPU".into(),
            )],
        );

        Graph {
            stack: stack.clone(),
            resources: b.out,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// Resources in dependency order, grouped in waves that can be created concurrently.
    pub fn waves(&self) -> Vec<Vec<&Resource>> {
        let index: HashMap<&str, usize> = self
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut depth = vec![usize::MAX; self.resources.len()];
        fn visit(
            i: usize,
            g: &Graph,
            index: &HashMap<&str, usize>,
            depth: &mut Vec<usize>,
        ) -> usize {
            if depth[i] != usize::MAX {
                return depth[i];
            }
            depth[i] = 0; // the graph is acyclic by construction; this guards against a bug looping
            let d = g.resources[i]
                .depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()))
                .map(|&j| visit(j, g, index, depth) + 1)
                .max()
                .unwrap_or(0);
            depth[i] = d;
            d
        }
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
