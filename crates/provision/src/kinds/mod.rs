//! Per-kind operations on AWS resources: observe (what exists, found by the stack's tags or
//! its derived names), compare with the spec (drift), create, update in place, delete. The
//! executor (`apply`, `destroy`) decides the order; these know one kind each.

pub(crate) mod batch;
pub(crate) mod compute;
pub(crate) mod iam;
pub(crate) mod logs;
pub(crate) mod network;
pub(crate) mod storage;

use std::future::Future;
use std::time::{Duration, Instant};

use pipectl_aws::AwsError;
use pipectl_aws::wait::{self, Backoff, Probe};
use pipectl_spec::graph::{Kind, Resource, ResourceId};
use serde::Serialize;

use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;

/// Which module knows a kind.
enum Module {
    Network,
    Compute,
    Iam,
    Batch,
    Storage,
    Logs,
}

fn module(kind: Kind) -> Module {
    match kind {
        Kind::Vpc
        | Kind::Subnet
        | Kind::RouteTable
        | Kind::InternetGateway
        | Kind::ElasticIp
        | Kind::NatGateway
        | Kind::VpcEndpoint
        | Kind::SecurityGroup => Module::Network,
        Kind::PlacementGroup | Kind::LaunchTemplate => Module::Compute,
        Kind::IamRole | Kind::InstanceProfile => Module::Iam,
        Kind::ComputeEnvironment | Kind::JobQueue | Kind::JobDefinition => Module::Batch,
        Kind::FileSystem | Kind::DataRepositoryAssociation | Kind::Bucket | Kind::Dashboard => {
            Module::Storage
        }
        Kind::LogGroup => Module::Logs,
    }
}

/// One resource of the stack found in AWS.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    pub kind: Kind,
    /// The `pipectl:resource` tag (or the logical id its name derives from).
    pub logical: String,
    pub live: Live,
}

impl Observed {
    /// Its logical id, if the tag holds one (a tag edited by hand may not).
    pub fn id(&self) -> Option<ResourceId> {
        self.logical.parse().ok()
    }
}

/// Everything of the stack that exists, from every service (one listing call per kind).
pub(crate) async fn observe(ctx: &Ctx) -> Result<Vec<Observed>, ProvisionError> {
    let (net, comp, iam, batch, storage, logs) = tokio::join!(
        network::observe(ctx),
        compute::observe(ctx),
        iam::observe(ctx),
        batch::observe(ctx),
        storage::observe(ctx),
        logs::observe(ctx),
    );
    let mut all = Vec::new();
    for part in [net, comp, iam, batch, storage, logs] {
        all.extend(part?);
    }
    Ok(all)
}

/// How a live resource differs from what the spec asks.
pub(crate) fn drift(ctx: &Ctx, r: &Resource, live: &Live) -> Vec<Drift> {
    match module(r.kind) {
        Module::Network => network::drift(ctx, r, live),
        Module::Compute => compute::drift(ctx, r, live),
        Module::Iam => iam::drift(ctx, r, live),
        Module::Batch => batch::drift(ctx, r, live),
        Module::Storage => storage::drift(ctx, r, live),
        Module::Logs => logs::drift(ctx, r, live),
    }
}

/// Creates a resource and waits until dependents can use it.
pub(crate) async fn create(ctx: &Ctx, r: &Resource) -> Result<Live, ProvisionError> {
    match module(r.kind) {
        Module::Network => network::create(ctx, r).await,
        Module::Compute => compute::create(ctx, r).await,
        Module::Iam => iam::create(ctx, r).await,
        Module::Batch => batch::create(ctx, r).await,
        Module::Storage => storage::create(ctx, r).await,
        Module::Logs => logs::create(ctx, r).await,
    }
}

/// Brings a live resource in line with the spec where AWS allows it in place.
pub(crate) async fn update(
    ctx: &Ctx,
    r: &Resource,
    live: &Live,
    drifts: &[Drift],
) -> Result<Live, ProvisionError> {
    match module(r.kind) {
        Module::Network => network::update(ctx, r, live, drifts).await,
        Module::Compute => compute::update(ctx, r, live, drifts).await,
        Module::Iam => iam::update(ctx, r, live, drifts).await,
        Module::Batch => batch::update(ctx, r, live, drifts).await,
        Module::Storage => storage::update(ctx, r, live, drifts).await,
        Module::Logs => logs::update(ctx, r, live, drifts).await,
    }
}

/// Whether a resource found in AWS is still on its way to being usable.
pub(crate) fn unsettled(kind: Kind, live: &Live) -> bool {
    match kind {
        Kind::ComputeEnvironment | Kind::JobQueue => {
            matches!(live.get("status"), "CREATING" | "UPDATING") || batch::revalidatable(live)
        }
        Kind::FileSystem | Kind::DataRepositoryAssociation => {
            matches!(live.state.as_str(), "CREATING" | "UPDATING")
        }
        Kind::NatGateway => live.state == "pending",
        _ => false,
    }
}

/// Whether a resource found in AWS is on its way out (a `down` that was stopped): it is waited
/// out and created again, never updated (AWS refuses updates to it).
pub(crate) fn leaving(kind: Kind, live: &Live) -> bool {
    match kind {
        Kind::ComputeEnvironment | Kind::JobQueue => live.get("status") == "DELETING",
        Kind::FileSystem | Kind::DataRepositoryAssociation => live.state == "DELETING",
        Kind::NatGateway => live.state == "deleting",
        _ => false,
    }
}

/// Waits until a resource found on its way out is gone.
pub(crate) async fn gone(ctx: &Ctx, r: &Resource, live: &Live) -> Result<(), ProvisionError> {
    match r.kind {
        Kind::ComputeEnvironment | Kind::JobQueue | Kind::NatGateway | Kind::FileSystem => {
            match module(r.kind) {
                Module::Batch => batch::gone(ctx, r, live).await,
                Module::Network => network::gone(ctx, r, live).await,
                _ => storage::gone(ctx, r, live).await,
            }
        }
        _ => Ok(()),
    }
}

/// Waits until a resource found in a transitional state is usable.
pub(crate) async fn settle(ctx: &Ctx, r: &Resource, live: &Live) -> Result<Live, ProvisionError> {
    match r.kind {
        Kind::ComputeEnvironment | Kind::JobQueue => batch::settle(ctx, r, live).await,
        Kind::FileSystem | Kind::DataRepositoryAssociation => storage::settle(ctx, r, live).await,
        Kind::NatGateway => network::settle(ctx, r, live).await,
        _ => Ok(live.clone()),
    }
}

/// Deletes a resource found in AWS and waits until it is gone.
pub(crate) async fn delete(ctx: &Ctx, o: &Observed, keep_data: bool) -> Result<(), ProvisionError> {
    match module(o.kind) {
        Module::Network => network::delete(ctx, o).await,
        Module::Compute => compute::delete(ctx, o).await,
        Module::Iam => iam::delete(ctx, o).await,
        Module::Batch => batch::delete(ctx, o).await,
        Module::Storage => storage::delete(ctx, o, keep_data).await,
        Module::Logs => logs::delete(ctx, o).await,
    }
}

/// Polls a resource through its lifecycle, reporting each new state as progress.
pub(crate) async fn wait_for<T, F, Fut>(
    ctx: &Ctx,
    id: &str,
    deadline: Duration,
    probe: F,
) -> Result<T, ProvisionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Probe<T>, AwsError>>,
{
    let backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(10),
        deadline,
    };
    wait::until(id, backoff, probe, |state| {
        ctx.emit(Event::Waiting {
            id: id.to_string(),
            state: state.to_string(),
        })
    })
    .await
    .map_err(|e| ProvisionError::wait(id, e))
}

/// Repeats a call AWS refuses for a reason that passes with time (a dependency still being
/// deleted, eventual consistency), until it succeeds, fails otherwise, or the deadline passes.
pub(crate) async fn retry_while<T, F, Fut>(
    ctx: &Ctx,
    id: &str,
    deadline: Duration,
    passes: impl Fn(&AwsError) -> bool,
    mut call: F,
) -> Result<T, ProvisionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if passes(&e) && start.elapsed() < deadline => {
                ctx.emit(Event::Waiting {
                    id: id.to_string(),
                    state: format!(
                        "{} ({})",
                        e.code.as_deref().unwrap_or("retrying"),
                        e.message
                    ),
                });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Turns "not found" into `None`.
pub(crate) fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
