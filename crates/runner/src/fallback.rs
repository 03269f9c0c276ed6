//! When a phase moves to its fallback queue, and what the switch costs against staying: a
//! Spot job that waited for capacity longer than `fallback.after` once it could start, or that
//! Spot interrupted `interruptions:N` times, is moved once; the price of staying is the phase's
//! remaining planned time on its own queue, the price of switching its whole planned time on
//! the fallback queue (a new job starts over). Pure: the watcher carries the switch out.

use std::time::Duration;

use pipectl_metering::{PriceSheet, estimate, variant};
use pipectl_record::{FallbackSwitch, JobStatus, PhaseRecord, RunRecord};
use pipectl_spec::Spec;
use pipectl_spec::model::{Fallback, FallbackTrigger};

use crate::events::RunEvent;
use crate::stuck::{minutes, runnable_seconds};

/// A phase to move now, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The phase's index in the record.
    pub phase: usize,
    /// The trigger that fired.
    pub trigger: FallbackTrigger,
    /// One sentence: what happened.
    pub reason: String,
}

/// The phases whose fallback fires now: not moved yet, submitted, not ended.
pub fn due(rec: &RunRecord, spec: &Spec, now_ms: i64) -> Vec<Due> {
    rec.phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.fallback.is_none() && p.job_id.is_some() && !p.status.is_terminal())
        .filter_map(|(i, p)| {
            let fb = spec.phase(&p.name)?.fallback.as_ref()?;
            fires(fb, p, now_ms).map(|(trigger, reason)| Due {
                phase: i,
                trigger,
                reason,
            })
        })
        .collect()
}

/// How long until the first capacity fallback falls due, among the phases waiting RUNNABLE
/// that have one; `None` when none waits.
pub(crate) fn next_due_in(rec: &RunRecord, spec: &Spec, now_ms: i64) -> Option<Duration> {
    rec.phases
        .iter()
        .filter(|p| p.fallback.is_none() && p.job_id.is_some() && p.status == JobStatus::Runnable)
        .filter_map(|p| {
            let after = spec.phase(&p.name)?.fallback.as_ref()?.capacity_after()?;
            let waited = runnable_seconds(p, now_ms)?;
            Some((after.secs() as f64 - waited).max(0.0))
        })
        .min_by(f64::total_cmp)
        .map(Duration::from_secs_f64)
}

/// `wait`, or less when a capacity fallback falls due sooner: the watcher wakes to make it.
pub(crate) fn wake_by(wait: Duration, rec: &RunRecord, spec: &Spec, now_ms: i64) -> Duration {
    next_due_in(rec, spec, now_ms).map_or(wait, |d| d.min(wait))
}

/// The trigger of `fb` that fires for `p` now, with the reason.
fn fires(fb: &Fallback, p: &PhaseRecord, now_ms: i64) -> Option<(FallbackTrigger, String)> {
    if let Some(n) = fb.interruptions()
        && p.spot_interruptions >= n
    {
        return Some((
            FallbackTrigger::Interruptions(n),
            format!("Spot interrupted {} of its attempts", p.spot_interruptions),
        ));
    }
    let after = fb.capacity_after()?;
    if p.status != JobStatus::Runnable {
        return None;
    }
    let waited = runnable_seconds(p, now_ms)?;
    (waited >= after.secs() as f64).then(|| {
        let why = p
            .status_reason
            .as_deref()
            .map_or(String::new(), |r| format!(" ({r})"));
        (
            FallbackTrigger::Capacity,
            format!("it waited {} RUNNABLE for capacity{why}", minutes(waited)),
        )
    })
}

/// The switch as the record keeps it: the trigger, the reason, and the two prices.
pub fn switch(
    spec: &Spec,
    prices: &PriceSheet,
    p: &PhaseRecord,
    due: &Due,
    now_ms: i64,
) -> Option<FallbackSwitch> {
    let phase = spec.phase(&p.name)?;
    let fb = phase.fallback.as_ref()?;
    let remaining = remaining_seconds(p, now_ms);
    Some(FallbackSwitch {
        queue: fb.queue.clone(),
        trigger: due.trigger.to_string(),
        reason: due.reason.clone(),
        at_ms: now_ms,
        stay_usd: estimate::compute_usd(spec, phase, prices, &[remaining]),
        switch_usd: estimate::compute_usd(
            spec,
            &variant::on_queue(phase, &fb.queue),
            prices,
            &[p.planned_seconds],
        ),
    })
}

/// The moves to make now: each phase's index, the event that tells it, and the switch.
pub(crate) fn moves(
    rec: &RunRecord,
    spec: &Spec,
    prices: &PriceSheet,
    now_ms: i64,
) -> Vec<(usize, RunEvent, FallbackSwitch)> {
    due(rec, spec, now_ms)
        .into_iter()
        .filter_map(|d| {
            let s = switch(spec, prices, &rec.phases[d.phase], &d, now_ms)?;
            Some((d.phase, event(rec, spec, prices, &d, &s), s))
        })
        .collect()
}

/// The event that tells the switch before it is made: the queues, why, both prices, what the
/// job cost so far, and the phases that move with it.
fn event(
    rec: &RunRecord,
    spec: &Spec,
    prices: &PriceSheet,
    due: &Due,
    switch: &FallbackSwitch,
) -> RunEvent {
    let p = &rec.phases[due.phase];
    RunEvent::Fallback {
        phase: p.name.clone(),
        from_queue: spec
            .phase(&p.name)
            .map_or(String::new(), |s| s.queue.clone()),
        to_queue: switch.queue.clone(),
        trigger: switch.trigger.clone(),
        reason: switch.reason.clone(),
        stay_usd: switch.stay_usd,
        switch_usd: switch.switch_usd,
        spent_usd: crate::cost::job_cost(spec, prices, p),
        dependents: crate::resubmit::moving(rec, due.phase)
            .into_iter()
            .skip(1)
            .map(|j| rec.phases[j].name.clone())
            .collect(),
    }
}

/// What is left of the planned time when staying: all of it unless an attempt runs now.
fn remaining_seconds(p: &PhaseRecord, now_ms: i64) -> f64 {
    if p.status != JobStatus::Running {
        return p.planned_seconds;
    }
    let ran = p
        .attempt_began_ms()
        .map_or(0.0, |b| (now_ms - b).max(0) as f64 / 1000.0);
    (p.planned_seconds - ran).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipectl_record::Attempt;

    const SEED: &str = include_str!("../../../infra-specs/two-hour-pipeline.toml");

    fn spec(fallback: &str) -> Spec {
        let text = SEED.replacen(
            "retry = { attempts = 3, on_spot_interruption = true }",
            &format!(
                "retry = {{ attempts = 3, on_spot_interruption = true }}\nfallback = {fallback}"
            ),
            1,
        );
        pipectl_spec::load_str(std::path::Path::new("s.toml"), text)
            .unwrap()
            .spec
    }

    fn training(status: JobStatus) -> RunRecord {
        let mut p = PhaseRecord::new("training", 2100.0);
        p.job_id = Some("j-1".into());
        p.status = status;
        p.ready_at_ms = Some(0);
        serde_json::from_value(serde_json::json!({
            "schema": "pipectl.run", "version": 1, "run_id": "r", "stack": "s",
            "region": "us-east-1", "account": "0", "endpoint": "aws", "spec_path": "x",
            "spec_sha256": "", "price_sheet": {"name": "n", "date": "d"}, "estimate_usd": 1.0,
            "submitted_at_ms": 0, "status": "RUNNING", "phases": [p],
        }))
        .unwrap()
    }

    fn interrupted(at_s: i64) -> Attempt {
        Attempt {
            started_at_ms: at_s * 1000 - 30_000,
            stopped_at_ms: at_s * 1000,
            run_seconds: 30.0,
            exit_code: None,
            status_reason: Some("Host EC2 (instance i-1) terminated.".into()),
            log_stream: None,
            spot_interruption: true,
        }
    }

    const MIN: i64 = 60_000;

    #[test]
    fn a_capacity_wait_fires_after_its_limit_counted_from_when_it_could_start() {
        let s = spec(r#"{ queue = "inference", after = "15m" }"#);
        let mut rec = training(JobStatus::Runnable);
        rec.phases[0].status_reason = Some("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY".into());
        assert!(due(&rec, &s, 14 * MIN).is_empty());
        let d = due(&rec, &s, 15 * MIN);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].trigger, FallbackTrigger::Capacity);
        assert_eq!(
            d[0].reason,
            "it waited 15 min RUNNABLE for capacity (CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY)"
        );
        // back to RUNNABLE after an attempt: counted from that attempt's end
        rec.phases[0].attempts = vec![interrupted(10 * 60)];
        assert!(due(&rec, &s, 15 * MIN).is_empty());
        assert_eq!(due(&rec, &s, 25 * MIN).len(), 1);
        // running, ended, or moved already: never
        for st in [JobStatus::Running, JobStatus::Succeeded] {
            let mut r = training(st);
            r.phases[0].status_reason = None;
            assert!(due(&r, &s, 60 * MIN).is_empty());
        }
        let mut moved = training(JobStatus::Runnable);
        moved.phases[0].fallback =
            Some(switch(&s, &test_prices(), &moved.phases[0], &d[0], 0).unwrap());
        assert!(due(&moved, &s, 60 * MIN).is_empty());
        // no fallback in the spec, or capacity not a trigger
        let none = pipectl_spec::load_str(std::path::Path::new("s.toml"), SEED.to_string())
            .unwrap()
            .spec;
        assert!(due(&rec, &none, 60 * MIN).is_empty());
        let only_int = spec(r#"{ queue = "inference", on = ["interruptions:2"] }"#);
        assert!(due(&training(JobStatus::Runnable), &only_int, 60 * MIN).is_empty());
    }

    #[test]
    fn interruptions_fire_at_the_nth_whatever_the_status() {
        let s = spec(r#"{ queue = "inference", on = ["interruptions:2"] }"#);
        let mut rec = training(JobStatus::Runnable);
        rec.phases[0].attempts = vec![interrupted(60)];
        rec.phases[0].spot_interruptions = 1;
        assert!(due(&rec, &s, 2 * MIN).is_empty());
        rec.phases[0].attempts.push(interrupted(120));
        rec.phases[0].spot_interruptions = 2;
        rec.phases[0].status = JobStatus::Starting;
        let d = due(&rec, &s, 2 * MIN);
        assert_eq!(d[0].trigger, FallbackTrigger::Interruptions(2));
        assert_eq!(d[0].reason, "Spot interrupted 2 of its attempts");
    }

    fn test_prices() -> PriceSheet {
        pipectl_metering::prices::builtin("us-east-1")
            .unwrap()
            .unwrap()
    }

    #[test]
    fn staying_prices_what_is_left_and_switching_the_whole_phase_on_demand() {
        let s = spec(r#"{ queue = "inference", after = "15m" }"#);
        let prices = test_prices();
        let rec = training(JobStatus::Runnable);
        let d = Due {
            phase: 0,
            trigger: FallbackTrigger::Capacity,
            reason: "r".into(),
        };
        let sw = switch(&s, &prices, &rec.phases[0], &d, 20 * MIN).unwrap();
        let phase = s.phase("training").unwrap();
        let spot = estimate::compute_usd(&s, phase, &prices, &[2100.0]).unwrap();
        let od = prices.on_demand("g3s.xlarge").unwrap().usd * 2100.0 / 3600.0;
        assert_eq!(sw.stay_usd, Some(spot));
        assert!(
            (sw.switch_usd.unwrap() - od).abs() < 1e-6,
            "{sw:?} against {od}"
        );
        assert_eq!(
            (sw.queue.as_str(), sw.trigger.as_str()),
            ("inference", "capacity")
        );
        // running for 10 of its 35 minutes: staying costs the 25 left
        let mut running = training(JobStatus::Running);
        running.phases[0].started_at_ms = Some(10 * MIN);
        let sw = switch(&s, &prices, &running.phases[0], &d, 20 * MIN).unwrap();
        let left = estimate::compute_usd(&s, phase, &prices, &[1500.0]).unwrap();
        assert_eq!(sw.stay_usd, Some(left));
    }
}
