//! Batch's job state-change events, as the stack's EventBridge rule delivers them to its SQS
//! queue (`up` makes both): read with long polling by a task of its own, turned into the same
//! [`JobView`]s `DescribeJobs` gives, and deleted from the queue once the record they changed
//! is saved. A queue that is missing or cannot be read leaves the watcher to its polling.

use std::time::Duration;

use pipectl_aws::{Aws, AwsError, ResultExt};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::timing::{self, JobView};

const SQS: &str = "sqs";

/// ReceiveMessage's longest wait (`WaitTimeSeconds`, 0 to 20): an answer comes as soon as an
/// event arrives, or empty after this.
const LONG_POLL_SECONDS: i32 = 20;
/// After a failed ReceiveMessage, wait this long before the next.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// One message of the queue.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The job as the event describes it; `None` when the message is not a Batch job event.
    pub view: Option<JobView>,
    /// What deletes the message (`DeleteMessageBatch`).
    pub receipt: String,
}

/// What the reading task passes to the watcher.
#[derive(Debug)]
pub enum Feed {
    /// Messages received (one ReceiveMessage answer).
    Events(Vec<Delivered>),
    /// ReceiveMessage failed: the watcher polls until events come again.
    Broken(AwsError),
}

/// The fields of a "Batch Job State Change" event's detail that the record keeps (the detail
/// "resembles the JobDetail object returned from DescribeJobs"; unknown fields are ignored).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    job_id: String,
    status: String,
    status_reason: Option<String>,
    created_at: Option<i64>,
    started_at: Option<i64>,
    stopped_at: Option<i64>,
    #[serde(default)]
    attempts: Vec<EventAttempt>,
    container: Option<Container>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventAttempt {
    started_at: Option<i64>,
    stopped_at: Option<i64>,
    status_reason: Option<String>,
    container: Option<Container>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    exit_code: Option<i32>,
    log_stream_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Event {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: Detail,
}

/// The job an SQS message's body describes, if it is a Batch job state-change event (the
/// message body is the whole event, as EventBridge delivers it to an SQS target).
pub fn parse(body: &str) -> Option<JobView> {
    let e: Event = serde_json::from_str(body).ok()?;
    if e.source != "aws.batch" || e.detail_type != "Batch Job State Change" {
        return None;
    }
    let d = e.detail;
    let positive = |t: Option<i64>| t.filter(|t| *t > 0);
    let attempts = d
        .attempts
        .iter()
        .filter_map(|a| {
            let c = a.container.as_ref();
            timing::attempt(
                a.started_at,
                a.stopped_at,
                c.and_then(|c| c.exit_code),
                a.status_reason.as_deref(),
                c.and_then(|c| c.log_stream_name.as_deref()),
            )
        })
        .collect();
    Some(JobView {
        job_id: d.job_id,
        status: pipectl_record::JobStatus::from(d.status.as_str()),
        status_reason: d.status_reason,
        created_at: positive(d.created_at),
        started_at: positive(d.started_at),
        stopped_at: positive(d.stopped_at),
        attempts,
        log_stream: d.container.and_then(|c| c.log_stream_name),
    })
}

/// The receipts of messages the watcher is done with, once the record is saved: events of the
/// run's jobs (those it replaced too), events of jobs older than the run (an earlier run's, left in the queue), and
/// messages that are no job event. Events of newer jobs not in the run are left for the run
/// that watches them (they come again after the visibility timeout).
pub fn handled(rec: &pipectl_record::RunRecord, delivered: &[Delivered]) -> Vec<String> {
    delivered
        .iter()
        .filter(|d| match &d.view {
            None => true,
            Some(v) => {
                rec.phases.iter().any(|p| {
                    p.job_id.as_deref() == Some(v.job_id.as_str())
                        || p.replaced.iter().any(|r| r.job_id == v.job_id)
                }) || v.created_at.is_some_and(|c| c < rec.submitted_at_ms)
            }
        })
        .map(|d| d.receipt.clone())
        .collect()
}

/// The stack's job-event queue, read by a task of its own while the watcher runs.
pub struct JobEvents {
    url: String,
    rx: mpsc::Receiver<Feed>,
    task: JoinHandle<()>,
}

impl JobEvents {
    /// Opens the queue named `name` and starts reading it; `Err` when it cannot be found
    /// (the stack was made without it, or it was removed): the watcher then polls.
    pub async fn open(aws: &Aws, name: &str) -> Result<JobEvents, AwsError> {
        let url = aws
            .sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .ctx(SQS, "GetQueueUrl", "events-queue")?
            .queue_url()
            .unwrap_or_default()
            .to_string();
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(read(aws.sqs.clone(), url.clone(), tx));
        Ok(JobEvents { url, rx, task })
    }

    /// The next answer of the reading task (cancel-safe: nothing is lost when another branch
    /// of a `select!` wins).
    pub async fn recv(&mut self) -> Option<Feed> {
        self.rx.recv().await
    }

    /// Deletes handled messages, ten per call; a message not deleted comes again after its
    /// visibility timeout, which the record's forward-only rule makes harmless.
    pub async fn delete(&self, aws: &Aws, receipts: Vec<String>) {
        use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry as Entry;
        for chunk in receipts.chunks(10) {
            let entries: Vec<Entry> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Entry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .build()
                        .expect("id and receipt handle set")
                })
                .collect();
            let out = aws
                .sqs
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .ctx(SQS, "DeleteMessageBatch", "events-queue");
            match out {
                Ok(o) if !o.failed().is_empty() => tracing::debug!(
                    failed = o.failed().len(),
                    "job events not deleted (they come again; duplicates change nothing)"
                ),
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "job events not deleted"),
            }
        }
    }
}

impl Drop for JobEvents {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The reading task: long polls until the watcher drops its end.
async fn read(sqs: aws_sdk_sqs::Client, url: String, tx: mpsc::Sender<Feed>) {
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(LONG_POLL_SECONDS)
            .send()
            .await
            .ctx(SQS, "ReceiveMessage", "events-queue");
        let feed = match out {
            Ok(o) => Feed::Events(
                o.messages()
                    .iter()
                    .map(|m| Delivered {
                        view: m.body().and_then(parse),
                        receipt: m.receipt_handle().unwrap_or_default().to_string(),
                    })
                    .collect(),
            ),
            Err(e) => Feed::Broken(e),
        };
        let broken = matches!(feed, Feed::Broken(_));
        let empty = matches!(&feed, Feed::Events(v) if v.is_empty());
        if !empty && tx.send(feed).await.is_err() {
            return;
        }
        if tx.is_closed() {
            return;
        }
        if broken {
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipectl_record::JobStatus;

    /// The user guide's example event, with an ended attempt.
    const EVENT: &str = r#"{
        "version": "0", "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
        "detail-type": "Batch Job State Change", "source": "aws.batch",
        "account": "123456789012", "time": "2022-01-11T23:36:40Z", "region": "us-east-1",
        "resources": ["arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"],
        "detail": {
            "jobArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
            "jobName": "event-test", "jobId": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
            "status": "SUCCEEDED", "statusReason": "Essential container in task exited",
            "attempts": [{"container": {"exitCode": 0, "logStreamName": "jd/default/t1"},
                          "startedAt": 1641944210000, "stoppedAt": 1641944250000,
                          "statusReason": "Essential container in task exited"}],
            "createdAt": 1641944200058, "startedAt": 1641944210000, "stoppedAt": 1641944250000,
            "retryStrategy": {"attempts": 2, "evaluateOnExit": []}, "dependsOn": [],
            "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/jd:1",
            "parameters": {}, "container": {"image": "x", "logStreamName": "jd/default/t1",
            "resourceRequirements": [{"value": "2", "type": "VCPU"}]},
            "tags": {}, "propagateTags": false, "platformCapabilities": [], "newField": 1
        }
    }"#;

    #[test]
    fn a_batch_job_event_reads_as_the_describe_jobs_view() {
        let v = parse(EVENT).expect("a job event");
        assert_eq!(v.job_id, "4c7599ae-0a82-49aa-ba5a-4727fcce14a8");
        assert_eq!(v.status, JobStatus::Succeeded);
        assert_eq!(v.created_at, Some(1_641_944_200_058));
        assert_eq!(v.stopped_at, Some(1_641_944_250_000));
        assert_eq!(v.attempts.len(), 1);
        assert_eq!(v.attempts[0].exit_code, Some(0));
        assert_eq!(v.attempts[0].run_seconds, 40.0);
        assert_eq!(v.log_stream.as_deref(), Some("jd/default/t1"));
    }

    #[test]
    fn other_events_and_other_messages_are_not_job_views() {
        let other = EVENT.replace("Batch Job State Change", "Batch Job Queue Blocked");
        assert!(parse(&other).is_none());
        assert!(parse(&EVENT.replace("\"aws.batch\"", "\"my.app\"")).is_none());
        assert!(parse("not json").is_none());
        assert!(parse("{}").is_none());
        // a RUNNABLE event before any attempt: no attempts, no start
        let runnable = r#"{"source":"aws.batch","detail-type":"Batch Job State Change",
            "detail":{"jobId":"j","status":"RUNNABLE","attempts":[],"createdAt":5}}"#;
        let v = parse(runnable).unwrap();
        assert_eq!(
            (v.status, v.attempts.len(), v.started_at),
            (JobStatus::Runnable, 0, None)
        );
    }
}
