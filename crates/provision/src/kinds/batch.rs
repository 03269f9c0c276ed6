//! What the Batch kinds share: ownership by tags, the transitional states, and deletion that
//! counts "not found" as done.

use std::future::Future;
use std::time::Duration;

use pipectl_aws::AwsError;

use super::Observed;
use crate::ctx::{Ctx, Live, TAG_RESOURCE, TAG_STACK};
use crate::error::ProvisionError;
use crate::wait::retry_while;

pub(super) const BATCH: &str = "batch";

/// The logical id of one of the stack's Batch objects (`None`: not the stack's).
pub(super) fn owned(
    tags: Option<&std::collections::HashMap<String, String>>,
    stack: &str,
) -> Option<String> {
    let t = tags?;
    (t.get(TAG_STACK).map(String::as_str) == Some(stack))
        .then(|| t.get(TAG_RESOURCE).cloned())
        .flatten()
}

/// A compute environment or queue found in transition, once waited for: VALID.
pub(super) fn settled(live: &Live) -> Live {
    let mut live = live.clone().attr("status", "VALID");
    live.state = format!("VALID, {}", live.get("state"));
    live
}

/// A deletion that met "not found" at any step: done.
pub(super) fn deleted_or_gone(r: Result<(), ProvisionError>) -> Result<(), ProvisionError> {
    match r {
        Err(ProvisionError::Aws(e)) if e.is_not_found() => Ok(()),
        other => other,
    }
}

pub(super) fn in_transition(live: &Live) -> bool {
    matches!(live.get("status"), "CREATING" | "UPDATING")
}

/// Batch refuses updates to a compute environment or queue still CREATING or UPDATING.
pub(super) fn in_transition_error(e: &AwsError) -> bool {
    e.message.contains("while CREATING") || e.message.contains("while UPDATING")
}

/// Whether an INVALID compute environment's reason is IAM's eventual consistency: a role
/// created seconds ago that Batch cannot assume or use yet (e.g. "CLIENT_ERROR - User:
/// batch.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: ...").
pub(super) fn iam_not_yet_usable(reason: &str) -> bool {
    reason.contains("sts:AssumeRole")
        || reason.contains("is not authorized to perform")
        || reason.contains("Could not find IAM role")
}

/// A compute environment an earlier `up` left INVALID because its role had not propagated:
/// `up` validates it again rather than asking for `down` and `up`.
pub(super) fn revalidatable(live: &Live) -> bool {
    live.get("status") == "INVALID" && iam_not_yet_usable(live.get("status-reason"))
}

/// How long a disable or a delete is retried while Batch says the object is busy.
const TEARDOWN_PATIENCE: Duration = Duration::from_secs(600);

/// Batch's order for deleting a compute environment or a job queue: wait out a transition an
/// interrupted `up` left (neither can be updated while CREATING or UPDATING), disable it,
/// wait for the disabling update (an INVALID one can still be deleted), delete it (retried
/// while `held` says Batch is not ready), and wait until it is gone. `wait(gone)` waits for
/// it to settle, or with `gone` to disappear.
pub(super) async fn disable_then_delete<W, WF, D, DF, X, XF>(
    ctx: &Ctx,
    o: &Observed,
    wait: W,
    disable: D,
    delete: X,
    held: impl Fn(&AwsError) -> bool,
) -> Result<(), ProvisionError>
where
    W: Fn(bool) -> WF,
    WF: Future<Output = Result<(), ProvisionError>>,
    D: FnMut() -> DF,
    DF: Future<Output = Result<(), AwsError>>,
    X: FnMut() -> XF,
    XF: Future<Output = Result<(), AwsError>>,
{
    let id = o.logical.as_str();
    if in_transition(&o.live) {
        let _ = wait(false).await;
    }
    if o.live.get("state") != "DISABLED" {
        retry_while(ctx, id, TEARDOWN_PATIENCE, in_transition_error, disable).await?;
    }
    let _ = wait(false).await;
    retry_while(ctx, id, TEARDOWN_PATIENCE, held, delete).await?;
    wait(true).await
}
