//! Watching from job events: the first event of the run's jobs makes `DescribeJobs` a
//! reconciliation a minute; a change the reconciliation finds without its event, or a queue
//! that cannot be read, goes back to polling; events of other jobs change nothing.

use super::*;
use crate::watch::decide::RECONCILE_EVERY;

#[test]
fn events_turn_describe_jobs_into_a_reconciliation_a_minute() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    // the first poll, before any event: the adaptive interval
    let first = s.observe(&env, &[job("training", JobStatus::Submitted)], at(0));
    assert!(wait(first.next) < RECONCILE_EVERY.as_secs_f64());
    // an event of another job (an earlier run's) changes nothing and keeps the schedule
    let other = JobView {
        job_id: "j-someone-else".into(),
        ..job("training", JobStatus::Runnable)
    };
    let step = s.observe_events(&env, &[other], at(1));
    assert_eq!(step.next, Next::Keep);
    assert!(step.actions.is_empty(), "{:?}", step.actions);
    // the run's own: recorded, and the next DescribeJobs a minute away
    let step = s.observe_events(&env, &[job("training", JobStatus::Runnable)], at(1));
    assert_eq!(phase(&s, "training").status, JobStatus::Runnable);
    assert_eq!(wait(step.next), RECONCILE_EVERY.as_secs_f64());
    assert!(step.actions.contains(&Action::Save));
    // later events keep that schedule
    let step = s.observe_events(&env, &[running("training", 3)], at(3));
    assert_eq!(step.next, Next::Keep);
    // a reconciliation that finds nothing new: still a minute
    let step = s.observe(&env, &[running("training", 3)], at(61));
    assert_eq!(wait(step.next), RECONCILE_EVERY.as_secs_f64());
    // one that finds a change no event brought: events were lost, poll again
    let done = ended(
        "training",
        JobStatus::Succeeded,
        vec![attempt(
            3,
            100,
            "Essential container in task exited",
            Some(0),
        )],
    );
    let step = s.observe(&env, std::slice::from_ref(&done), at(121));
    assert_eq!(wait(step.next), 2.0);
    assert!(events(&step.actions).iter().any(|e| matches!(
        e,
        RunEvent::Note { message } if message.contains("without its event")
    )));
    // its late event, after the fact, changes nothing
    let step = s.observe_events(&env, &[running("training", 3)], at(122));
    assert_eq!(phase(&s, "training").status, JobStatus::Succeeded);
    assert!(!step.actions.contains(&Action::Save));
}

#[test]
fn an_unreadable_queue_goes_back_to_polling_at_once() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    s.observe_events(&env, &[job("training", JobStatus::Runnable)], at(1));
    let step = s.events_unreadable("AccessDenied".into());
    assert_eq!(wait(step.next), 2.0);
    // and again: no change of schedule when already polling
    assert_eq!(s.events_unreadable("AccessDenied".into()).next, Next::Keep);
    // the poll after it is on the adaptive interval, not a minute
    let step = s.observe(&env, &[job("training", JobStatus::Runnable)], at(3));
    assert!(wait(step.next) < RECONCILE_EVERY.as_secs_f64());
}

#[test]
fn a_long_run_keeps_a_record_whose_size_does_not_grow_with_polls_or_events() {
    let (spec, prices) = (spec(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    s.observe(&env, &[running("training", 3)], at(3));
    let size = serde_json::to_string(&s.rec).unwrap().len();
    // two hours of polls every 2 s and events twice a second, all saying the same
    for t in 4..7_200u64 {
        s.observe(&env, &[running("training", 3)], at(t));
        s.observe_events(&env, &[running("training", 3)], at(t));
    }
    assert_eq!(serde_json::to_string(&s.rec).unwrap().len(), size);
}
