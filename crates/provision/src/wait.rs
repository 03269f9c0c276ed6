//! Patience with AWS: polling a resource through its lifecycle, repeating a call AWS refuses
//! for a reason that passes with time, and "not found" as `None`. Shared by every kind; knows
//! none of them.

use std::future::Future;
use std::time::{Duration, Instant};

use pipectl_aws::AwsError;
use pipectl_aws::wait::{self, Backoff, Probe};

use crate::ctx::{Ctx, Event};
use crate::error::ProvisionError;

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
        });
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
    // pauses as a wait's: doubling, but never more than an eighth of the time waited so far
    // (a refusal that passes after 3 s is retried by 3.4 s, not at 6.2 s)
    let backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(10),
        deadline,
    };
    let mut pause = backoff.initial;
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
                pause = wait::next_interval(pause, start.elapsed(), &backoff);
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
