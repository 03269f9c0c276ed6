//! Resources the plan found unchanged or to update, whose dependencies `up` creates or changes:
//! what they must match (a route's NAT gateway id, a compute environment's launch template
//! version) is known only once those are done, so they are compared again then and put right
//! in place.

use std::collections::HashSet;

use pipectl_spec::graph::{Graph, Resource, ResourceId};

use crate::apply::{Action, Change, Plan};
use crate::ctx::{Ctx, Drift, Event, Live};
use crate::error::ProvisionError;
use crate::kinds;

/// The unchanged resources to compare again: those with a prerequisite that `up` creates,
/// waits for or changes, directly or through another resource compared again.
pub(crate) fn to_recheck(plan: &Plan, graph: &Graph) -> HashSet<ResourceId> {
    let mut moving: HashSet<&ResourceId> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .map(|c| &c.id)
        .collect();
    let mut out = HashSet::new();
    loop {
        let more: Vec<&ResourceId> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Unchanged && !out.contains(&c.id))
            .filter(|c| {
                graph
                    .get(&c.id)
                    .is_some_and(|r| Graph::prerequisites(r).any(|d| moving.contains(d)))
            })
            .map(|c| &c.id)
            .collect();
        if more.is_empty() {
            return out;
        }
        for id in more {
            moving.insert(id);
            out.insert(id.clone());
        }
    }
}

/// The refusal of a replacement: what differs and how to proceed.
pub(crate) fn replacement_refused(id: &ResourceId, name: &str, d: &Drift) -> ProvisionError {
    ProvisionError::refused(
        format!("{id} ({name})"),
        format!(
            "{} is {} in AWS but {} in the spec, and AWS cannot change it in place",
            d.what, d.have, d.want
        ),
        Some(
            "pipectl does not replace resources behind your back: run `pipectl down` then `pipectl up`, or set the spec back",
        ),
    )
}

/// What carrying out one change gave: what AWS has now, and whether a call changed it.
pub(crate) struct Carried {
    pub(crate) live: Live,
    pub(crate) acted: bool,
}

/// Compares a resource found unchanged or to update again, now that its dependencies are done;
/// updates it in place when it differs (with every difference seen now, not only the plan's).
pub(crate) async fn recheck(
    ctx: &Ctx,
    r: &Resource,
    change: &Change,
) -> Result<Carried, ProvisionError> {
    let live = change
        .live
        .clone()
        .expect("resources to compare again exist");
    let drift = kinds::drift(ctx, r, &live);
    if drift.is_empty() {
        return Ok(Carried { live, acted: false });
    }
    if let Some(d) = drift.iter().find(|d| !d.in_place) {
        return Err(replacement_refused(&change.id, &change.name, d));
    }
    ctx.emit(Event::Started {
        id: change.id.to_string(),
        action: "update".into(),
    });
    let live = kinds::update(ctx, r, &live, &drift).await?;
    Ok(Carried { live, acted: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(graph: &Graph, moving: &[ResourceId]) -> Plan {
        Plan {
            stack: "s".into(),
            changes: graph
                .resources
                .iter()
                .map(|r| Change {
                    id: r.id.clone(),
                    kind: r.kind,
                    name: r.name.clone(),
                    action: if moving.contains(&r.id) {
                        Action::Create
                    } else {
                        Action::Unchanged
                    },
                    live: Some(Live::new("x", "available")),
                    drift: vec![],
                })
                .collect(),
            strays: vec![],
        }
    }

    fn seed() -> Graph {
        Graph::from_spec(&crate::seed_spec())
    }

    #[test]
    fn a_recreated_nat_gateway_has_its_route_table_compared_again_and_nothing_else() {
        let g = seed();
        let again = to_recheck(&plan_of(&g, &[ResourceId::NatGateway]), &g);
        assert_eq!(again, HashSet::from([ResourceId::PrivateRouteTable]));
    }

    #[test]
    fn what_depends_on_a_recreated_launch_template_is_compared_again_down_the_chain() {
        let g = seed();
        let lt = g
            .resources
            .iter()
            .find(|r| r.kind == pipectl_spec::graph::Kind::LaunchTemplate)
            .unwrap()
            .id
            .clone();
        let again = to_recheck(&plan_of(&g, std::slice::from_ref(&lt)), &g);
        let kinds: HashSet<_> = again.iter().map(|id| g.get(id).unwrap().kind).collect();
        assert!(
            kinds.contains(&pipectl_spec::graph::Kind::ComputeEnvironment),
            "{again:?}"
        );
        assert!(
            kinds.contains(&pipectl_spec::graph::Kind::JobQueue),
            "{again:?}"
        );
        assert!(!again.contains(&lt));
        assert!(to_recheck(&plan_of(&g, &[]), &g).is_empty());
    }
}
