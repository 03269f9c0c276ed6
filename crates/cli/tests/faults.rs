//! `up` and `down` hold up while the local AWS throttles and fails a share of all requests.
//! A test binary of its own: the faults are switched on for the whole local AWS, and cargo
//! runs test binaries one after another.

mod stack;

use stack::{FaultsOff, aws, control, err, ok, stack, tagged};

#[tokio::test(flavor = "multi_thread")]
async fn up_and_down_succeed_under_throttling_and_server_errors() {
    let s = stack("two-hour-pipeline.toml", "faults");
    let aws = aws().await;
    let faults_off = FaultsOff;
    control(
        "POST",
        r#"{"seed": 11, "throttle_rate": 0.15, "error_rate": 0.05}"#,
    );
    let up = s.run(&["up", "--yes"]);
    let down = s.run(&["down", "--yes"]);
    let counts: serde_json::Value = serde_json::from_str(&control("GET", "")).unwrap();
    drop(faults_off);
    ok(&up);
    ok(&down);
    let injected = counts["counts"]["throttled"].as_u64().unwrap_or(0)
        + counts["counts"]["errors"].as_u64().unwrap_or(0);
    assert!(
        injected >= 10,
        "faults were injected: {counts}\n{}",
        err(&up)
    );
    assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
}
