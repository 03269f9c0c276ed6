//! A Spot phase with a fallback: the watcher moves it once its capacity wait passes `after`,
//! priced, naming the dependents that move with it, and never after Ctrl-C terminated the run.

use super::*;

fn with_fallback() -> Spec {
    let mut s = spec();
    let training = s.phases.iter_mut().find(|p| p.name == "training").unwrap();
    training.fallback = Some(pipectl_spec::model::Fallback {
        queue: "inference".into(),
        after: pipectl_spec::units::Duration::from_secs(15 * 60),
        on: vec![pipectl_spec::model::FallbackTrigger::Capacity],
    });
    s
}

fn waiting() -> JobView {
    JobView {
        status_reason: Some("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY".into()),
        ..job("training", JobStatus::Runnable)
    }
}

fn fallbacks(actions: &[Action]) -> Vec<&Action> {
    actions
        .iter()
        .filter(|a| matches!(a, Action::FallBack { .. }))
        .collect()
}

#[test]
fn a_capacity_wait_past_its_limit_moves_the_phase_priced_with_its_dependents() {
    let (spec, prices) = (with_fallback(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    let step = s.observe(&env, &[waiting()], at(14 * 60));
    assert!(fallbacks(&step.actions).is_empty(), "not yet");
    let step = s.observe(&env, &[waiting()], at(15 * 60));
    let moves = fallbacks(&step.actions);
    assert_eq!(moves.len(), 1, "{:#?}", step.actions);
    let Action::FallBack { phase, switch } = moves[0] else {
        unreachable!()
    };
    assert_eq!(*phase, 0);
    assert_eq!(
        (switch.queue.as_str(), switch.trigger.as_str()),
        ("inference", "capacity")
    );
    let event = step
        .actions
        .iter()
        .find_map(|a| match a {
            Action::Emit(e @ RunEvent::Fallback { .. }) => Some(e.clone()),
            _ => None,
        })
        .expect("the switch is told before it is made");
    let RunEvent::Fallback {
        from_queue,
        stay_usd,
        switch_usd,
        dependents,
        ..
    } = event
    else {
        unreachable!()
    };
    assert_eq!(from_queue, "training");
    assert_eq!(dependents, ["inference", "documentation"]);
    assert!(
        switch_usd.unwrap() > stay_usd.unwrap(),
        "On-Demand costs more than Spot"
    );
    assert_eq!(
        step.actions
            .iter()
            .position(|a| matches!(a, Action::Emit(RunEvent::Fallback { .. }))),
        step.actions
            .iter()
            .position(|a| matches!(a, Action::FallBack { .. }))
            .map(|i| i - 1),
        "told right before"
    );
}

#[test]
fn a_terminated_run_does_not_fall_back() {
    let (spec, prices) = (with_fallback(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    s.observe(&env, &[waiting()], at(60));
    s.interrupted(true);
    let step = s.observe(&env, &[waiting()], at(20 * 60));
    assert!(fallbacks(&step.actions).is_empty());
}

#[test]
fn while_events_flow_the_watcher_wakes_when_a_capacity_fallback_falls_due() {
    let (spec, prices) = (with_fallback(), prices());
    let env = env(&spec, &prices, false);
    let mut s = WatchState::new(record(&spec, &prices), poll());
    // the first event of the run: events flow, reconciling every minute, but training's
    // fallback falls due 15 min after it became ready
    let step = s.observe_events(&env, &[waiting()], at(14 * 60 + 30));
    assert_eq!(step.next, Next::Poll(Duration::from_secs(30)), "{step:#?}");
    // a later event, with the reconciliation a minute away: woken at the due time
    let step = s.observe_events(&env, &[waiting()], at(14 * 60 + 50));
    assert_eq!(step.next, Next::Poll(Duration::from_secs(10)));
    // the reconciling DescribeJobs at the due time moves it
    let step = s.observe(&env, &[waiting()], at(15 * 60));
    assert_eq!(fallbacks(&step.actions).len(), 1);
}
