//! `up`: read what exists (tags and names, not the state file's word for it), compare with
//! the spec, and create or update what differs by walking the resource graph concurrently:
//! each resource starts as soon as everything it depends on is in place, and the state file
//! is written after each one, so an interrupted `up` resumes where it stopped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use pipectl_spec::graph::{Kind, Resource, ResourceId};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;
use crate::kinds::{self, Observed};
use crate::recheck::{Carried, recheck, replacement_refused, to_recheck};
use crate::state::{Entry, State, StateStore, now_rfc3339};

/// What `up` does with one resource of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Missing, or found on its way out (a stopped `down`; `live` is then set): waited out
    /// and created again.
    Create,
    /// Exists as the spec says: nothing to do.
    Unchanged,
    /// Exists as the spec says, but AWS is still creating it (an interrupted `up`): wait.
    Wait,
    /// Differs; AWS allows the change in place.
    Update,
    /// Differs in a way AWS does not change in place.
    Replace,
}

/// One resource of the graph, what `up` will do with it, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The resource's logical id in the graph.
    pub id: ResourceId,
    /// Its kind of AWS object.
    pub kind: Kind,
    /// Its name (or, once known, its AWS id) as the plan shows it.
    pub name: String,
    /// What `up` does with it.
    pub action: Action,
    /// What AWS has now, when it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Live>,
    /// Each difference between the spec and AWS (empty unless Update or Replace).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
}

/// What `up` would do to a stack, resource by resource, in the graph's order.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The stack's name.
    pub stack: String,
    /// One entry per resource of the graph, in dependency order.
    pub changes: Vec<Change>,
    /// Resources tagged with the stack that the spec no longer has (`down` removes them).
    pub strays: Vec<Observed>,
}

impl Plan {
    /// How many changes have action `a`.
    pub fn count(&self, a: &Action) -> usize {
        self.changes.iter().filter(|c| &c.action == a).count()
    }
    /// Whether `up` would change nothing (every resource unchanged).
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::Unchanged)
    }
}

/// Compares what exists with the spec. Makes only read calls.
pub async fn plan(ctx: &Ctx) -> Result<Plan, ProvisionError> {
    kinds::iam::check_existing(ctx).await?;
    let observed = kinds::observe(ctx).await?;
    // Keyed by the tag as found, so that a duplicate is reported whatever the tag holds.
    let mut by_logical: HashMap<&str, &Observed> = HashMap::new();
    for o in &observed {
        if let Some(prev) = by_logical.insert(o.logical.as_str(), o) {
            ctx.emit(Event::Note {
                message: format!("{}: two resources carry this tag ({} and {}); using the second, the other is left for `down`", o.logical, prev.live.physical_id, o.live.physical_id),
            });
        }
    }
    // Outputs first, so that drift of a dependent can compare against its dependencies.
    for o in &observed {
        if let Some(id) = o.id()
            && ctx.resource(&id).is_some_and(|r| r.kind == o.kind)
            && !kinds::leaving(o.kind, &o.live)
        {
            ctx.set_output(&id, o.live.clone());
        }
    }
    let mut changes = Vec::new();
    for r in &ctx.graph.resources {
        let found = by_logical
            .get(r.id.to_string().as_str())
            .filter(|o| o.kind == r.kind);
        let (action, live, drift) = match found {
            None => (Action::Create, None, vec![]),
            Some(o) if kinds::leaving(r.kind, &o.live) => {
                (Action::Create, Some(o.live.clone()), vec![])
            }
            Some(o) => {
                let d = kinds::drift(ctx, r, &o.live);
                let action = if d.is_empty() && kinds::unsettled(r.kind, &o.live) {
                    Action::Wait
                } else if d.is_empty() {
                    Action::Unchanged
                } else if d.iter().all(|d| d.in_place) {
                    Action::Update
                } else {
                    Action::Replace
                };
                (action, Some(o.live.clone()), d)
            }
        };
        changes.push(Change {
            id: r.id.clone(),
            kind: r.kind,
            name: r.name.clone(),
            action,
            live,
            drift,
        });
    }
    let known: HashSet<&ResourceId> = ctx.graph.resources.iter().map(|r| &r.id).collect();
    let strays = observed
        .iter()
        .filter(|o| o.id().is_none_or(|id| !known.contains(&id)))
        .cloned()
        .collect();
    Ok(Plan {
        stack: ctx.stack.clone(),
        changes,
        strays,
    })
}

/// What an `up` did: the logical ids by outcome, its duration and its AWS calls.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Logical ids created.
    pub created: Vec<String>,
    /// Logical ids updated in place or replaced.
    pub updated: Vec<String>,
    /// Logical ids left as they were, or found still being created and waited for.
    pub unchanged: Vec<String>,
    /// Wall-clock seconds the apply took.
    pub seconds: f64,
    /// AWS operations made, by `service:Operation`.
    pub calls: BTreeMap<String, u64>,
}

/// Carries out a plan. Replacements are refused unless `allow_replace` (they are never
/// carried out silently); the caller asks for confirmation before setting it.
pub async fn apply(
    ctx: Arc<Ctx>,
    plan: &Plan,
    store: &StateStore,
    state: &mut State,
    concurrency: usize,
) -> Result<Summary, ProvisionError> {
    let start = Instant::now();
    refuse_replacements(plan)?;
    let mut summary = Summary::default();
    let graph_ids: HashSet<&ResourceId> = ctx.graph.resources.iter().map(|r| &r.id).collect();
    let mut done: HashSet<ResourceId> = HashSet::new();
    let mut pending: Vec<&Change> = Vec::new();
    let again = to_recheck(plan, &ctx.graph);
    for c in &plan.changes {
        if c.action == Action::Unchanged && !again.contains(&c.id) {
            let live = c.live.clone().expect("unchanged resources are live");
            record(state, &c.id, c.kind, &live);
            done.insert(c.id.clone());
            summary.unchanged.push(c.id.to_string());
        } else {
            pending.push(c);
        }
    }
    store.save(state)?;
    if pending.is_empty() {
        summary.seconds = start.elapsed().as_secs_f64();
        summary.calls = ctx.aws.calls.operations();
        return Ok(summary);
    }

    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks: JoinSet<(ResourceId, Result<Carried, ProvisionError>, f64)> = JoinSet::new();
    let mut started: HashSet<ResourceId> = HashSet::new();
    let mut failures: Vec<ProvisionError> = Vec::new();
    loop {
        if failures.is_empty() {
            for c in &pending {
                if started.contains(&c.id) {
                    continue;
                }
                let r: Resource = ctx
                    .graph
                    .get(&c.id)
                    .expect("planned from the graph")
                    .clone();
                if !ready(&r, &graph_ids, &done) {
                    continue;
                }
                started.insert(c.id.clone());
                let (ctx, permits, change) = (ctx.clone(), permits.clone(), (*c).clone());
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await.expect("never closed");
                    let t = Instant::now();
                    let result = carry_out(&ctx, &r, &change).await;
                    (change.id, result, t.elapsed().as_secs_f64())
                });
            }
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (id, result, secs) = joined.map_err(|e| {
            ProvisionError::refused("executor", format!("a task panicked: {e}"), None)
        })?;
        let change = plan.changes.iter().find(|c| c.id == id).expect("planned");
        match result {
            Ok(carried) => {
                completed(&ctx, store, state, &mut summary, change, &carried, secs)?;
                done.insert(id);
            }
            Err(e) => {
                ctx.emit(Event::Failed {
                    id: id.to_string(),
                    error: e.to_string(),
                });
                failures.push(e);
            }
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.calls = ctx.aws.calls.operations();
    outcome(summary, failures)
}

/// The summary, or the one failure, or the first of several.
fn outcome(summary: Summary, mut failures: Vec<ProvisionError>) -> Result<Summary, ProvisionError> {
    match failures.len() {
        0 => Ok(summary),
        1 => Err(failures.remove(0)),
        n => Err(ProvisionError::Several {
            count: n,
            first: Box::new(failures.remove(0)),
        }),
    }
}

/// Whether everything a resource waits for in the graph is in place: done, which for a
/// dependency it only `uses` means created (a kind's create answers once it may be built on).
fn ready(r: &Resource, graph_ids: &HashSet<&ResourceId>, done: &HashSet<ResourceId>) -> bool {
    pipectl_spec::graph::Graph::prerequisites(r)
        .filter(|d| graph_ids.contains(d))
        .all(|d| done.contains(d))
}

/// Records a resource carried out: its output for dependents, the state file, progress and
/// the summary.
fn completed(
    ctx: &Ctx,
    store: &StateStore,
    state: &mut State,
    summary: &mut Summary,
    change: &Change,
    carried: &Carried,
    secs: f64,
) -> Result<(), ProvisionError> {
    let (id, live) = (&change.id, &carried.live);
    ctx.set_output(id, live.clone());
    record(state, id, change.kind, live);
    store.save(state)?;
    if !carried.acted {
        // Compared again once its dependencies were done, and still as the spec says.
        summary.unchanged.push(id.to_string());
        return Ok(());
    }
    let word = match change.action {
        Action::Create => "created",
        Action::Wait => "ready",
        _ => "updated",
    };
    ctx.emit(Event::Done {
        id: id.to_string(),
        action: word.into(),
        physical_id: live.physical_id.clone(),
        seconds: secs,
    });
    match change.action {
        Action::Create => summary.created.push(id.to_string()),
        Action::Wait => summary.unchanged.push(id.to_string()),
        _ => summary.updated.push(id.to_string()),
    }
    Ok(())
}

/// Replacements are never carried out silently: the first one stops `apply` with what
/// differs and how to proceed.
fn refuse_replacements(plan: &Plan) -> Result<(), ProvisionError> {
    if let Some(c) = plan.changes.iter().find(|c| c.action == Action::Replace) {
        let d = c
            .drift
            .iter()
            .find(|d| !d.in_place)
            .expect("a replacement has a drift that cannot be fixed in place");
        return Err(replacement_refused(&c.id, &c.name, d));
    }
    Ok(())
}

/// Creates, waits for or updates one resource as its change says, reporting the start.
async fn carry_out(ctx: &Ctx, r: &Resource, change: &Change) -> Result<Carried, ProvisionError> {
    if matches!(change.action, Action::Unchanged | Action::Update) {
        // Compared now, with what its dependencies became in this run.
        return recheck(ctx, r, change).await;
    }
    // What is left: creations and waits (replacements were refused before anything started).
    let action = if change.action == Action::Create {
        "create"
    } else {
        "wait"
    };
    ctx.emit(Event::Started {
        id: change.id.to_string(),
        action: action.into(),
    });
    let live = match (&change.live, &change.action) {
        (None, _) => kinds::create(ctx, r).await,
        (Some(leaving), Action::Create) => match kinds::gone(ctx, r, leaving).await {
            Ok(()) => kinds::create(ctx, r).await,
            Err(e) => Err(e),
        },
        (Some(live), _) => kinds::settle(ctx, r, live).await,
    };
    live.map(|live| Carried { live, acted: true })
}

fn record(state: &mut State, id: &ResourceId, kind: Kind, live: &Live) {
    let id = id.to_string();
    let since = state
        .resources
        .get(&id)
        .filter(|e| e.physical_id == live.physical_id)
        .map(|e| e.since.clone())
        .unwrap_or_else(now_rfc3339);
    state.resources.insert(
        id,
        Entry {
            kind: serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            physical_id: live.physical_id.clone(),
            arn: live.arn.clone(),
            attrs: live.attrs.clone(),
            since,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, drift: Vec<Drift>) -> Change {
        Change {
            id: ResourceId::FileSystem,
            kind: Kind::FileSystem,
            name: "pipectl-seed-lustre".into(),
            action,
            live: None,
            drift,
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            stack: "seed".into(),
            changes,
            strays: vec![],
        }
    }

    #[test]
    fn a_replacement_is_refused_with_what_differs() {
        let p = plan(vec![
            change(Action::Unchanged, vec![]),
            change(
                Action::Replace,
                vec![
                    Drift::new("tags", "x", "y", true),
                    Drift::new("capacity", "2400GiB", "1200GiB", false),
                ],
            ),
        ]);
        let e = refuse_replacements(&p).unwrap_err().to_string();
        assert!(e.contains("fsx (pipectl-seed-lustre)"), "{e}");
        assert!(
            e.contains("capacity is 1200GiB in AWS but 2400GiB in the spec"),
            "{e}"
        );
    }

    #[test]
    fn a_resource_is_ready_once_its_dependencies_in_the_graph_are_done() {
        let r = Resource {
            id: ResourceId::NatGateway,
            kind: Kind::NatGateway,
            name: "nat".into(),
            settings: vec![],
            depends_on: vec![ResourceId::PublicSubnet, ResourceId::NatEip],
            uses: vec![],
            payload: pipectl_spec::graph::Payload::None,
        };
        let graph: HashSet<&ResourceId> = [&ResourceId::PublicSubnet, &ResourceId::NatEip].into();
        let mut done = HashSet::from([ResourceId::PublicSubnet]);
        assert!(!ready(&r, &graph, &done));
        done.insert(ResourceId::NatEip);
        assert!(ready(&r, &graph, &done));
        // a dependency outside the graph (an existing VPC's) does not hold it back
        let graph: HashSet<&ResourceId> = [&ResourceId::PublicSubnet].into();
        assert!(ready(
            &r,
            &graph,
            &HashSet::from([ResourceId::PublicSubnet])
        ));
    }

    #[test]
    fn a_resource_that_only_uses_another_waits_for_it_too() {
        let r = Resource {
            id: ResourceId::LaunchTemplate("gpu".into()),
            kind: Kind::LaunchTemplate,
            name: "lt".into(),
            settings: vec![],
            depends_on: vec![ResourceId::SecurityGroup],
            uses: vec![ResourceId::FileSystem],
            payload: pipectl_spec::graph::Payload::None,
        };
        let graph: HashSet<&ResourceId> =
            [&ResourceId::SecurityGroup, &ResourceId::FileSystem].into();
        assert!(!ready(
            &r,
            &graph,
            &HashSet::from([ResourceId::SecurityGroup])
        ));
        assert!(ready(
            &r,
            &graph,
            &HashSet::from([ResourceId::SecurityGroup, ResourceId::FileSystem])
        ));
    }

    #[test]
    fn updates_and_creations_go_ahead() {
        let p = plan(vec![
            change(Action::Create, vec![]),
            change(Action::Update, vec![Drift::new("tags", "x", "y", true)]),
        ]);
        assert!(refuse_replacements(&p).is_ok());
    }
}
