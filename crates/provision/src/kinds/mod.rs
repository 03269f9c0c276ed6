//! Per-kind operations on AWS resources behind one trait, [`Handler`]: observe (what exists,
//! found by the stack's tags or its derived names), compare with the spec (drift), create,
//! update in place, delete. The executor (`apply`, `destroy`) decides the order; the table
//! below sends each kind to its handler.

mod batch;
mod bucket;
mod compute_environment;
mod dashboard;
mod data_repository_association;
mod ec2;
mod elastic_ip;
mod event_queue;
mod event_rule;
mod file_system;
mod fsx_tags;
pub(crate) mod iam;
mod iam_role;
mod instance_profile;
mod internet_gateway;
mod job_definition;
mod job_queue;
mod launch_template;
mod log_group;
mod nat_gateway;
mod placement_group;
mod route_table;
mod security_group;
mod subnet;
mod vpc;
mod vpc_endpoint;

use pipectl_spec::graph::{Kind, Resource, ResourceId};
use serde::Serialize;

use crate::ctx::{Ctx, Drift, Live};
use crate::error::ProvisionError;

/// What pipectl does with one kind of AWS object. Static functions: the table dispatches
/// by kind with a `match`, so no trait object (and no boxed futures) is needed.
pub(crate) trait Handler {
    /// Every object of the kind (or kinds) the stack has in AWS.
    async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError>;
    /// How a live object differs from what the spec asks.
    fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift>;
    /// Creates it and waits until dependents can use it.
    async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError>;
    /// Brings a live object in line with the spec where AWS allows it in place.
    async fn update(
        _ctx: &Ctx,
        _r: &Resource,
        live: &Live,
        _drifts: &[Drift],
    ) -> Result<Live, ProvisionError> {
        Ok(live.clone())
    }
    /// Deletes an object found in AWS and waits until it is gone.
    async fn delete(ctx: &Ctx, o: &Observed, keep_data: bool) -> Result<(), ProvisionError>;
    /// Whether an object found in AWS is still on its way to being usable.
    fn unsettled(_live: &Live) -> bool {
        false
    }
    /// Whether an object found in AWS is on its way out (a `down` that was stopped).
    fn leaving(_live: &Live) -> bool {
        false
    }
    /// Waits until an object found on its way out is gone.
    async fn gone(_ctx: &Ctx, _r: &Resource, _live: &Live) -> Result<(), ProvisionError> {
        Ok(())
    }
    /// Waits until an object found in a transitional state is usable.
    async fn settle(_ctx: &Ctx, _r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
        Ok(live.clone())
    }
}

/// The table: `$body` with `$h` the handler of `$kind`.
macro_rules! by_kind {
    ($kind:expr, |$h:ident| $body:expr) => {
        match $kind {
            Kind::Vpc => {
                type $h = vpc::Vpc;
                $body
            }
            Kind::Subnet => {
                type $h = subnet::Subnet;
                $body
            }
            Kind::RouteTable => {
                type $h = route_table::RouteTable;
                $body
            }
            Kind::InternetGateway => {
                type $h = internet_gateway::InternetGateway;
                $body
            }
            Kind::ElasticIp => {
                type $h = elastic_ip::ElasticIp;
                $body
            }
            Kind::NatGateway => {
                type $h = nat_gateway::NatGateway;
                $body
            }
            Kind::VpcEndpoint => {
                type $h = vpc_endpoint::VpcEndpoint;
                $body
            }
            Kind::SecurityGroup => {
                type $h = security_group::SecurityGroup;
                $body
            }
            Kind::PlacementGroup => {
                type $h = placement_group::PlacementGroup;
                $body
            }
            Kind::LaunchTemplate => {
                type $h = launch_template::LaunchTemplate;
                $body
            }
            Kind::IamRole => {
                type $h = iam_role::IamRole;
                $body
            }
            Kind::InstanceProfile => {
                type $h = instance_profile::InstanceProfile;
                $body
            }
            Kind::ComputeEnvironment => {
                type $h = compute_environment::ComputeEnvironment;
                $body
            }
            Kind::JobQueue => {
                type $h = job_queue::JobQueue;
                $body
            }
            Kind::JobDefinition => {
                type $h = job_definition::JobDefinition;
                $body
            }
            Kind::FileSystem => {
                type $h = file_system::FileSystem;
                $body
            }
            Kind::DataRepositoryAssociation => {
                type $h = data_repository_association::DataRepositoryAssociation;
                $body
            }
            Kind::Bucket => {
                type $h = bucket::Bucket;
                $body
            }
            Kind::Dashboard => {
                type $h = dashboard::Dashboard;
                $body
            }
            Kind::LogGroup => {
                type $h = log_group::LogGroup;
                $body
            }
            Kind::EventQueue => {
                type $h = event_queue::EventQueue;
                $body
            }
            Kind::EventRule => {
                type $h = event_rule::EventRule;
                $body
            }
        }
    };
}

/// One resource of the stack found in AWS.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    /// Its kind of AWS object.
    pub kind: Kind,
    /// The `pipectl:resource` tag (or the logical id its name derives from).
    pub logical: String,
    /// What AWS has.
    pub live: Live,
}

impl Observed {
    /// Its logical id, if the tag holds one (a tag edited by hand may not).
    pub fn id(&self) -> Option<ResourceId> {
        self.logical.parse().ok()
    }
}

/// Runs every handler's `observe` at once; the parts in the order given.
macro_rules! observe_all {
    ($ctx:expr; $($part:ident: $h:ty),* $(,)?) => {{
        let ($($part,)*) = tokio::join!($(<$h as Handler>::observe($ctx)),*);
        [$($part),*]
    }};
}

/// Everything of the stack that exists, from every service (one listing call per kind).
pub(crate) async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let parts = observe_all!(ctx;
        vpcs: vpc::Vpc,
        subnets: subnet::Subnet,
        internet_gateways: internet_gateway::InternetGateway,
        addresses: elastic_ip::ElasticIp,
        nat_gateways: nat_gateway::NatGateway,
        route_tables: route_table::RouteTable,
        endpoints: vpc_endpoint::VpcEndpoint,
        security_groups: security_group::SecurityGroup,
        placement_groups: placement_group::PlacementGroup,
        launch_templates: launch_template::LaunchTemplate,
        roles: iam_role::IamRole,
        profiles: instance_profile::InstanceProfile,
        compute_environments: compute_environment::ComputeEnvironment,
        queues: job_queue::JobQueue,
        job_definitions: job_definition::JobDefinition,
        file_systems: file_system::FileSystem,
        associations: data_repository_association::DataRepositoryAssociation,
        buckets: bucket::Bucket,
        dashboards: dashboard::Dashboard,
        log_groups: log_group::LogGroup,
        event_queues: event_queue::EventQueue,
        event_rules: event_rule::EventRule,
    );
    let mut all = Vec::new();
    for part in parts {
        all.extend(part?);
    }
    Ok(all)
}

pub(crate) fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
    by_kind!(r.kind, |H| H::drift(ctx, r, live))
}

pub(crate) async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
    by_kind!(r.kind, |H| H::create(ctx, r).await)
}

pub(crate) async fn update(
    ctx: &Ctx,
    r: &Resource,
    live: &Live,
    drifts: &[Drift],
) -> Result<Live, ProvisionError> {
    by_kind!(r.kind, |H| H::update(ctx, r, live, drifts).await)
}

/// Whether an object found in AWS is still on its way to being usable.
pub(crate) fn unsettled(kind: Kind, live: &Live) -> bool {
    by_kind!(kind, |H| H::unsettled(live))
}

/// Whether an object found in AWS is on its way out (a `down` that was stopped): it is waited
/// out and created again, never updated (AWS refuses updates to it).
pub(crate) fn leaving(kind: Kind, live: &Live) -> bool {
    by_kind!(kind, |H| H::leaving(live))
}

/// Waits until an object found on its way out is gone.
pub(crate) async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
    by_kind!(r.kind, |H| H::gone(ctx, r, live).await)
}

/// Waits until an object found in a transitional state is usable.
pub(crate) async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
    by_kind!(r.kind, |H| H::settle(ctx, r, live).await)
}

/// Deletes an object found in AWS and waits until it is gone.
pub(crate) async fn delete(ctx: &Ctx, o: &Observed, keep_data: bool) -> Result<(), ProvisionError> {
    by_kind!(o.kind, |H| H::delete(ctx, o, keep_data).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(state: &str, status: &str) -> Live {
        Live::new("x", state).attr("status", status)
    }

    #[test]
    fn resources_in_transition_are_waited_for() {
        assert!(unsettled(Kind::NatGateway, &live("pending", "")));
        assert!(unsettled(Kind::FileSystem, &live("CREATING", "")));
        assert!(unsettled(
            Kind::DataRepositoryAssociation,
            &live("UPDATING", "")
        ));
        assert!(unsettled(Kind::ComputeEnvironment, &live("", "CREATING")));
        assert!(unsettled(Kind::JobQueue, &live("", "UPDATING")));
        let invalid_role = live("", "INVALID").attr(
            "status-reason",
            "CLIENT_ERROR - User: batch.amazonaws.com is not authorized to perform: sts:AssumeRole",
        );
        assert!(unsettled(Kind::ComputeEnvironment, &invalid_role));
        assert!(!unsettled(Kind::ComputeEnvironment, &live("", "INVALID")));
        assert!(!unsettled(Kind::Vpc, &live("pending", "CREATING")));
        assert!(!unsettled(Kind::NatGateway, &live("available", "")));
    }

    #[test]
    fn resources_on_their_way_out_are_recognised() {
        assert!(leaving(Kind::NatGateway, &live("deleting", "")));
        assert!(leaving(Kind::FileSystem, &live("DELETING", "")));
        assert!(leaving(
            Kind::DataRepositoryAssociation,
            &live("DELETING", "")
        ));
        assert!(leaving(Kind::ComputeEnvironment, &live("", "DELETING")));
        assert!(leaving(Kind::JobQueue, &live("", "DELETING")));
        assert!(!leaving(Kind::Bucket, &live("DELETING", "DELETING")));
        assert!(!leaving(Kind::NatGateway, &live("available", "")));
    }
}
