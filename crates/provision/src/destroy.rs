//! `down`: find everything tagged with the stack (the state file is not needed, and nothing
//! without the stack's tag is touched) and delete it in the order AWS requires: jobs, queues
//! (disabled first), compute environments (disabled first, retried while a queue still holds
//! them), then job definitions, launch templates, placement groups and IAM; FSx deletion starts
//! first and is awaited before the network goes; the NAT gateway goes once the queues are gone;
//! buckets are emptied of every version.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use pipectl_spec::graph::{Kind, ResourceId};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::ctx::{Ctx, Event};
use crate::error::ProvisionError;
use crate::kinds::{self, Observed};
use crate::state::{State, StateStore};

/// What a `down` did: the logical ids by outcome, its duration and its AWS calls.
#[derive(Debug, Default, Serialize)]
pub struct DownSummary {
    /// Logical ids deleted.
    pub deleted: Vec<String>,
    /// Logical ids kept on purpose (the data buckets with `--keep-data`).
    pub kept: Vec<String>,
    /// In the state file but not found with the stack's tags: left alone.
    pub untracked: Vec<String>,
    /// Wall-clock seconds the teardown took.
    pub seconds: f64,
    /// AWS operations made, by `service:Operation`.
    pub calls: BTreeMap<String, u64>,
}

/// The order of teardown; kinds in one stage go concurrently.
const STAGES: &[&[Kind]] = &[
    &[Kind::JobQueue],
    &[Kind::ComputeEnvironment],
    &[
        Kind::LaunchTemplate,
        Kind::PlacementGroup,
        Kind::InstanceProfile,
    ],
    // After the queues (their jobs are ended) and compute environments.
    &[Kind::IamRole, Kind::LogGroup],
    // The NAT gateway is not here: see `NAT_AFTER`.
    &[Kind::VpcEndpoint],
    &[Kind::ElasticIp, Kind::InternetGateway, Kind::RouteTable],
    &[Kind::SecurityGroup],
    &[Kind::Subnet],
    &[Kind::Vpc],
];

/// The NAT gateway goes as soon as the stages up to this one are done (the queues: no job
/// needs the internet any more), beside the compute environments' deletion: its network
/// interface takes time to be released after it is deleted, and holds its subnet until then.
const NAT_AFTER: usize = 0;

/// Started at once, beside the stages: they depend on nothing else of the stack. FSx must be
/// gone before the network stages (its interfaces sit in the subnet and security group).
const EARLY: &[Kind] = &[
    Kind::FileSystem,
    Kind::JobDefinition,
    Kind::Bucket,
    Kind::Dashboard,
    Kind::EventRule,
    Kind::EventQueue,
];

/// A resource `down` is done with: deleted, or kept (`--keep-data`).
struct Removed {
    logical: String,
    kept: bool,
}

async fn delete_all(
    ctx: &Arc<Ctx>,
    items: Vec<Observed>,
    keep_data: bool,
    state: &std::sync::Mutex<(&mut State, &StateStore)>,
) -> (Vec<Removed>, Vec<ProvisionError>) {
    let mut set = JoinSet::new();
    for o in items {
        let ctx = ctx.clone();
        set.spawn(async move {
            let t = Instant::now();
            ctx.emit(Event::Started {
                id: o.logical.clone(),
                action: "delete".into(),
            });
            let r = kinds::delete(&ctx, &o, keep_data).await;
            (o, r, t.elapsed().as_secs_f64())
        });
    }
    let (mut ok, mut errs) = (Vec::new(), Vec::new());
    while let Some(j) = set.join_next().await {
        let Ok((o, r, secs)) = j else {
            errs.push(ProvisionError::refused("executor", "a task panicked", None));
            continue;
        };
        match r {
            Ok(()) => {
                let kept = keep_data && o.kind == Kind::Bucket;
                if !kept {
                    let mut guard = state
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (st, store) = &mut *guard;
                    if st
                        .resources
                        .get(&o.logical)
                        .is_some_and(|e| e.physical_id == o.live.physical_id)
                    {
                        if let Some(e) = st.resources.remove(&o.logical) {
                            store.record_ended(&o.logical, &e);
                        }
                        let _ = store.save(st);
                    }
                }
                ctx.emit(Event::Done {
                    id: o.logical.clone(),
                    action: if kept {
                        "kept".into()
                    } else {
                        "deleted".into()
                    },
                    physical_id: o.live.physical_id.clone(),
                    seconds: secs,
                });
                ok.push(Removed {
                    logical: o.logical,
                    kept,
                });
            }
            Err(e) => {
                ctx.emit(Event::Failed {
                    id: o.logical.clone(),
                    error: e.to_string(),
                });
                errs.push(e);
            }
        }
    }
    (ok, errs)
}

/// Deletes every resource of the stack found by its tags, in teardown order (dependents
/// first), recording each deletion in the state file as it goes; `keep_data` keeps the data
/// buckets.
pub async fn destroy(
    ctx: Arc<Ctx>,
    store: &StateStore,
    state: &mut State,
    keep_data: bool,
) -> Result<DownSummary, ProvisionError> {
    let start = Instant::now();
    let observed = kinds::observe(&ctx).await?;
    let mut summary = DownSummary::default();
    forget_the_gone(state, store, &observed, &mut summary)?;
    if observed.is_empty() {
        store.remove()?;
        summary.seconds = start.elapsed().as_secs_f64();
        summary.calls = ctx.aws.calls.operations();
        return Ok(summary);
    }

    let shared = std::sync::Mutex::new((state, store));
    let (removed, errors) = tear_down(&ctx, observed, keep_data, &shared).await;
    let (state, store) = shared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for r in removed {
        if r.kept {
            summary.kept.push(r.logical);
        } else {
            summary.deleted.push(r.logical);
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.calls = ctx.aws.calls.operations();
    if !errors.is_empty() {
        return Err(first_of(errors));
    }
    // Only kept buckets left: the state keeps them; otherwise it goes.
    if state.resources.values().all(|e| e.kind == "bucket") && !state.resources.is_empty() {
        store.save(state)?;
    } else {
        store.remove()?;
    }
    Ok(summary)
}

/// Deletes what was observed, concurrently where AWS allows (see [`Schedule`]): the file
/// system (then the buckets linked to it) and what depends on nothing else beside the
/// compute stages; the NAT gateway beside the compute environments once the queues are gone;
/// the network stages last, once the file system is gone. Returns what was removed and what
/// failed.
async fn tear_down(
    ctx: &Arc<Ctx>,
    observed: Vec<Observed>,
    keep_data: bool,
    shared: &std::sync::Mutex<(&mut State, &StateStore)>,
) -> (Vec<Removed>, Vec<ProvisionError>) {
    let Schedule {
        fsx,
        after_fsx,
        others,
        rest,
    } = schedule(observed, &linked_buckets(&ctx.spec));
    // A bucket linked to the file system is emptied only once the file system is gone: an
    // export still under way would write into it after it was emptied.
    let early_fsx = async {
        let (mut ok, errs) = delete_all(ctx, fsx, keep_data, shared).await;
        if !errs.is_empty() {
            return (ok, errs);
        }
        let (ok2, errs2) = delete_all(ctx, after_fsx, keep_data, shared).await;
        ok.extend(ok2);
        (ok, errs2)
    };
    let early_rest = delete_all(ctx, others, keep_data, shared);
    let compute_stages = |from: usize, to: usize| {
        let (ctx, rest, shared) = (ctx, &rest, shared);
        async move {
            let mut done = Vec::new();
            let mut errs = Vec::new();
            for kinds in &STAGES[from..to] {
                let (ok, e) = delete_all(ctx, of_kinds(rest, kinds), keep_data, shared).await;
                done.extend(ok);
                if !e.is_empty() {
                    errs.extend(e);
                    break;
                }
            }
            (done, errs)
        }
    };
    // The network stages (from the fifth) wait for FSx, below.
    let stages = async {
        let (mut done, errs) = compute_stages(0, NAT_AFTER + 1).await;
        if !errs.is_empty() {
            return (done, errs);
        }
        let nat = delete_all(ctx, of_kinds(&rest, &[Kind::NatGateway]), keep_data, shared);
        let ((a, mut ea), (b, eb)) = tokio::join!(compute_stages(NAT_AFTER + 1, 4), nat);
        done.extend(a.into_iter().chain(b));
        ea.extend(eb);
        (done, ea)
    };
    let ((a, ea), (b, eb), (c, ec)) = tokio::join!(early_fsx, early_rest, stages);
    let mut removed: Vec<Removed> = a.into_iter().chain(b).chain(c).collect();
    let mut errors: Vec<ProvisionError> = ea.into_iter().chain(eb).chain(ec).collect();
    if errors.is_empty() {
        for kinds in &STAGES[4..] {
            let (ok, e) = delete_all(ctx, of_kinds(&rest, kinds), keep_data, shared).await;
            removed.extend(ok);
            if !e.is_empty() {
                errors.extend(e);
                break;
            }
        }
    }
    (removed, errors)
}

/// What the state file lists but AWS no longer has (or no longer tags as the stack's) is not
/// deleted: it leaves the state, named in the summary as untracked. What `up` creates after
/// this `down` (complete or not) is a new request: the state gets a new lifetime (new tokens).
fn forget_the_gone(
    state: &mut State,
    store: &StateStore,
    observed: &[Observed],
    summary: &mut DownSummary,
) -> Result<(), ProvisionError> {
    for (id, e) in &state.resources {
        if !observed.iter().any(|o| o.live.physical_id == e.physical_id) {
            summary.untracked.push(format!("{id} ({})", e.physical_id));
        }
    }
    state
        .resources
        .retain(|_, e| observed.iter().any(|o| o.live.physical_id == e.physical_id));
    state.lifetime = Some(crate::token::new_lifetime());
    store.save(state)
}

/// The one error, or the first of several.
fn first_of(mut errors: Vec<ProvisionError>) -> ProvisionError {
    match errors.len() {
        1 => errors.remove(0),
        n => ProvisionError::Several {
            count: n,
            first: Box::new(errors.remove(0)),
        },
    }
}

/// What `down` deletes, in which order: the file system with its associations first (or the
/// associations alone when there is no file system), then the buckets linked to it; beside
/// them what depends on nothing else of the stack; and the rest by stages.
struct Schedule {
    fsx: Vec<Observed>,
    after_fsx: Vec<Observed>,
    others: Vec<Observed>,
    rest: Vec<Observed>,
}

fn schedule(observed: Vec<Observed>, linked: &HashSet<ResourceId>) -> Schedule {
    let (early, rest): (Vec<Observed>, Vec<Observed>) = observed
        .into_iter()
        .partition(|o| EARLY.contains(&o.kind) || o.kind == Kind::DataRepositoryAssociation);
    // Associations go with their file system; alone only when there is none to delete.
    let has_fs = early.iter().any(|o| o.kind == Kind::FileSystem);
    let early: Vec<Observed> = early
        .into_iter()
        .filter(|o| !(has_fs && o.kind == Kind::DataRepositoryAssociation))
        .collect();
    let (fsx, others): (Vec<Observed>, Vec<Observed>) = early
        .into_iter()
        .partition(|o| o.kind == Kind::FileSystem || o.kind == Kind::DataRepositoryAssociation);
    let (after_fsx, others): (Vec<Observed>, Vec<Observed>) = others
        .into_iter()
        .partition(|o| has_fs && waits_for_fsx(o, linked));

    Schedule {
        fsx,
        after_fsx,
        others,
        rest,
    }
}

/// The resources of some kinds, in the order found.
fn of_kinds(items: &[Observed], kinds: &[Kind]) -> Vec<Observed> {
    items
        .iter()
        .filter(|o| kinds.contains(&o.kind))
        .cloned()
        .collect()
}

/// The logical ids of the buckets the spec links to the file system (data repositories).
fn linked_buckets(spec: &pipectl_spec::Spec) -> HashSet<ResourceId> {
    spec.fsx
        .iter()
        .flat_map(|f| &f.data_repositories)
        .map(|r| ResourceId::Bucket(r.bucket.clone()))
        .collect()
}

/// Whether `down` deletes `o` only after the file system is gone.
fn waits_for_fsx(o: &Observed, linked: &HashSet<ResourceId>) -> bool {
    o.kind == Kind::Bucket && o.id().is_some_and(|id| linked.contains(&id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::Live;

    fn observed(kind: Kind, logical: &str) -> Observed {
        Observed {
            kind,
            logical: logical.into(),
            live: Live::new("x", "exists"),
        }
    }

    fn logicals(items: &[Observed]) -> Vec<&str> {
        items.iter().map(|o| o.logical.as_str()).collect()
    }

    #[test]
    fn the_file_system_goes_first_with_its_associations_then_its_buckets() {
        let linked = HashSet::from([ResourceId::Bucket("results".into())]);
        let all = vec![
            observed(Kind::Vpc, "vpc"),
            observed(Kind::DataRepositoryAssociation, "dra-0"),
            observed(Kind::Bucket, "bucket-results"),
            observed(Kind::FileSystem, "fsx"),
            observed(Kind::Bucket, "bucket-documentation"),
            observed(Kind::ComputeEnvironment, "ce-gpu"),
        ];
        let s = schedule(all.clone(), &linked);
        assert_eq!(
            logicals(&s.fsx),
            ["fsx"],
            "associations go with their file system"
        );
        assert_eq!(logicals(&s.after_fsx), ["bucket-results"]);
        assert_eq!(logicals(&s.others), ["bucket-documentation"]);
        assert_eq!(logicals(&s.rest), ["vpc", "ce-gpu"]);
        // without a file system, associations are deleted alone and buckets do not wait
        let s = schedule(
            all.into_iter()
                .filter(|o| o.kind != Kind::FileSystem)
                .collect(),
            &linked,
        );
        assert_eq!(logicals(&s.fsx), ["dra-0"]);
        assert!(s.after_fsx.is_empty());
        assert_eq!(
            logicals(&s.others),
            ["bucket-results", "bucket-documentation"]
        );
    }

    #[test]
    fn the_nat_gateway_goes_once_the_queues_are_gone_not_after_the_compute_side() {
        assert_eq!(STAGES[NAT_AFTER], &[Kind::JobQueue]);
        assert!(STAGES.iter().all(|s| !s.contains(&Kind::NatGateway)));
        // what its route and address need gone first still goes after it
        let later = |k: Kind| STAGES.iter().position(|s| s.contains(&k)).unwrap();
        assert!(later(Kind::RouteTable) > NAT_AFTER && later(Kind::ElasticIp) >= 4);
    }

    #[test]
    fn buckets_linked_to_the_file_system_wait_for_it() {
        let spec = crate::seed_spec();
        let linked = linked_buckets(&spec);
        assert!(waits_for_fsx(
            &observed(Kind::Bucket, "bucket-results"),
            &linked
        ));
        assert!(waits_for_fsx(
            &observed(Kind::Bucket, "bucket-input-data"),
            &linked
        ));
        assert!(!waits_for_fsx(
            &observed(Kind::Bucket, "bucket-documentation"),
            &linked
        ));
        assert!(!waits_for_fsx(
            &observed(Kind::Dashboard, "bucket-results"),
            &linked
        ));
    }
}
