//! Kill and fault campaigns, seeded: `up` and `down` SIGKILLed at chosen points, each followed by
//! `up` or `down` to completion; throttling, server errors and Spot interruptions across
//! `up → run → down`. Each campaign ends with a census of the whole account (every resource of
//! every kind pipectl can create, tagged or not) equal to the one taken before it.
//!
//! A test binary of its own: the census is account-wide and fault injection is global to the
//! local AWS, and cargo runs test binaries one after another. The short form runs in the test
//! command; the long form is `tests/campaign --kills 50 --cycles 50` (sizes and seed from
//! `PIPECTL_CAMPAIGN_KILLS`, `PIPECTL_CAMPAIGN_CYCLES`, `PIPECTL_CAMPAIGN_SEED`). Each campaign
//! prints one `campaign:` line of figures.

mod stack;

use std::time::Instant;

use serde_json::Value;
use stack::{FaultsOff, Stack, aws, census, control, ok, stack, tagged};

/// The campaigns take turns: each census must see only its own campaign's resources.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    setting("PIPECTL_CAMPAIGN_SEED", 7)
}

/// The `✓` lines (one per resource done) `args` prints before it is killed after `after`.
fn killed_after(s: &Stack, args: &[&str], after: usize) {
    let mut done = 0;
    s.killed_when(args, |line| {
        done += usize::from(line.trim_start().starts_with('✓'));
        done == after
    });
}

/// Kills `command` (`up` or `down`) after `at` resources, then completes the work: with
/// `again`, `up` (which must converge; after a killed `down`, a `down` follows), else `down`.
/// Returns how long the completing commands took.
fn kill_and_complete(s: &Stack, command: &str, at: usize, again: bool, kill: u64) -> f64 {
    killed_after(s, &[command], at);
    let started = Instant::now();
    let then = match (command, again) {
        ("up", true) => "up",
        ("down", true) => "up and down",
        _ => "down",
    };
    println!("kill {kill}: {command} after {at}, then {then}");
    let mut took = 0.0;
    if again {
        ok(&s.run(&["up", "--yes"]));
        took = started.elapsed().as_secs_f64();
        let status = s.status();
        let off = stack::unconverged(&status);
        assert!(
            off.is_empty(),
            "up after {command} killed at {at}: {off:#?}"
        );
    }
    if command == "down" || !again {
        ok(&s.run(&["down", "--yes"]));
        took = started.elapsed().as_secs_f64();
    }
    took
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

/// Seeded kill points: `up` killed after 1–30 of its 37 resources, then `up` or `down` to
/// completion; from a complete stack, `down` killed after 1–28 of its 35 deletions, then `down`,
/// or `up` (which must put everything back) and `down`.
#[tokio::test(flavor = "multi_thread")]
async fn kills_at_any_point_of_up_and_down_leave_the_account_as_it_was() {
    let _alone = ALONE.lock().await;
    let aws = aws().await;
    let before = census(&aws).await;
    let kills = setting("PIPECTL_CAMPAIGN_KILLS", 2);
    let mut rng = fastrand::Rng::with_seed(seed());
    let s = stack("two-hour-pipeline.toml", "campaign");
    let (mut done, mut recoveries) = (0, Vec::new());
    while done < kills {
        let (at, again) = (rng.usize(1..=30), rng.bool());
        done += 1;
        recoveries.push(kill_and_complete(&s, "up", at, again, done));
        if again {
            // The stack is up: stop its `down` too, or take it down.
            if done < kills {
                let (at, again) = (rng.usize(1..=28), rng.bool());
                done += 1;
                recoveries.push(kill_and_complete(&s, "down", at, again, done));
            } else {
                ok(&s.run(&["down", "--yes"]));
            }
        }
        assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
    }
    let after = census(&aws).await;
    let left: Vec<_> = after.difference(&before).collect();
    let taken: Vec<_> = before.difference(&after).collect();
    println!(
        "campaign: kills={done} seed={} recovered={} recovery_median_s={:.1} recovery_max_s={:.1} census_before={} census_after={} left={} removed={}",
        seed(),
        recoveries.len(),
        median(recoveries.clone()),
        recoveries.iter().copied().fold(0.0, f64::max),
        before.len(),
        after.len(),
        left.len(),
        taken.len()
    );
    assert!(
        left.is_empty() && taken.is_empty(),
        "left behind: {left:?}; removed: {taken:?}"
    );
}

/// Seeded throttling and server errors on every service for the whole of `up → run → down`,
/// and a Spot interruption of the training job: each cycle completes and leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn faults_across_up_run_and_down_leave_the_account_as_it_was() {
    let _alone = ALONE.lock().await;
    let aws = aws().await;
    let before = census(&aws).await;
    let cycles = setting("PIPECTL_CAMPAIGN_CYCLES", 1);
    let mut injected = 0;
    for cycle in 0..cycles {
        let s = stack("two-hour-pipeline.toml", "faults-campaign");
        s.local_commands("sleep 2", "sleep 1", "sleep 1");
        let faults_off = FaultsOff;
        control(
            "POST",
            &format!(
                r#"{{"seed": {}, "throttle_rate": 0.1, "error_rate": 0.05, "spot": {{"queues": "{}-training", "count": 1, "after_seconds": 1.0}}}}"#,
                seed() + cycle,
                s.name
            ),
        );
        let up = s.run(&["up", "--yes"]);
        let run = s.run(&["run", "--poll", "0.2..1", "--output", "json"]);
        let down = s.run(&["down", "--yes"]);
        let counts: Value = serde_json::from_str(&control("GET", "")).unwrap();
        drop(faults_off);
        ok(&up);
        let rec: Value = serde_json::from_str(ok(&run).lines().last().unwrap()).unwrap();
        assert_eq!(rec["status"], "SUCCEEDED", "cycle {cycle}: {rec:#}");
        assert_eq!(
            rec["phases"][0]["spot_interruptions"], 1,
            "cycle {cycle}: {rec:#}"
        );
        ok(&down);
        assert_eq!(tagged(&aws, &s.name).await, Vec::<String>::new());
        injected += counts["counts"]["throttled"].as_u64().unwrap_or(0)
            + counts["counts"]["errors"].as_u64().unwrap_or(0);
    }
    let after = census(&aws).await;
    println!(
        "campaign: fault_cycles={cycles} seed={} faults_injected={injected} census_before={} census_after={}",
        seed(),
        before.len(),
        after.len()
    );
    assert!(injected >= 10 * cycles, "faults were injected: {injected}");
    assert_eq!(after, before, "the account after the fault campaign");
}
