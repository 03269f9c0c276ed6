//! The one poll/wait helper: probe until done, with a deadline, exponential backoff with
//! jitter, a progress callback, failing fast on a failed resource, and telling "AWS could not
//! be reached or throttled us" (keep waiting) apart from "the resource failed" (stop).
//!
//! The AWS SDK for Rust has no waiters for Batch compute environments and queues or FSx.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::AwsError;

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe<T> {
    /// Reached the wanted state, with what the probe read.
    Done(T),
    /// Still in a transitional state (named, for progress).
    Pending(String),
    /// Still in a transitional state that the probe has just started again (an update that
    /// makes AWS validate anew): probed again at the first pause, not at the grown one, so the
    /// new transition's end is seen as soon as a fresh wait's would be.
    Restarted(String),
    /// A terminal failure state, with AWS's reason (`statusReason`).
    Failed(String),
}

/// How often and for how long [`until`] probes.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Pause after the first probe; it doubles after each (±20% jitter).
    pub initial: Duration,
    /// Longest pause between two probes.
    pub max: Duration,
    /// Give up with [`WaitError::Timeout`] once this long has passed since the first probe.
    pub deadline: Duration,
}

impl Backoff {
    /// 250 ms first, at most 15 s between probes, giving up after `deadline`.
    pub fn with_deadline(deadline: Duration) -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(15),
            deadline,
        }
    }
}

/// Why a wait ended without the resource ready.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The deadline passed with the resource still pending (or AWS unreachable).
    #[error("{what} did not become ready within {}s (last state: {last})", waited.as_secs())]
    Timeout {
        /// What was waited for, as messages name it (a resource's logical id).
        what: String,
        /// The last state seen (`unknown (...)` after a transient error).
        last: String,
        /// How long it waited.
        waited: Duration,
    },
    /// The resource reached a failure state (`INVALID`, `FAILED`).
    #[error("{what} failed: {reason}")]
    Failed {
        /// What was waited for, as messages name it (a resource's logical id).
        what: String,
        /// AWS's reason for the failure (`statusReason`).
        reason: String,
    },
    /// A probe's AWS call failed with an error that waiting will not cure.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// A cheap jitter source (no RNG crate): ±20% around `d`.
fn jitter(d: Duration, seed: &mut u64) -> Duration {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let frac = (*seed % 400) as f64 / 1000.0 + 0.8;
    d.mul_f64(frac)
}

/// Probes until done. Transient AWS errors (unreachable, throttled) are retried until the
/// deadline; other AWS errors end the wait at once.
pub async fn until<T, F, Fut>(
    what: &str,
    backoff: Backoff,
    mut probe: F,
    mut progress: impl FnMut(&str),
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Probe<T>, AwsError>>,
{
    let start = Instant::now();
    let mut pace = Pace::new(backoff, start);
    let mut seed =
        0x9E37_79B9_7F4A_7C15u64 ^ (start.elapsed().as_nanos() as u64 | 1) ^ (what.len() as u64);
    let mut last = String::from("unknown");
    loop {
        match probe().await {
            Ok(Probe::Done(v)) => return Ok(v),
            Ok(Probe::Failed(reason)) => {
                return Err(WaitError::Failed {
                    what: what.to_string(),
                    reason,
                });
            }
            Ok(Probe::Pending(state)) => {
                if state != last {
                    progress(&state);
                }
                last = state;
            }
            Ok(Probe::Restarted(state)) => {
                if state != last {
                    progress(&state);
                }
                last = state;
                pace.restart(Instant::now());
            }
            Err(e) if e.is_transient() => {
                tracing::debug!(%e, "transient error while waiting for {what}");
                last = format!("unknown ({e})");
            }
            Err(e) => return Err(e.into()),
        }
        let waited = start.elapsed();
        if waited >= backoff.deadline {
            return Err(WaitError::Timeout {
                what: what.to_string(),
                last,
                waited,
            });
        }
        let sleep = jitter(pace.interval, &mut seed).min(backoff.deadline.saturating_sub(waited));
        tokio::time::sleep(sleep).await;
        pace.slept(Instant::now());
    }
}

/// A wait's pace: the pause before the next probe, grown from the start of the wait or from
/// its last restart (a transition the probe started again is waited for as a fresh one).
#[derive(Debug, Clone, Copy)]
struct Pace {
    backoff: Backoff,
    interval: Duration,
    since: Instant,
}

impl Pace {
    fn new(backoff: Backoff, start: Instant) -> Self {
        Pace {
            backoff,
            interval: backoff.initial,
            since: start,
        }
    }

    /// The probe started the transition again at `now`: back to the first pause.
    fn restart(&mut self, now: Instant) {
        self.interval = self.backoff.initial;
        self.since = now;
    }

    /// A pause has passed, at `now`: the next one.
    fn slept(&mut self, now: Instant) {
        self.interval = next_interval(
            self.interval,
            now.saturating_duration_since(self.since),
            &self.backoff,
        );
    }
}

/// The pause after `interval`, `waited` into a wait: doubling up to `max`, and never more than
/// an eighth of the time waited so far (so a wait overshoots the moment the resource became
/// ready by about a tenth at most, however long it was), nor less than `initial`.
pub fn next_interval(interval: Duration, waited: Duration, backoff: &Backoff) -> Duration {
    (interval * 2)
        .min(backoff.max)
        .min((waited / 8).max(backoff.initial))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick(deadline_ms: u64) -> Backoff {
        Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(4),
            deadline: Duration::from_millis(deadline_ms),
        }
    }

    fn transient() -> AwsError {
        AwsError {
            service: "batch",
            operation: "DescribeComputeEnvironments",
            resource: "ce".into(),
            kind: ErrorKind::Throttled,
            code: Some("TooManyRequestsException".into()),
            message: "slow down".into(),
        }
    }

    #[test]
    fn the_pause_doubles_but_stays_within_an_eighth_of_the_time_waited() {
        let b = Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
        };
        let ms = Duration::from_millis;
        assert_eq!(next_interval(ms(200), ms(200), &b), ms(200));
        assert_eq!(next_interval(ms(400), ms(4000), &b), ms(500));
        assert_eq!(next_interval(ms(200), ms(4000), &b), ms(400));
        assert_eq!(
            next_interval(ms(8000), Duration::from_secs(300), &b),
            ms(10000)
        );
    }

    #[test]
    fn a_restart_paces_the_wait_afresh_from_then() {
        let b = Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
        };
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut pace = Pace::new(b, t0);
        // 8 s into a wait the pause has grown to a second (an eighth of the time waited)
        for ms in [1_000, 2_000, 4_000, 8_000] {
            pace.slept(at(ms));
        }
        assert_eq!(pace.interval, Duration::from_secs(1));
        // restarted at 8 s: the first pause again, and it grows from the restart, not from t0
        pace.restart(at(8_000));
        assert_eq!(pace.interval, Duration::from_millis(200));
        pace.slept(at(8_200));
        assert_eq!(pace.interval, Duration::from_millis(200));
        pace.slept(at(12_000));
        assert_eq!(pace.interval, Duration::from_millis(400));
        pace.slept(at(16_000));
        assert_eq!(pace.interval, Duration::from_millis(800));
    }

    #[tokio::test]
    async fn waits_through_pending_and_transient_errors() {
        let n = AtomicU32::new(0);
        let mut states = Vec::new();
        let out = until(
            "ce",
            quick(5_000),
            || {
                let i = n.fetch_add(1, Ordering::SeqCst);
                async move {
                    match i {
                        0 => Ok(Probe::Pending("CREATING".into())),
                        1 => Err(transient()),
                        2 => Ok(Probe::Pending("CREATING".into())),
                        _ => Ok(Probe::Done(i)),
                    }
                }
            },
            |s| states.push(s.to_string()),
        )
        .await
        .unwrap();
        assert_eq!(out, 3);
        assert_eq!(
            states,
            ["CREATING", "CREATING"],
            "progress reported on each change of state"
        );
    }

    #[tokio::test]
    async fn fails_fast_on_a_failed_resource_and_on_refusals() {
        let err = until::<(), _, _>(
            "ce",
            quick(5_000),
            || async { Ok(Probe::Failed("INVALID: no subnets".into())) },
            |_| {},
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, WaitError::Failed { ref reason, .. } if reason.contains("no subnets")),
            "{err}"
        );
        let refused = AwsError {
            kind: ErrorKind::Refused,
            ..transient()
        };
        let err = until::<(), _, _>(
            "ce",
            quick(5_000),
            || {
                let e = refused.clone();
                async move { Err(e) }
            },
            |_| {},
        )
        .await
        .unwrap_err();
        assert!(matches!(err, WaitError::Aws(_)));
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_naming_the_last_state() {
        let err = until::<(), _, _>(
            "fsx",
            quick(30),
            || async { Ok(Probe::Pending("CREATING".into())) },
            |_| {},
        )
        .await
        .unwrap_err();
        match err {
            WaitError::Timeout { last, .. } => assert_eq!(last, "CREATING"),
            other => panic!("{other}"),
        }
    }
}
