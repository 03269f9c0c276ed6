//! Cost analysis beyond one run: each phase's instance-hours priced every way AWS sells them
//! (Spot, On-Demand, 1- and 3-year Reserved Instances and Savings Plans), monthly scenarios
//! (runs per month, or requests per day through the phase that serves them), the break-even
//! points between ways of buying, and a sensitivity table (each input ±N %, ranked).
//!
//! Usage offers (Spot, On-Demand) cost per instance-hour used. Commitments cost their rate for
//! every hour of the month (730), used or not, and cover up to 730 instance-hours a month per
//! committed instance; use beyond that is On-Demand. Everything else (storage, transfer) is per
//! run, as the cost model prices it. All totals come from [`estimate`] on the spec or a
//! variant of it.

use serde::Serialize;

use pipectl_spec::Spec;
use pipectl_spec::model::Purchase;

use crate::estimate::{Options, billed_secs, estimate, place};
use crate::money::{ser, ser_opt};
use crate::prices::{HOURS_PER_MONTH, Offer, PriceKey, PriceSheet};
use crate::variant::{self, Input};

/// Average days in a month (365 / 12).
pub const DAYS_PER_MONTH: f64 = 365.0 / 12.0;

/// One purchase offer priced for one phase.
#[derive(Debug, Clone, Serialize)]
pub struct OfferPrice {
    /// The offer (On-Demand, Spot, a Savings Plan or Reserved term, ...).
    pub offer: Offer,
    /// USD per instance-hour; `None` when the sheet has no such price.
    pub rate: Option<f64>,
    /// The rate is the sheet's assumption (Spot estimated from On-Demand).
    pub assumed: bool,
    /// Usage offers: the phase's compute per run.
    #[serde(serialize_with = "ser_opt")]
    pub per_run_usd: Option<f64>,
    /// Commitments: what covering the phase's instances costs a month, used or not.
    #[serde(serialize_with = "ser_opt")]
    pub monthly_commitment_usd: Option<f64>,
    /// Commitments: runs a month above which it costs less than the phase's current offer.
    pub break_even_runs_per_month: Option<f64>,
}

/// A phase's compute under every offer (an element of `phases` in the analysis JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PhaseOffers {
    /// The spec's phase name.
    pub phase: String,
    /// The instance type the estimate places it on.
    pub instance_type: String,
    /// Instances running at once (what a commitment must cover).
    pub instances: u32,
    /// Billed instance-hours per run (60 s minimum).
    pub instance_hours_per_run: f64,
    /// The offer the spec buys it with now.
    pub current: Offer,
    /// Every offer, priced.
    pub offers: Vec<OfferPrice>,
    /// Spot stays cheaper than On-Demand as long as interruptions add less than this fraction
    /// of re-run time.
    pub spot_break_even_rerun_fraction: Option<f64>,
}

fn offer_of(p: Purchase) -> Offer {
    match p {
        Purchase::Spot => Offer::Spot,
        Purchase::OnDemand => Offer::OnDemand,
    }
}

/// Each phase's compute priced every way the sheet knows.
pub fn offers(spec: &Spec, prices: &PriceSheet) -> Vec<PhaseOffers> {
    let mut out = Vec::new();
    for phase in &spec.phases {
        let Some(pl) = place(spec, phase, prices) else {
            continue;
        };
        let concurrent = (pl.instances / pl.waves.max(1)).max(1);
        let hours = f64::from(pl.instances) * billed_secs(phase.duration.secs() as f64) / 3600.0;
        let current = offer_of(pl.purchase);
        let current_rate = prices.offer(current, &pl.instance_type).map(|r| r.usd);
        let offers = Offer::ALL
            .iter()
            .map(|&o| {
                let r = prices.offer(o, &pl.instance_type);
                let rate = r.as_ref().map(|r| r.usd);
                let commit = o.is_commitment();
                let monthly = rate
                    .filter(|_| commit)
                    .map(|r| r * HOURS_PER_MONTH * f64::from(concurrent));
                OfferPrice {
                    offer: o,
                    rate,
                    assumed: r.as_ref().is_some_and(|r| r.assumed),
                    per_run_usd: rate.filter(|_| !commit).map(|r| r * hours),
                    monthly_commitment_usd: monthly,
                    // Only a commitment cheaper per hour than the current offer ever pays, and
                    // then before its use outgrows what it covers.
                    break_even_runs_per_month: monthly
                        .zip(current_rate)
                        .zip(rate)
                        .filter(|((_, c), r)| *c > *r && hours > 0.0)
                        .map(|((m, c), _)| m / (hours * c)),
                }
            })
            .collect();
        let od = prices.on_demand(&pl.instance_type).map(|r| r.usd);
        let spot = prices.spot(&pl.instance_type).map(|r| r.usd);
        out.push(PhaseOffers {
            phase: phase.name.clone(),
            instance_type: pl.instance_type.clone(),
            instances: concurrent,
            instance_hours_per_run: hours,
            current,
            offers,
            spot_break_even_rerun_fraction: od
                .zip(spot)
                .filter(|(_, s)| *s > 0.0)
                .map(|(o, s)| o / s - 1.0),
        });
    }
    out
}

/// A way of buying the whole pipeline's compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "strategy", content = "offer")]
pub enum Strategy {
    /// Each compute environment as the spec buys it.
    AsSpecified,
    /// Every compute environment On-Demand.
    AllOnDemand,
    /// Spot wherever Batch allows it (not multi-node jobs).
    AllSpot,
    /// Every phase's instances covered by this commitment.
    Commit(Offer),
}

impl Strategy {
    /// The name shown in tables and charts (`all Spot`, the offer's label, ...).
    pub fn label(self) -> String {
        match self {
            Strategy::AsSpecified => "as specified".into(),
            Strategy::AllOnDemand => "all On-Demand".into(),
            Strategy::AllSpot => "all Spot".into(),
            Strategy::Commit(o) => o.label().into(),
        }
    }
    /// Every strategy: the three plain ones, then one per commitment offer.
    pub fn all() -> Vec<Strategy> {
        let mut v = vec![
            Strategy::AsSpecified,
            Strategy::AllOnDemand,
            Strategy::AllSpot,
        ];
        v.extend(
            Offer::ALL
                .iter()
                .filter(|o| o.is_commitment())
                .map(|&o| Strategy::Commit(o)),
        );
        v
    }
}

/// One strategy's cost at one scenario's volume.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyCost {
    /// The strategy, flattened into the JSON object (`strategy`, `offer`).
    #[serde(flatten)]
    pub strategy: Strategy,
    /// Its [`Strategy::label`].
    pub label: String,
    /// `None` when a price it needs is not in the sheet.
    #[serde(serialize_with = "ser_opt")]
    pub monthly_usd: Option<f64>,
    /// Cost per run, USD; `None` when a price it needs is not in the sheet.
    #[serde(serialize_with = "ser_opt")]
    pub per_run_usd: Option<f64>,
    /// Cost per served item, USD; `None` without items or a price.
    #[serde(serialize_with = "ser_opt")]
    pub per_item_usd: Option<f64>,
}

/// One volume of use, priced under every strategy.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// The volume, for people (`30 runs/month`, ...).
    pub label: String,
    /// Runs a month at this volume.
    pub runs_per_month: f64,
    /// Requests a day, when the sweep is by requests; `None` for a sweep by runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_day: Option<f64>,
    /// Items served a month; `None` when no phase declares `items`.
    pub items_per_month: Option<f64>,
    /// One per strategy, in [`Strategy::all`]'s order.
    pub costs: Vec<StrategyCost>,
    /// The label of the cheapest priced strategy.
    pub cheapest: Option<String>,
}

/// What a scenario sweep is over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Volume {
    /// Runs a month.
    RunsPerMonth(f64),
    /// Requests a day, each one item of the phase that declares `items`.
    RequestsPerDay(f64),
}

/// The phase whose `items` count what the pipeline serves (the last one that declares them).
pub fn item_phase(spec: &Spec) -> Option<(&str, u64)> {
    spec.phases
        .iter()
        .rev()
        .find_map(|p| p.items.map(|n| (p.name.as_str(), n)))
}

/// Monthly cost of `runs` runs a month bought as `strategy`.
pub fn monthly(
    spec: &Spec,
    prices: &PriceSheet,
    opts: Options,
    strategy: Strategy,
    runs: f64,
) -> Option<f64> {
    let base = estimate(spec, prices, opts);
    let compute_per_run = base.components.compute;
    let rest_per_run = base.total_usd - compute_per_run;
    let per_run = |s: &Spec| {
        let e = estimate(s, prices, opts);
        e.complete.then_some(e.total_usd)
    };
    match strategy {
        Strategy::AsSpecified => base.complete.then_some(runs * base.total_usd),
        Strategy::AllOnDemand => base.baseline_on_demand_total_usd.map(|t| runs * t),
        Strategy::AllSpot => per_run(&variant::all_spot(spec)).map(|t| runs * t),
        Strategy::Commit(o) => {
            let mut compute = 0.0;
            for po in offers(spec, prices) {
                let rate = po.offers.iter().find(|x| x.offer == o)?.rate?;
                let od = prices.on_demand(&po.instance_type)?.usd;
                let covered = f64::from(po.instances) * HOURS_PER_MONTH;
                let used = runs * po.instance_hours_per_run;
                compute += covered * rate + (used - covered).max(0.0) * od;
            }
            base.complete.then_some(compute + runs * rest_per_run)
        }
    }
}

/// Monthly cost of each strategy at each volume.
pub fn scenarios(
    spec: &Spec,
    prices: &PriceSheet,
    opts: Options,
    volumes: &[Volume],
) -> Vec<Scenario> {
    let items = item_phase(spec).map(|(_, n)| n as f64);
    volumes
        .iter()
        .filter_map(|&v| {
            let (runs, rpd, label) = match v {
                Volume::RunsPerMonth(n) => (n, None, format!("{n} runs/month")),
                Volume::RequestsPerDay(r) => {
                    let per_run = items?;
                    (
                        r * DAYS_PER_MONTH / per_run,
                        Some(r),
                        format!("{r} requests/day"),
                    )
                }
            };
            let items_per_month = items.map(|i| i * runs);
            let costs: Vec<StrategyCost> = Strategy::all()
                .into_iter()
                .map(|s| {
                    let m = monthly(spec, prices, opts, s, runs);
                    StrategyCost {
                        strategy: s,
                        label: s.label(),
                        monthly_usd: m,
                        per_run_usd: m.filter(|_| runs > 0.0).map(|m| m / runs),
                        per_item_usd: m
                            .zip(items_per_month)
                            .filter(|(_, i)| *i > 0.0)
                            .map(|(m, i)| m / i),
                    }
                })
                .collect();
            let cheapest = costs
                .iter()
                .filter_map(|c| c.monthly_usd.map(|m| (m, &c.label)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, l)| l.clone());
            Some(Scenario {
                label,
                runs_per_month: runs,
                requests_per_day: rpd,
                items_per_month,
                costs,
                cheapest,
            })
        })
        .collect()
}

/// A volume at which a commitment starts to cost less than buying as specified.
#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    /// Which two options meet.
    pub between: String,
    /// Runs a month where the two costs meet.
    pub runs_per_month: f64,
    /// The same volume in requests a day; `None` for a sweep by runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_day: Option<f64>,
    /// One sentence saying what it means.
    pub meaning: String,
}

/// Where each commitment starts to pay against buying the pipeline as specified. The
/// difference of the two monthly costs is piecewise linear in runs (it bends where a phase's
/// use outgrows what the commitment covers and the rest is On-Demand), so the crossing is
/// found exactly on the segment where it changes sign; a commitment that never pays has none.
pub fn break_evens(spec: &Spec, prices: &PriceSheet, opts: Options) -> Vec<BreakEven> {
    let items = item_phase(spec).map(|(_, n)| n as f64);
    let phase_offers = offers(spec, prices);
    let mut bends: Vec<f64> = phase_offers
        .iter()
        .filter(|p| p.instance_hours_per_run > 0.0)
        .map(|p| f64::from(p.instances) * HOURS_PER_MONTH / p.instance_hours_per_run)
        .collect();
    bends.sort_by(f64::total_cmp);
    let last = bends.last().copied().unwrap_or(1.0);
    bends.insert(0, 0.0);
    bends.push(last * 10.0);
    let mut out = Vec::new();
    for o in Offer::ALL.into_iter().filter(|o| o.is_commitment()) {
        let diff = |n: f64| {
            Some(
                monthly(spec, prices, opts, Strategy::Commit(o), n)?
                    - monthly(spec, prices, opts, Strategy::AsSpecified, n)?,
            )
        };
        let mut found = None;
        for w in bends.windows(2) {
            let (Some(a), Some(b)) = (diff(w[0]), diff(w[1])) else {
                break;
            };
            if a > 0.0 && b <= 0.0 {
                found = Some(w[0] + (w[1] - w[0]) * a / (a - b));
                break;
            }
        }
        let Some(n) = found else {
            continue;
        };
        out.push(BreakEven {
            between: format!("{} and as specified", o.label()),
            runs_per_month: n,
            requests_per_day: items.map(|i| n * i / DAYS_PER_MONTH),
            meaning: format!(
                "below {n:.0} runs a month the commitment costs more than buying per use"
            ),
        });
    }
    out
}

/// How much one input moves the total, varied down and up by the same percentage.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityRow {
    /// The input, for people (a price's key, `<phase> duration`, `bucket sizes`, ...).
    pub input: String,
    /// `price`, `duration` or `data`.
    pub kind: &'static str,
    /// Total per run with the input lowered, USD.
    #[serde(serialize_with = "ser")]
    pub low_total_usd: f64,
    /// Total per run with the input raised, USD.
    #[serde(serialize_with = "ser")]
    pub high_total_usd: f64,
    /// `low_total_usd` minus the base total, USD.
    #[serde(serialize_with = "ser")]
    pub low_delta_usd: f64,
    /// `high_total_usd` minus the base total, USD.
    #[serde(serialize_with = "ser")]
    pub high_delta_usd: f64,
    /// |high − low|: what the ranking is by.
    #[serde(serialize_with = "ser")]
    pub swing_usd: f64,
}

/// A sensitivity analysis: every input varied by `percent`, ranked.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    /// How far each input is varied, in percent (both ways).
    pub percent: f64,
    /// Total per run with every input as it is, USD.
    #[serde(serialize_with = "ser")]
    pub base_total_usd: f64,
    /// Largest swing first.
    pub rows: Vec<SensitivityRow>,
}

/// The inputs of one run's cost that a sensitivity analysis varies.
pub fn inputs(spec: &Spec, prices: &PriceSheet) -> Vec<Input> {
    let mut v = Vec::new();
    let mut seen = Vec::new();
    for p in &spec.phases {
        if let Some(pl) = place(spec, p, prices) {
            let key = match pl.purchase {
                Purchase::Spot => PriceKey::Spot(pl.instance_type.clone()),
                Purchase::OnDemand => PriceKey::OnDemand(pl.instance_type.clone()),
            };
            if !seen.contains(&key) {
                seen.push(key.clone());
                v.push(Input::Price(key));
            }
        }
    }
    if let Some(f) = &spec.fsx {
        let key = match f.throughput_per_tib {
            Some(t) if f.deployment_type.as_aws().starts_with("PERSISTENT") => {
                format!("{}/{t}", f.deployment_type.as_aws())
            }
            _ => f.deployment_type.as_aws().to_string(),
        };
        v.push(Input::Price(PriceKey::Fsx(key)));
    }
    if !spec.buckets.is_empty() {
        v.push(Input::Price(PriceKey::S3Standard));
        v.push(Input::BucketSizes);
    }
    if spec.phases.iter().any(|p| p.data_out.bytes() > 0) {
        v.push(Input::Price(PriceKey::TransferOut));
    }
    if spec.network.egress == pipectl_spec::model::Egress::NatGateway {
        v.push(Input::Price(PriceKey::NatHour));
        v.push(Input::Price(PriceKey::NatGb));
    }
    for p in &spec.phases {
        v.push(Input::Duration(p.name.clone()));
        if p.data_out.bytes() > 0 {
            v.push(Input::DataOut(p.name.clone()));
        }
    }
    v
}

/// Each input moved by ±`percent` %, the one-run total recomputed, ranked by swing.
pub fn sensitivity(spec: &Spec, prices: &PriceSheet, opts: Options, percent: f64) -> Sensitivity {
    let base = estimate(spec, prices, opts).total_usd;
    let total = |f: f64, input: &Input| match input {
        Input::Price(k) => estimate(spec, &prices.scaled(k, f), opts).total_usd,
        other => estimate(&variant::scaled(spec, other, f), prices, opts).total_usd,
    };
    let (lo, hi) = (1.0 - percent / 100.0, 1.0 + percent / 100.0);
    let mut rows: Vec<SensitivityRow> = inputs(spec, prices)
        .iter()
        .map(|input| {
            let (l, h) = (total(lo, input), total(hi, input));
            let (name, kind) = match input {
                Input::Price(k) => (k.to_string(), "price"),
                Input::Duration(p) => (format!("{p} duration"), "duration"),
                Input::DataOut(p) => (format!("{p} data out"), "data"),
                Input::BucketSizes => ("bucket sizes".to_string(), "data"),
            };
            SensitivityRow {
                input: name,
                kind,
                low_total_usd: l,
                high_total_usd: h,
                low_delta_usd: l - base,
                high_delta_usd: h - base,
                swing_usd: (h - l).abs(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.swing_usd.total_cmp(&a.swing_usd));
    Sensitivity {
        percent,
        base_total_usd: base,
        rows,
    }
}
