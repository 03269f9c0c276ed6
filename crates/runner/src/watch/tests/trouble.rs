//! A run in trouble: a failed phase, AWS out of reach, the budget, Ctrl-C.

use super::*;

#[test]
fn a_failure_ends_its_dependents_and_is_recorded_once() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let failed = ended(
        "training",
        JobStatus::Failed,
        vec![attempt(
            5,
            65,
            "Essential container in task exited",
            Some(1),
        )],
    );
    let views = [
        failed,
        job("inference", JobStatus::Starting),
        job("documentation", JobStatus::Runnable),
    ];
    let step = s.observe(&env, &views, at(70));
    let ends: Vec<&str> = step
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::EndJob { label, reason, .. } => {
                assert_eq!(reason, "pipectl run: training failed");
                Some(label.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        ends,
        ["inference", "documentation"],
        "both ended (by TerminateJob: a job cancelled while RUNNABLE may be STARTING by then)"
    );
    let f = s.rec.failure.as_ref().expect("the failure is recorded");
    assert_eq!(
        (f.phase.as_str(), f.attempt, f.exit_code),
        ("training", 1, Some(1))
    );
    assert_eq!(f.reason, "Essential container in task exited");
    assert_eq!(f.cancelled, ["inference", "documentation"]);
    assert!(step.actions.contains(&Action::ReadLogTail {
        stream: "s/5".into()
    }));
    let cancelled = events(&step.actions)
        .into_iter()
        .filter(|e| matches!(e, RunEvent::Cancelled { .. }))
        .count();
    assert_eq!(cancelled, 2);
    // Batch fails the dependents itself: nothing more to end, the first failure stands.
    let views = [
        job("inference", JobStatus::Failed),
        job("documentation", JobStatus::Failed),
    ];
    let step = s.observe(&env, &views, at(80));
    assert!(
        !step
            .actions
            .iter()
            .any(|a| matches!(a, Action::EndJob { .. } | Action::ReadLogTail { .. }))
    );
    assert_eq!(s.rec.failure.as_ref().unwrap().phase, "training");
    assert!(s.open_jobs().is_empty());
    s.finish(at(90).ms);
    assert_eq!(s.rec.status, RunStatus::Failed);
    assert_eq!(s.rec.finished_at_ms, Some(at(90).ms));
}

#[test]
fn a_dependent_that_batch_already_failed_counts_as_cancelled_without_a_call() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    s.rec.phases[2].status = JobStatus::Failed;
    s.rec.phases[2].job_id = Some("j-documentation".into());
    let failed = ended(
        "training",
        JobStatus::Failed,
        vec![attempt(5, 65, "x", Some(2))],
    );
    let step = s.observe(
        &env,
        &[failed, job("inference", JobStatus::Pending)],
        at(70),
    );
    let ends: Vec<&str> = step
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::EndJob { label, .. } => Some(label.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ends, ["inference"]);
    assert_eq!(
        s.rec.failure.unwrap().cancelled,
        ["inference", "documentation"]
    );
}

#[test]
fn out_of_reach_keeps_watching_further_apart_then_gives_up() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let step = s.unreachable(&env, "dispatch failure".into(), at(100));
    assert_eq!(
        events(&step.actions),
        [&RunEvent::Unreachable {
            error: "dispatch failure".into(),
            seconds: 0
        }]
    );
    assert_eq!(wait(step.next), 4.0, "pushed back: twice the interval");
    let step = s.unreachable(&env, "dispatch failure".into(), at(400));
    assert_eq!(wait(step.next), 8.0);
    assert!(matches!(
        events(&step.actions)[0],
        RunEvent::Unreachable { seconds: 300, .. }
    ));
    assert!(
        s.rec
            .phases
            .iter()
            .all(|p| p.status == JobStatus::Submitted)
    );
    assert!(s.rec.failure.is_none(), "never a reason to fail a job");
    assert_eq!(s.open_jobs().len(), 3);
    let back = s.observe(&env, &[running("training", 5)], at(410));
    assert_eq!(events(&back.actions)[0], &RunEvent::Reachable);
    // A new outage is timed from its own start.
    s.unreachable(&env, "e".into(), at(1000));
    let step = s.unreachable(&env, "e".into(), at(1899));
    assert!(matches!(step.next, Next::Poll(_)));
    let step = s.unreachable(&env, "e".into(), at(1900));
    assert_eq!(step.next, Next::LostContact { seconds: 900 });
}

#[test]
fn the_budget_warning_comes_once_when_the_projection_passes_it() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut rec = record(&spec, &prices);
    rec.budget_usd = Some(rec.estimate_usd + 0.001);
    let mut s = WatchState::new(rec, poll());
    let warnings = |actions: &[Action]| -> Vec<(f64, f64)> {
        events(actions)
            .into_iter()
            .filter_map(|e| match e {
                RunEvent::BudgetWarning {
                    projected_usd,
                    budget_usd,
                } => Some((*projected_usd, *budget_usd)),
                _ => None,
            })
            .collect()
    };
    let step = s.observe(&env, &[running("training", 5)], at(10));
    assert!(warnings(&step.actions).is_empty(), "as planned so far");
    // An attempt of 30 min lost to Spot: the work starts again, the projection grows.
    let retried = JobView {
        attempts: vec![attempt(
            5,
            1805,
            "Host EC2 (instance i-1) terminated.",
            None,
        )],
        ..running("training", 1900)
    };
    let step = s.observe(&env, std::slice::from_ref(&retried), at(1910));
    let w = warnings(&step.actions);
    assert_eq!(w.len(), 1);
    let (projected, budget) = w[0];
    assert_eq!(budget, s.rec.budget_usd.unwrap());
    let lost = pipectl_metering::estimate::compute_usd(
        &spec,
        spec.phase("training").unwrap(),
        &prices,
        &[1800.0, 2100.0],
    )
    .unwrap()
        - pipectl_metering::estimate::compute_usd(
            &spec,
            spec.phase("training").unwrap(),
            &prices,
            &[2100.0],
        )
        .unwrap();
    assert!((projected - (s.rec.estimate_usd + lost)).abs() < 1e-9);
    let step = s.observe(&env, &[retried], at(1920));
    assert!(warnings(&step.actions).is_empty(), "warned once");
}

#[test]
fn ctrl_c_terminates_every_open_job_or_detaches() {
    let (spec, prices) = (spec(), prices());
    let mut s = WatchState::new(record(&spec, &prices), poll());
    assert_eq!(s.interrupted(false).next, Next::Detach);
    assert!(!s.terminated());
    let step = s.interrupted(true);
    assert!(s.terminated());
    assert_eq!(wait(step.next), 2.0);
    let ends = step
        .actions
        .iter()
        .filter(|a| {
            matches!(a, Action::EndJob { reason, .. }
                if reason == "pipectl run: interrupted by the user")
        })
        .count();
    assert_eq!(ends, 3);
    assert_eq!(
        events(&step.actions),
        [&RunEvent::Note {
            message: "terminated 3 job(s)".into()
        }]
    );
    // A failure while terminating ends nothing more and is not recorded as the cause.
    let env = env(&spec, &prices, false);
    let failed = ended(
        "training",
        JobStatus::Failed,
        vec![attempt(5, 65, "x", Some(137))],
    );
    let step = s.observe(&env, &[failed], at(70));
    assert!(
        !step
            .actions
            .iter()
            .any(|a| matches!(a, Action::EndJob { .. }))
    );
    assert!(s.rec.failure.is_none());
    s.finish(at(80).ms);
    assert_eq!(s.rec.status, RunStatus::Terminated);
}
