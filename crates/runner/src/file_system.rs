//! Before submitting a phase that mounts FSx for Lustre: the stack's file system must be
//! AVAILABLE. `up` counts it in place once created (its instances' launch templates only need
//! its DNS and mount names), so a run started right after `up` may find it still CREATING and
//! waits for it, saying so, up to a deadline.

use std::time::{Duration, Instant};

use pipectl_aws::ResultExt;
use pipectl_spec::graph::ResourceId;

use crate::context::Runner;
use crate::error::RunError;
use crate::events::RunEvent;

const FSX: &str = "fsx";

/// What the file system's lifecycle means for submitting.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ready,
    /// On its way (CREATING, UPDATING): wait.
    Wait,
    /// Will not become usable by waiting.
    Unusable,
}

pub(crate) fn verdict(lifecycle: &str) -> Verdict {
    match lifecycle {
        "AVAILABLE" => Verdict::Ready,
        "CREATING" | "UPDATING" => Verdict::Wait,
        _ => Verdict::Unusable,
    }
}

/// The pause before the next look: doubling from `min`, at most 10 s.
pub(crate) fn next_pause(pause: Duration, min: Duration) -> Duration {
    (pause * 2).clamp(min, Duration::from_secs(10).max(min))
}

impl Runner {
    /// Waits until the stack's file system is AVAILABLE, reporting each new lifecycle state;
    /// an error naming it once `opts.file_system_timeout` has passed.
    pub(crate) async fn wait_for_file_system(&self) -> Result<(), RunError> {
        let name = self.name_of(&ResourceId::FileSystem);
        let start = Instant::now();
        let mut pause = self.opts.poll.min.min(Duration::from_secs(1));
        let mut said = String::new();
        loop {
            let Some((id, state)) = self.find_file_system().await? else {
                return Err(RunError::NotReady {
                    what: format!("the file system {name} does not exist"),
                });
            };
            match verdict(&state) {
                Verdict::Ready => {
                    if !said.is_empty() {
                        self.emit(RunEvent::Note {
                            message: format!(
                                "file system {id} ({name}) is AVAILABLE after {:.0}s",
                                start.elapsed().as_secs_f64()
                            ),
                        });
                    }
                    return Ok(());
                }
                Verdict::Unusable => {
                    return Err(RunError::NotReady {
                        what: format!("the file system {id} ({name}) is {state}"),
                    });
                }
                Verdict::Wait if start.elapsed() >= self.opts.file_system_timeout => {
                    return Err(RunError::FileSystemNotAvailable {
                        file_system: format!("{id} ({name})"),
                        state,
                        seconds: start.elapsed().as_secs(),
                    });
                }
                Verdict::Wait => {
                    if said != state {
                        self.emit(RunEvent::Note {
                            message: format!("waiting for file system {id} ({name}) to be AVAILABLE (it is {state}; FSx for Lustre takes minutes on AWS); the phases that mount it are submitted then"),
                        });
                        said = state;
                    }
                    tokio::time::sleep(pause).await;
                    pause = next_pause(pause, self.opts.poll.min.min(Duration::from_secs(1)));
                }
            }
        }
    }

    /// The stack's file system (found by its tags) and its lifecycle.
    async fn find_file_system(&self) -> Result<Option<(String, String)>, RunError> {
        let want = ResourceId::FileSystem.to_string();
        let mut pages = self.aws.fsx.describe_file_systems().into_paginator().send();
        while let Some(page) = pages.next().await {
            for fs in page
                .ctx(FSX, "DescribeFileSystems", "file systems")?
                .file_systems()
            {
                let tag = |k: &str| {
                    fs.tags()
                        .iter()
                        .find(|t| t.key() == Some(k))
                        .and_then(|t| t.value())
                };
                if tag("pipectl:stack") == Some(self.spec.stack.name.as_str())
                    && tag("pipectl:resource") == Some(want.as_str())
                {
                    let state = fs.lifecycle().map_or("?", |l| l.as_str());
                    if state == "DELETING" {
                        continue;
                    }
                    return Ok(Some((
                        fs.file_system_id().unwrap_or_default().to_string(),
                        state.to_string(),
                    )));
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_available_file_system_lets_phases_go_and_only_one_on_its_way_is_awaited() {
        assert_eq!(verdict("AVAILABLE"), Verdict::Ready);
        assert_eq!(verdict("CREATING"), Verdict::Wait);
        assert_eq!(verdict("UPDATING"), Verdict::Wait);
        assert_eq!(verdict("FAILED"), Verdict::Unusable);
        assert_eq!(verdict("MISCONFIGURED"), Verdict::Unusable);
    }

    #[test]
    fn the_pause_doubles_up_to_ten_seconds() {
        let min = Duration::from_millis(500);
        assert_eq!(next_pause(min, min), Duration::from_secs(1));
        assert_eq!(
            next_pause(Duration::from_secs(8), min),
            Duration::from_secs(10)
        );
    }
}
