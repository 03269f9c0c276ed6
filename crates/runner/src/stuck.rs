//! Why a job waits RUNNABLE past its phase's expected start, in one sentence with the fix:
//! first from what Batch itself says (the job's `statusReason` carries a blocked-queue reason
//! when the job at the head of its queue cannot be placed: "Jobs stuck in a RUNNABLE status",
//! https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable.html), else from
//! the queue's compute environments as DescribeComputeEnvironments gives them: invalid or
//! disabled, too small for the job, no instance type that holds it, at their vCPU ceiling, or
//! still scaling up. Pure: the runner gathers the facts.

use std::collections::BTreeMap;

use pipectl_record::{JobStatus, PhaseRecord, RunRecord, Stuck};
use pipectl_spec::Spec;

/// What the job needs of one instance (per node), and how many nodes.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// vCPUs per node.
    pub vcpus: u32,
    /// Memory per node, MiB.
    pub memory_mib: u64,
    /// GPUs per node.
    pub gpus: u32,
    /// Nodes (1 unless multi-node).
    pub nodes: u32,
}

/// One compute environment of the job's queue, as Batch describes it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Its name.
    pub name: String,
    /// `VALID`, `INVALID`, `UPDATING`, ...
    pub status: String,
    /// Batch's reason for its status.
    pub status_reason: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// `SPOT` or `EC2`.
    pub purchase: String,
    /// `maxvCpus`.
    pub max_vcpus: i64,
    /// `desiredvCpus`: what Batch is running or launching.
    pub desired_vcpus: i64,
    /// Its instance types (or families).
    pub instance_types: Vec<String>,
}

/// Everything the explanation is made from.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The phase's name.
    pub phase: String,
    /// The job's `statusReason`.
    pub status_reason: Option<String>,
    /// What the job needs.
    pub need: Need,
    /// The queue's compute environments, in the queue's order.
    pub environments: Vec<Environment>,
    /// How long it has waited RUNNABLE, in seconds.
    pub waited_seconds: f64,
    /// The queue's runnable timeout, in seconds, if it has one (Batch cancels the job then).
    pub runnable_timeout: Option<u64>,
}

/// The phases to explain now: RUNNABLE longer than their expected start (counted from when
/// the job could start: its dependencies ended, or its last attempt did), each once per
/// `statusReason` (`explained` remembers which reason each was explained with). Gives each
/// phase's index and how long it has waited, in seconds.
pub fn due(
    rec: &RunRecord,
    spec: &Spec,
    explained: &BTreeMap<String, Option<String>>,
    now_ms: i64,
) -> Vec<(usize, f64)> {
    rec.phases
        .iter()
        .enumerate()
        .filter(|(_, p)| p.status == JobStatus::Runnable)
        .filter_map(|(i, p)| {
            let waited = runnable_seconds(p, now_ms)?;
            let expected = spec
                .phase(&p.name)
                .map_or(f64::INFINITY, |s| s.expected_start().secs() as f64);
            let again = explained.get(&p.name) != Some(&p.status_reason);
            (waited >= expected && again).then_some((i, waited))
        })
        .collect()
}

/// How long a RUNNABLE job has waited since it could start (its dependencies ended, or its
/// last attempt did), in seconds; `None` when that is not known yet.
pub(crate) fn runnable_seconds(p: &PhaseRecord, now_ms: i64) -> Option<f64> {
    let since = p
        .attempts
        .last()
        .map(|a| a.stopped_at_ms)
        .or(p.ready_at_ms)?;
    Some((now_ms - since).max(0) as f64 / 1000.0)
}

pub(crate) fn minutes(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else {
        format!("{:.0} min", secs / 60.0)
    }
}

/// Whether one instance of `type_name` holds `need`: `None` when the type is unknown (a
/// family, `optimal`): any of its sizes might.
pub fn instance_fits(type_name: &str, need: &Need) -> Option<bool> {
    let t = pipectl_spec::instances::lookup(type_name)?;
    Some(t.vcpus >= need.vcpus && t.memory_mib >= need.memory_mib && t.gpus >= need.gpus)
}

/// The explanation, with the fix.
pub fn explain(f: &Facts) -> Stuck {
    let (code, explanation, fix) = reason(f);
    let cancel = f.runnable_timeout.map_or(String::new(), |t| {
        format!("; the queue cancels it after {} blocked", minutes(t as f64))
    });
    let time_limited = matches!(
        code.as_str(),
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
            | "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE"
            | "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
    );
    Stuck {
        explanation: format!(
            "{} has waited RUNNABLE {}: {explanation}{}",
            f.phase,
            minutes(f.waited_seconds),
            if time_limited { cancel.as_str() } else { "" }
        ),
        code,
        fix,
        waited_seconds: f.waited_seconds,
    }
}

fn types(f: &Facts) -> String {
    let mut t: Vec<&str> = f
        .environments
        .iter()
        .flat_map(|e| e.instance_types.iter().map(String::as_str))
        .collect();
    t.dedup();
    t.join(", ")
}

fn need_text(n: &Need) -> String {
    let gpus = if n.gpus > 0 {
        format!(", {} GPU", n.gpus)
    } else {
        String::new()
    };
    format!("{} vCPU, {} MiB{gpus} per node", n.vcpus, n.memory_mib)
}

/// (code, what holds it, the fix).
fn reason(f: &Facts) -> (String, String, String) {
    let code = f
        .status_reason
        .as_deref()
        .and_then(|r| r.split(" - ").next())
        .unwrap_or_default();
    let need_vcpus = i64::from(f.need.vcpus) * i64::from(f.need.nodes);
    let ces: Vec<&str> = f.environments.iter().map(|e| e.name.as_str()).collect();
    match code {
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY" => (
            code.into(),
            format!("EC2 has no capacity for {} in the compute environment's zones (Batch: {code})", types(f)),
            "add instance types or availability zones to its compute environment, or give the phase a `fallback` queue (On-Demand); waiting may be enough".into(),
        ),
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE" => (
            code.into(),
            format!(
                "it needs {need_vcpus} vCPUs and its compute environments ({}) allow at most {}",
                ces.join(", "),
                f.environments.iter().map(|e| e.max_vcpus).max().unwrap_or(0)
            ),
            format!("raise `max_vcpus` of its compute environment to at least {need_vcpus} and run `pipectl up`"),
        ),
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" => (
            code.into(),
            format!("no instance type of its compute environments ({}) holds {}", types(f), need_text(&f.need)),
            "lower the phase's `vcpus`, `memory` or `gpus`, or add a larger instance type (memory: leave about 1 GiB for the ECS agent)".into(),
        ),
        "ACTION_REQUIRED" => invalid(f),
        _ => from_environments(f, need_vcpus),
    }
}

fn invalid(f: &Facts) -> (String, String, String) {
    let why: Vec<String> = f
        .environments
        .iter()
        .filter(|e| e.status == "INVALID")
        .map(|e| {
            format!(
                "{} is INVALID ({})",
                e.name,
                e.status_reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    (
        "COMPUTE_ENVIRONMENT_INVALID".into(),
        why.join("; "),
        "run `pipectl status` and `pipectl up`, which validates the compute environment again; Batch's reason says what it could not use".into(),
    )
}

/// No blocked-queue reason from Batch: what the compute environments say.
fn from_environments(f: &Facts, need_vcpus: i64) -> (String, String, String) {
    let envs = &f.environments;
    if !envs.is_empty() && envs.iter().all(|e| e.status == "INVALID") {
        return invalid(f);
    }
    if !envs.is_empty() && envs.iter().all(|e| e.state == "DISABLED") {
        return (
            "COMPUTE_ENVIRONMENT_DISABLED".into(),
            "every compute environment of its queue is DISABLED".into(),
            "run `pipectl up`, which enables them".into(),
        );
    }
    if !envs.is_empty() && envs.iter().all(|e| e.max_vcpus < need_vcpus) {
        let (code, explanation, fix) = reason(&Facts {
            status_reason: Some("MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE".into()),
            ..f.clone()
        });
        return (code, explanation, fix);
    }
    let fits: Vec<Option<bool>> = envs
        .iter()
        .flat_map(|e| e.instance_types.iter().map(|t| instance_fits(t, &f.need)))
        .collect();
    if !fits.is_empty() && fits.iter().all(|x| *x == Some(false)) {
        return reason(&Facts {
            status_reason: Some("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT".into()),
            ..f.clone()
        });
    }
    if let Some(full) = envs
        .iter()
        .find(|e| e.desired_vcpus + need_vcpus > e.max_vcpus && e.max_vcpus >= need_vcpus)
    {
        return (
            "AT_MAX_VCPUS".into(),
            format!(
                "{} runs {} of its {} vCPUs, too few left for {need_vcpus} more: it waits for other jobs to end",
                full.name, full.desired_vcpus, full.max_vcpus
            ),
            format!(
                "raise `max_vcpus` of {} if these jobs should run side by side",
                full.name
            ),
        );
    }
    (
        "SCALING".into(),
        format!(
            "its compute environment is starting instances ({} vCPUs desired of {} {}); Batch reports nothing wrong",
            envs.first().map_or(0, |e| e.desired_vcpus),
            types(f),
            envs.first().map_or("", |e| e.purchase.as_str()),
        ),
        "nothing yet: a first start takes minutes on AWS; if it lasts, check the account's EC2 quotas for these types (vCPU limits) and `pipectl status`".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipectl_record::{Attempt, PhaseRecord};

    #[test]
    fn a_phase_is_due_past_its_expected_start_once_per_reason() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../infra-specs/two-hour-pipeline.toml");
        let spec = pipectl_spec::load_file(&path).unwrap().spec;
        let t0 = 1_000_000;
        let mut rec = crate::watch::tests::record(&spec, &crate::watch::tests::prices());
        let p: &mut PhaseRecord = &mut rec.phases[0];
        p.status = JobStatus::Runnable;
        p.ready_at_ms = Some(t0);
        let mut explained = BTreeMap::new();
        let at = |s: i64| t0 + s * 1000;
        // default expected start: 10 minutes
        assert!(due(&rec, &spec, &explained, at(599)).is_empty());
        assert_eq!(due(&rec, &spec, &explained, at(600)), vec![(0, 600.0)]);
        explained.insert("training".into(), None);
        assert!(due(&rec, &spec, &explained, at(700)).is_empty(), "once");
        rec.phases[0].status_reason = Some("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - x".into());
        assert_eq!(
            due(&rec, &spec, &explained, at(700)).len(),
            1,
            "a new reason"
        );
        // a retry waits from its last attempt's end
        rec.phases[0].attempts.push(Attempt {
            started_at_ms: at(800),
            stopped_at_ms: at(900),
            run_seconds: 100.0,
            exit_code: None,
            status_reason: Some("Host EC2 (instance i-1) terminated.".into()),
            log_stream: None,
            spot_interruption: true,
        });
        assert!(due(&rec, &spec, &explained, at(1_400)).is_empty());
        assert_eq!(due(&rec, &spec, &explained, at(1_500)), vec![(0, 600.0)]);
        // not RUNNABLE: never
        rec.phases[0].status = JobStatus::Running;
        assert!(due(&rec, &spec, &explained, at(9_999)).is_empty());
    }

    fn ce(max: i64, desired: i64, types: &[&str]) -> Environment {
        Environment {
            name: "s-training-spot".into(),
            status: "VALID".into(),
            state: "ENABLED".into(),
            purchase: "SPOT".into(),
            max_vcpus: max,
            desired_vcpus: desired,
            instance_types: types.iter().map(|t| (*t).to_string()).collect(),
            ..Environment::default()
        }
    }

    fn facts(reason: Option<&str>, envs: Vec<Environment>) -> Facts {
        Facts {
            phase: "training".into(),
            status_reason: reason.map(str::to_string),
            need: Need {
                vcpus: 4,
                memory_mib: 15_000,
                gpus: 1,
                nodes: 1,
            },
            environments: envs,
            waited_seconds: 900.0,
            runnable_timeout: Some(7_200),
        }
    }

    #[test]
    fn batchs_blocked_queue_reasons_are_explained_each_with_its_fix() {
        let envs = || vec![ce(16, 0, &["g4dn.xlarge"])];
        let s = explain(&facts(
            Some(
                "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance type [g4dn.xlarge]",
            ),
            envs(),
        ));
        assert_eq!(s.code, "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY");
        assert!(
            s.explanation.starts_with(
                "training has waited RUNNABLE 15 min: EC2 has no capacity for g4dn.xlarge"
            ),
            "{}",
            s.explanation
        );
        assert!(
            s.explanation
                .ends_with("the queue cancels it after 120 min blocked"),
            "{}",
            s.explanation
        );
        assert!(s.fix.contains("fallback"));

        let s = explain(&facts(
            Some(
                "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE - CE(s) associated with the job queue cannot meet the CPU requirement of the job.",
            ),
            vec![ce(2, 0, &["g4dn.xlarge"])],
        ));
        assert!(
            s.explanation.contains("needs 4 vCPUs") && s.explanation.contains("at most 2"),
            "{}",
            s.explanation
        );
        assert!(s.fix.contains("at least 4"));

        let s = explain(&facts(
            Some("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - x"),
            envs(),
        ));
        assert!(
            s.explanation
                .contains("holds 4 vCPU, 15000 MiB, 1 GPU per node"),
            "{}",
            s.explanation
        );

        let mut bad = ce(16, 0, &["g4dn.xlarge"]);
        bad.status = "INVALID".into();
        bad.status_reason = Some("CLIENT_ERROR - no role".into());
        let s = explain(&facts(
            Some("ACTION_REQUIRED - CE(s) associated with the job queue are invalid."),
            vec![bad],
        ));
        assert_eq!(s.code, "COMPUTE_ENVIRONMENT_INVALID");
        assert!(
            s.explanation
                .contains("s-training-spot is INVALID (CLIENT_ERROR - no role)")
        );
        assert!(
            !s.explanation.contains("cancels"),
            "no time-limit action applies"
        );
    }

    #[test]
    fn without_a_reason_from_batch_the_environments_tell() {
        // too small, found from the environment itself
        let s = explain(&facts(None, vec![ce(2, 0, &["g4dn.xlarge"])]));
        assert_eq!(s.code, "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE");
        // no type holds it: 15 000 MiB and a GPU do not fit a t3.medium
        let s = explain(&facts(None, vec![ce(16, 0, &["t3.medium"])]));
        assert_eq!(s.code, "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT");
        // a family: any size might hold it, so it is not blamed
        let s = explain(&facts(None, vec![ce(16, 0, &["g4dn"])]));
        assert_eq!(s.code, "SCALING");
        // busy: 14 of 16 vCPUs in use, 4 needed
        let s = explain(&facts(None, vec![ce(16, 14, &["g4dn.xlarge"])]));
        assert_eq!(s.code, "AT_MAX_VCPUS");
        assert!(
            s.explanation.contains("runs 14 of its 16 vCPUs"),
            "{}",
            s.explanation
        );
        let mut off = ce(16, 0, &["g4dn.xlarge"]);
        off.state = "DISABLED".into();
        assert_eq!(
            explain(&facts(None, vec![off])).code,
            "COMPUTE_ENVIRONMENT_DISABLED"
        );
        let s = explain(&facts(None, vec![ce(16, 4, &["g4dn.xlarge"])]));
        assert_eq!(s.code, "SCALING");
        assert!(
            s.explanation
                .contains("4 vCPUs desired of g4dn.xlarge SPOT"),
            "{}",
            s.explanation
        );
    }
}
