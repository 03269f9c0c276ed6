//! The jobs' CloudWatch Logs: following a stream while its attempt runs (each stream its own
//! task, stopped once drained), and the last lines of a failed job's log.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pipectl_aws::ResultExt;

use crate::context::Runner;
use crate::events::RunEvent;

/// A task streaming one log stream.
struct Follower {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// The log streams being followed, by stream name.
#[derive(Default)]
pub(crate) struct Followers(HashMap<String, Follower>);

impl Followers {
    /// Tells a stream's task to stop once nothing more comes.
    pub(crate) fn stop(&self, stream: &str) {
        if let Some(f) = self.0.get(stream) {
            f.stop.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn stop_all(&self) {
        for f in self.0.values() {
            f.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Lets the log streams drain (a few seconds at most) so no last line is lost.
    pub(crate) async fn drain(self) {
        self.stop_all();
        for (_, f) in self.0 {
            let _ = tokio::time::timeout(Duration::from_secs(5), f.task).await;
        }
    }
}

impl Runner {
    /// Streams a log stream's new lines until told to stop and nothing more comes.
    pub(crate) fn follow(&self, followers: &mut Followers, phase: String, stream: String) {
        if followers.0.contains_key(&stream) {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let logs = self.aws.logs.clone();
        let group = self.spec.log_group_name();
        let progress = self.progress.clone();
        let name = stream.clone();
        let task = tokio::spawn(async move {
            let mut token: Option<String> = None;
            let mut quiet = 0;
            loop {
                let stopping = flag.load(Ordering::Relaxed);
                let r = logs
                    .get_log_events()
                    .log_group_name(&group)
                    .log_stream_name(&name)
                    .start_from_head(true)
                    .set_next_token(token.clone())
                    .send()
                    .await;
                let mut got = 0;
                if let Ok(out) = r {
                    for e in out.events() {
                        got += 1;
                        progress(&RunEvent::Log {
                            phase: phase.clone(),
                            line: e.message().unwrap_or_default().to_string(),
                        });
                    }
                    if let Some(t) = out.next_forward_token() {
                        token = Some(t.to_string());
                    }
                }
                // Output reaches CloudWatch Logs a little after the process wrote it: stop
                // after two empty reads once the attempt has ended.
                quiet = if got == 0 { quiet + 1 } else { 0 };
                if stopping && quiet >= 2 {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        followers.0.insert(stream, Follower { stop, task });
    }

    /// The last lines of a log stream (none, with a warning, when it cannot be read).
    pub(crate) async fn log_tail(&self, stream: &str) -> Vec<String> {
        let r = self
            .aws
            .logs
            .get_log_events()
            // the stack's log group, named in every job definition pipectl registers
            .log_group_name(self.spec.log_group_name())
            .log_stream_name(stream)
            .start_from_head(false)
            .limit(self.opts.log_tail as i32)
            .send()
            .await
            .ctx("logs", "GetLogEvents", stream);
        match r {
            Ok(out) => out
                .events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the failed job's log");
                vec![]
            }
        }
    }
}
