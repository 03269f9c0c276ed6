//! The advisor: concrete changes to a pipeline, each priced by running the cost model on the
//! changed spec, so that every saving is the difference of two estimates. Each says its risk
//! and whether it changes what the pipeline computes; only those that compute the same go
//! into the optimized total.

use serde::Serialize;

use pipectl_spec::Spec;
use pipectl_spec::instances::{self, INSTANCE_TYPES};
use pipectl_spec::model::{EfaMode, Phase, Purchase};
use pipectl_spec::units::Size;

use crate::estimate::{FsxRelease, Options, Placement, SheetRef, estimate, place};
use crate::money::ser;
use crate::prices::PriceSheet;
use crate::variant;

/// One change the advisor can price.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// Delete the file system when the last phase that mounts it ends.
    ReleaseFsxAfterLastUse,
    /// Deliver results inside the region (S3) instead of sending them out of AWS.
    KeepDataInRegion,
    /// Buy a phase's instances as Spot.
    Spot {
        /// The phase.
        phase: String,
    },
    /// Run a phase on another instance type (and, when given, request less memory).
    InstanceType {
        /// The phase.
        phase: String,
        /// The type to move to.
        instance_type: String,
        /// Memory to request, in GiB; `None` keeps the spec's.
        memory_gib: Option<u64>,
    },
}

impl Change {
    /// The spec and options with this change made.
    pub fn apply(&self, spec: &Spec, opts: Options) -> (Spec, Options) {
        match self {
            Change::ReleaseFsxAfterLastUse => (
                spec.clone(),
                Options {
                    fsx_release: FsxRelease::AfterLastUse,
                    ..opts
                },
            ),
            Change::KeepDataInRegion => (variant::without_egress(spec), opts),
            Change::Spot { phase } => (variant::with_purchase(spec, phase, Purchase::Spot), opts),
            Change::InstanceType {
                phase,
                instance_type,
                memory_gib,
            } => (
                variant::with_instance_type(
                    spec,
                    phase,
                    instance_type,
                    memory_gib.map(Size::from_gib),
                ),
                opts,
            ),
        }
    }
}

/// One saving `advise` proposes (an element of `recommendations` in its JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// Stable id: `release-fsx`, `keep-data-in-region`, `spot-<phase>`, `instance-type-<phase>`.
    pub id: String,
    /// One line saying what it saves.
    pub title: String,
    /// What to change in the spec (or the options) to get it.
    pub action: String,
    /// The change, flattened into the JSON object (`change` plus its fields).
    #[serde(flatten)]
    pub change: Change,
    /// Per run, from the cost model: current total − total with the change.
    #[serde(serialize_with = "ser")]
    pub saving_usd: f64,
    /// `saving_usd` as a percentage of the current total.
    pub saving_pct: f64,
    /// Per-run total with this change alone, USD.
    #[serde(serialize_with = "ser")]
    pub total_after_usd: f64,
    /// What could go wrong (Spot interruptions, less memory, ...).
    pub risk: String,
    /// `None`: the pipeline computes the same. Otherwise what may change.
    pub changes_results: Option<String>,
    /// Part of the optimized total.
    pub in_optimized: bool,
}

/// What `advise` prints: the current cost of a spec and its recommendations.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    /// The spec's stack name.
    pub stack: String,
    /// Which price sheet priced it.
    pub price_sheet: SheetRef,
    /// `plan`, or the run whose durations were used.
    pub basis: String,
    /// Per-run total as the spec stands, USD.
    #[serde(serialize_with = "ser")]
    pub current_total_usd: f64,
    /// Every recommendation that computes the same, applied together.
    #[serde(serialize_with = "ser")]
    pub optimized_total_usd: f64,
    /// `current_total_usd - optimized_total_usd`.
    #[serde(serialize_with = "ser")]
    pub optimized_saving_usd: f64,
    /// `optimized_saving_usd` as a percentage of the current total.
    pub optimized_saving_pct: f64,
    /// Largest saving first.
    pub recommendations: Vec<Recommendation>,
    /// Each Spot phase's fallback priced under the sheet's interruption assumption (a cost for
    /// reliability, never in the optimized total); empty without that assumption.
    pub fallbacks: Vec<crate::fallback::FallbackPrice>,
}

fn total(spec: &Spec, prices: &PriceSheet, opts: Options, changes: &[&Change]) -> f64 {
    let (mut s, mut o) = (spec.clone(), opts);
    for c in changes {
        (s, o) = c.apply(&s, o);
    }
    estimate(&s, prices, o).total_usd
}

fn hm(secs: u64) -> String {
    pipectl_spec::units::Duration::from_secs(secs).to_string()
}

/// The changes worth pricing for `spec`, with what they mean.
/// A recommendation before pricing: the change, its title, what to do, the risk, and what
/// else it changes.
type Candidate = (Change, String, String, String, Option<String>);

fn candidates(spec: &Spec, prices: &PriceSheet) -> Vec<Candidate> {
    let mut out = shared_candidates(spec);
    for phase in &spec.phases {
        let Some(pl) = place(spec, phase, prices) else {
            continue;
        };
        let shared = variant::sharing_phases(spec, &phase.name);
        let also = if shared.is_empty() {
            String::new()
        } else {
            format!(" (its compute environment also runs {})", shared.join(", "))
        };
        out.extend(spot_candidate(phase, &pl, &also));
        out.extend(instance_type_candidate(spec, prices, phase, &pl, &also));
    }
    out
}

/// What the whole pipeline shares: FSx past its last use, and data sent out of the region.
fn shared_candidates(spec: &Spec) -> Vec<Candidate> {
    let mut out = Vec::new();
    // FSx: phases after the last one that mounts it pay for it without using it.
    if let Some(fsx) = &spec.fsx {
        let last = spec.phases.iter().rev().find(|p| spec.phase_uses_fsx(p));
        let idle: Vec<&str> = spec
            .phases
            .iter()
            .filter(|p| !spec.phase_uses_fsx(p))
            .map(|p| p.name.as_str())
            .collect();
        if let Some(last) = last
            && !idle.is_empty()
        {
            let exports = fsx.data_repositories.iter().any(|d| d.export);
            out.push((
                Change::ReleaseFsxAfterLastUse,
                format!("Release FSx after {}", last.name),
                format!(
                    "delete the {} file system when {} ends ({} do not mount it)",
                    fsx.capacity,
                    last.name,
                    idle.join(", ")
                ),
                if exports {
                    "data written to /fsx must be exported to S3 first (the data repository \
                     associations export); a re-run needs a new file system (minutes to create)"
                        .to_string()
                } else {
                    "nothing exports /fsx to S3: copy what later phases need before deleting; a \
                     re-run needs a new file system (minutes to create)"
                        .to_string()
                },
                None,
            ));
        }
    }
    let out_gb: f64 = spec.phases.iter().map(|p| p.data_out.gb()).sum();
    if out_gb > 0.0 {
        out.push((
            Change::KeepDataInRegion,
            "Keep results in the region".into(),
            format!(
                "deliver the {out_gb:.0} GB the phases send out of AWS through S3 in {} \
                 (transfer into S3 in-region is free)",
                spec.stack.region
            ),
            "whoever reads the results outside AWS then downloads them (their transfer, or a \
             CDN, priced separately)"
                .into(),
            None,
        ));
    }
    out
}

/// An On-Demand single-node phase bought as Spot.
fn spot_candidate(phase: &Phase, pl: &Placement, also: &str) -> Option<Candidate> {
    if pl.purchase != Purchase::OnDemand || phase.nodes > 1 {
        return None;
    }
    let retry = if phase.retry.attempts < 2 || !phase.retry.on_spot_interruption {
        ", with retry = { attempts = 3, on_spot_interruption = true }"
    } else {
        ""
    };
    Some((
        Change::Spot {
            phase: phase.name.clone(),
        },
        format!("Spot for {}", phase.name),
        format!(
            "buy {}'s {} as Spot{retry}{also}",
            phase.name, pl.instance_type
        ),
        format!(
            "an interruption re-runs the phase from the start: up to {} more per \
             interruption, and the run ends later",
            hm(phase.duration.secs())
        ),
        None,
    ))
}

/// A cheaper type that fits the job as asked, else one that fits with less memory.
fn instance_type_candidate(
    spec: &Spec,
    prices: &PriceSheet,
    phase: &Phase,
    pl: &Placement,
    also: &str,
) -> Option<Candidate> {
    let rate_of = |t: &str| match pl.purchase {
        Purchase::Spot => prices.spot(t),
        Purchase::OnDemand => prices.on_demand(t),
    };
    let current = rate_of(&pl.instance_type)?.usd;
    let efa = spec
        .phase(&phase.name)
        .and_then(|p| spec.job_queues.get(&p.queue))
        .and_then(|q| q.compute_environments.first())
        .and_then(|c| spec.compute_environments.get(c))
        .is_some_and(|c| c.efa == EfaMode::Required);
    let mem_mib = phase.memory.mib().ceil() as u64;
    let gpu = instances::lookup(&pl.instance_type).and_then(|f| f.gpu_model);
    let mut fits: Vec<(&instances::InstanceType, f64, bool)> = INSTANCE_TYPES
        .iter()
        .filter(|t| t.name != pl.instance_type)
        .filter(|t| t.gpus >= phase.gpus && t.vcpus >= phase.vcpus && (!efa || t.efa))
        .filter(|t| (phase.gpus == 0) == (t.gpus == 0))
        // with less memory only where at least half of what the job asks remains usable
        .filter(|t| {
            let usable_mib = (t.memory_mib as f64 / 1024.0 * 0.94).floor() * 1024.0;
            usable_mib >= (mem_mib as f64 / 2.0).max(1024.0)
        })
        .filter_map(|t| {
            let r = rate_of(t.name)?.usd;
            (r < current).then_some((t, r, t.memory_mib >= mem_mib))
        })
        .collect();
    fits.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.total_cmp(&b.1)));
    let (t, r, as_asked) = fits.first()?;
    // Batch leaves part of an instance's memory to the ECS agent and the OS.
    let usable_gib = (t.memory_mib as f64 / 1024.0 * 0.94).floor() as u64;
    let memory_gib = (!as_asked).then_some(usable_gib);
    let mut title = format!(
        "{} on {} instead of {}",
        phase.name, t.name, pl.instance_type
    );
    let mut risk =
        format!("${r:.4}/h against ${current:.4}/h; run time assumed unchanged, measure it");
    if let Some(m) = memory_gib {
        title.push_str(&format!(" with {m} GiB"));
        risk.push_str(&format!(
            "; the job asks for {} and fails out of memory if it needs more than {m} GiB: \
             measure its peak first",
            phase.memory
        ));
    }
    let changes = (t.gpu_model != gpu).then(|| {
        format!(
            "another GPU ({} → {}): floating-point results can differ; re-check outputs",
            gpu.unwrap_or("none"),
            t.gpu_model.unwrap_or("none")
        )
    });
    Some((
        Change::InstanceType {
            phase: phase.name.clone(),
            instance_type: t.name.to_string(),
            memory_gib,
        },
        title,
        format!(
            "offer only {} in {}'s compute environment{also}",
            t.name, phase.name
        ),
        risk,
        changes,
    ))
}

/// Priced recommendations for `spec` (its planned durations, or a run's via
/// [`variant::with_durations`] before calling), largest saving first.
pub fn advise(spec: &Spec, prices: &PriceSheet, opts: Options, basis: &str) -> Advice {
    let base = estimate(spec, prices, opts);
    let current = base.total_usd;
    let mut recs: Vec<Recommendation> = candidates(spec, prices)
        .into_iter()
        .map(|(change, title, action, risk, changes_results)| {
            let after = total(spec, prices, opts, &[&change]);
            let saving = current - after;
            Recommendation {
                id: match &change {
                    Change::ReleaseFsxAfterLastUse => "release-fsx".into(),
                    Change::KeepDataInRegion => "keep-data-in-region".into(),
                    Change::Spot { phase } => format!("spot-{phase}"),
                    Change::InstanceType { phase, .. } => format!("instance-type-{phase}"),
                },
                title,
                action,
                change,
                saving_usd: saving,
                saving_pct: if current > 0.0 {
                    saving / current * 100.0
                } else {
                    0.0
                },
                total_after_usd: after,
                risk,
                in_optimized: false,
                changes_results,
            }
        })
        .filter(|r| r.saving_usd > 1e-9)
        .collect();
    recs.sort_by(|a, b| b.saving_usd.total_cmp(&a.saving_usd));
    // Instance types first, then Spot: Spot of the new type is what the combination means.
    let mut chosen: Vec<&Change> = recs
        .iter()
        .filter(|r| r.changes_results.is_none())
        // asking for less memory may fail the job: a choice for its owner, not a default
        .filter(|r| {
            !matches!(
                r.change,
                Change::InstanceType {
                    memory_gib: Some(_),
                    ..
                }
            )
        })
        .map(|r| &r.change)
        .collect();
    chosen.sort_by_key(|c| !matches!(c, Change::InstanceType { .. }));
    let optimized = total(spec, prices, opts, &chosen);
    let ids: Vec<Change> = chosen.into_iter().cloned().collect();
    for r in &mut recs {
        r.in_optimized = ids.contains(&r.change);
    }
    Advice {
        stack: spec.stack.name.clone(),
        price_sheet: base.price_sheet,
        basis: basis.to_string(),
        current_total_usd: current,
        optimized_total_usd: optimized,
        optimized_saving_usd: current - optimized,
        optimized_saving_pct: if current > 0.0 {
            (current - optimized) / current * 100.0
        } else {
            0.0
        },
        recommendations: recs,
        fallbacks: crate::fallback::fallbacks(spec, prices),
    }
}
