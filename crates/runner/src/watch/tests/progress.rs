//! A run going its way: dependencies, polling, Spot retries, logs, success.

use super::*;

#[test]
fn a_dependent_is_ready_when_its_dependency_ended_and_only_then_due() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    s.observe(
        &env,
        &[
            running("training", 5),
            job("inference", JobStatus::Pending),
            job("documentation", JobStatus::Pending),
        ],
        at(10),
    );
    assert_eq!(phase(&s, "inference").ready_at_ms, None);
    assert!(
        !change_due(&s.rec, phase(&s, "inference"), at(10).ms),
        "waiting for a dependency is not a change due"
    );
    let training = ended(
        "training",
        JobStatus::Succeeded,
        vec![attempt(
            5,
            20,
            "Essential container in task exited",
            Some(0),
        )],
    );
    s.observe(
        &env,
        &[
            training,
            job("inference", JobStatus::Pending),
            job("documentation", JobStatus::Pending),
        ],
        at(25),
    );
    assert_eq!(phase(&s, "inference").ready_at_ms, Some(T0 + 20_000));
    assert!(change_due(&s.rec, phase(&s, "inference"), at(25).ms));
    assert_eq!(phase(&s, "documentation").ready_at_ms, None);
    assert!(!change_due(&s.rec, phase(&s, "documentation"), at(25).ms));
    assert_eq!(s.open_jobs(), ["j-inference", "j-documentation"]);
    assert_eq!(phase(&s, "training").noticed_at_ms, Some(at(25).ms));
}

#[test]
fn polls_grow_while_quiet_reset_on_a_change_and_shorten_near_the_planned_end() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let views = [
        running("training", 5),
        job("inference", JobStatus::Pending),
        job("documentation", JobStatus::Pending),
    ];
    let first = s.observe(&env, &views, at(10));
    assert_eq!(wait(first.next), 2.0, "something changed");
    assert!(first.actions.contains(&Action::Save));
    let quiet: Vec<f64> = (0..10)
        .map(|i| wait(s.observe(&env, &views, at(20 + i)).next))
        .collect();
    assert_eq!(quiet[0], 3.0);
    assert!(quiet.windows(2).all(|w| w[1] >= w[0]), "{quiet:?}");
    assert_eq!(*quiet.last().unwrap(), 30.0);
    // Training is planned for 35 min: past 90 % of it, a change is due.
    let late = s.observe(&env, &views, at(5 + 2100 * 9 / 10 + 1));
    assert!(!late.actions.contains(&Action::Save), "nothing changed");
    assert_eq!(wait(late.next), 4.0);
}

#[test]
fn spot_interruptions_are_counted_and_every_attempt_is_billed() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let lost = attempt(5, 605, "Host EC2 (instance i-1) terminated.", None);
    let retried = JobView {
        attempts: vec![lost.clone()],
        ..running("training", 700)
    };
    let step = s.observe(&env, &[retried], at(710));
    assert_eq!(phase(&s, "training").spot_interruptions, 1);
    let ev = events(&step.actions);
    assert!(matches!(
        ev[0],
        RunEvent::AttemptEnded { attempt: 1, spot_interruption: true, run_seconds, .. } if *run_seconds == 600.0
    ));
    assert!(matches!(
        ev[1],
        RunEvent::Phase {
            attempt: 2,
            max_attempts: 3,
            status: JobStatus::Running,
            ..
        }
    ));
    let done = ended(
        "training",
        JobStatus::Succeeded,
        vec![
            lost,
            attempt(700, 2800, "Essential container in task exited", Some(0)),
        ],
    );
    let step = s.observe(&env, &[done], at(2810));
    let p = phase(&s, "training");
    assert_eq!((p.spot_interruptions, p.attempts.len()), (1, 2));
    assert_eq!(p.run_seconds, Some(2700.0));
    let both = crate::cost::phase_cost(&spec, &prices, p).unwrap();
    let one = pipectl_metering::estimate::compute_usd(
        &spec,
        spec.phase("training").unwrap(),
        &prices,
        &[2100.0],
    )
    .unwrap();
    assert_eq!(p.compute_usd, Some(both));
    assert!(both > one, "the interrupted attempt is billed too");
    assert!(step.actions.contains(&Action::Publish { phase: 0 }));
    let ev = events(&step.actions);
    assert_eq!(
        ev.len(),
        2,
        "only the new attempt's end, then the status: {ev:?}"
    );
    // Published once only.
    let again = s.observe(&env, &[], at(2820));
    assert!(!again.actions.contains(&Action::Publish { phase: 0 }));
}

#[test]
fn logs_are_followed_per_attempt_and_stopped_when_it_ends() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, true);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let step = s.observe(&env, &[running("training", 5)], at(10));
    assert!(step.actions.contains(&Action::Follow {
        phase: "training".into(),
        stream: "training/5".into()
    }));
    let lost = attempt(5, 605, "Host EC2 (instance i-1) terminated.", None);
    let retried = JobView {
        attempts: vec![lost],
        ..running("training", 700)
    };
    let step = s.observe(&env, &[retried], at(710));
    let follows: Vec<&Action> = step
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Follow { .. } | Action::StopFollowing { .. }))
        .collect();
    assert_eq!(
        follows,
        [
            &Action::Follow {
                phase: "training".into(),
                stream: "s/5".into()
            },
            &Action::Follow {
                phase: "training".into(),
                stream: "training/700".into()
            },
            &Action::StopFollowing {
                stream: "s/5".into()
            },
            &Action::StopFollowing {
                stream: "training/5".into()
            },
        ]
    );
}

#[test]
fn the_run_succeeds_when_every_phase_did_and_costs_their_sum() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let ok = |name: &str, a: i64, b: i64| {
        ended(
            name,
            JobStatus::Succeeded,
            vec![attempt(a, b, "done", Some(0))],
        )
    };
    s.observe(
        &env,
        &[
            ok("training", 5, 2000),
            ok("inference", 2010, 2700),
            ok("documentation", 2710, 7000),
        ],
        at(7010),
    );
    assert!(s.open_jobs().is_empty());
    s.finish(at(7010).ms);
    assert_eq!(s.rec.status, RunStatus::Succeeded);
    let sum: f64 = s.rec.phases.iter().filter_map(|p| p.compute_usd).sum();
    assert!(sum > 0.0);
    assert_eq!(s.rec.compute_usd, Some(sum));
}
