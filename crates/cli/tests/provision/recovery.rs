//! Recovering: a lost state file, drift, an interrupted up or down, a compute environment still creating.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn down_finds_everything_by_tags_when_the_state_file_is_lost() {
    let s = stack("two-hour-pipeline.toml", "lost");
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    std::fs::remove_file(s.state_file()).unwrap();
    let down = ok(&s.run(&["down", "--yes"]));
    assert!(
        down.contains("34 deleted"),
        "37 resources, 3 associations go with their file system: {down}"
    );
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_reported_by_status_and_put_right_by_up() {
    let s = stack("two-hour-pipeline.toml", "drift");
    let aws = aws().await;
    ok(&s.run(&["up", "--yes"]));
    // Behind pipectl's back: a queue's priority changed, a bucket opened, a job definition gone.
    aws.batch
        .update_job_queue()
        .job_queue(format!("{}-inference", s.name))
        .priority(9)
        .send()
        .await
        .unwrap();
    let account = aws.account_id().await.unwrap();
    let bucket = format!("pipectl-{}-results-{account}", s.name);
    aws.s3
        .delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let jd = aws
        .batch
        .describe_job_definitions()
        .job_definition_name(format!("{}-documentation", s.name))
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    aws.batch
        .deregister_job_definition()
        .job_definition(jd.job_definitions()[0].job_definition_arn().unwrap())
        .send()
        .await
        .unwrap();

    let status = ok(&s.run(&["status"]));
    assert!(status.contains("priority: 9 (spec: 2)"), "{status}");
    assert!(
        status.contains("public access block: off (spec: on)"),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("jd-documentation") && l.contains("missing")),
        "{status}"
    );

    let up = s.run(&["up", "--yes"]);
    ok(&up);
    assert!(
        err(&up).contains("~ update") && err(&up).contains("+ create"),
        "{}",
        err(&up)
    );
    let q = aws
        .batch
        .describe_job_queues()
        .job_queues(format!("{}-inference", s.name))
        .send()
        .await
        .unwrap();
    assert_eq!(q.job_queues()[0].priority(), Some(2));
    let pab = aws
        .s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .block_public_policy(),
        Some(true)
    );
    let jd = aws
        .batch
        .describe_job_definitions()
        .job_definition_name(format!("{}-documentation", s.name))
        .status("ACTIVE")
        .send()
        .await
        .unwrap();
    assert_eq!(jd.job_definitions().len(), 1);
    let status = s.status();
    assert!(stack::unconverged(&status).is_empty(), "{status:#}");
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

/// Runs `up` and kills it after `after` resources are reported done.
/// `up` killed once `after` resources are done (a `✓` line each).
fn up_killed_after(s: &stack::Stack, after: usize) {
    let mut done = 0;
    s.killed_when(&["up"], |line| {
        done += usize::from(line.trim_start().starts_with('✓'));
        done == after
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_up_converges_when_run_again() {
    let s = stack("two-hour-pipeline.toml", "kill");
    let aws = aws().await;
    // Killed early (network), in the middle (FSx creating, IAM, buckets) and late (CEs, queues).
    let mut finished = 0;
    for after in [3, 9, 9] {
        up_killed_after(&s, after);
        finished += after;
        let st: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(s.state_file()).unwrap()).unwrap();
        assert!(
            st["resources"].as_object().unwrap().len() >= finished,
            "each finished resource is in the state file"
        );
    }
    let up = ok(&s.run(&["up", "--yes"]));
    assert!(up.contains("is up"), "{up}");
    let status = s.status();
    assert!(stack::unconverged(&status).is_empty(), "{status:#}");
    assert!(
        status["strays"].as_array().unwrap().is_empty(),
        "no duplicate left by the interruptions: {status:#}"
    );
    assert_eq!(tagged(&aws, &s.name).await.len(), 37);
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn down_after_an_interrupted_up_leaves_nothing_behind() {
    let s = stack("two-hour-pipeline.toml", "halfdown");
    let aws = aws().await;
    up_killed_after(&s, 17);
    assert!(!tagged(&aws, &s.name).await.is_empty());
    ok(&s.run(&["down", "--yes"]));
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}

/// Batch refuses to update a compute environment that is still CREATING; `down` right after an
/// interrupted `up` meets one and must wait for it rather than fail.
#[tokio::test(flavor = "multi_thread")]
async fn down_waits_for_a_compute_environment_still_creating() {
    use aws_sdk_batch::types::{CeStatus, CeType};
    let s = stack("two-hour-pipeline.toml", "creating");
    let aws = aws().await;
    let name = format!("{}-documentation", s.name);
    aws.batch
        .create_compute_environment()
        .compute_environment_name(&name)
        .r#type(CeType::Unmanaged)
        .tags("pipectl:stack", &s.name)
        .tags("pipectl:resource", "ce-documentation")
        .send()
        .await
        .unwrap();
    let ce = aws
        .batch
        .describe_compute_environments()
        .compute_environments(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ce.compute_environments()[0].status(),
        Some(&CeStatus::Creating),
        "the local AWS keeps a new compute environment CREATING for a while"
    );
    let down = ok(&s.run(&["down", "--yes"]));
    assert!(down.contains("1 deleted"), "{down}");
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}
