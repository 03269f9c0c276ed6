//! Scenarios, break-even points, sensitivity and the advisor on the seed pipeline: every figure
//! checked against arithmetic done here from the sheet's prices, and every saving against a
//! second run of the cost model.

use std::path::PathBuf;

use pipectl_metering::advise::{Change, advise};
use pipectl_metering::analysis::{
    Strategy, Volume, break_evens, monthly, offers, scenarios, sensitivity,
};
use pipectl_metering::estimate::FsxRelease;
use pipectl_metering::prices::{Offer, PriceKey};
use pipectl_metering::{Options, PriceSheet, estimate, variant};
use pipectl_spec::{Spec, load_file};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn seed() -> (Spec, PriceSheet) {
    let spec = load_file(&root().join("infra-specs/two-hour-pipeline.toml"))
        .unwrap()
        .spec;
    let prices = PriceSheet::load(&root().join("infra-specs/prices/us-east-1.toml")).unwrap();
    (spec, prices)
}

fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn offers_price_each_phase_every_way_and_find_where_commitments_pay() {
    let (spec, prices) = seed();
    let o = offers(&spec, &prices);
    let inference = o.iter().find(|p| p.phase == "inference").unwrap();
    assert_eq!(inference.instance_type, "g3s.xlarge");
    assert_eq!(inference.current, Offer::OnDemand);
    let od = inference
        .offers
        .iter()
        .find(|x| x.offer == Offer::OnDemand)
        .unwrap();
    assert!(near(od.per_run_usd.unwrap(), 0.75 * 0.2, 1e-12));
    let ri = inference
        .offers
        .iter()
        .find(|x| x.offer == Offer::Reserved1yr)
        .unwrap();
    let ri_rate = prices.offer(Offer::Reserved1yr, "g3s.xlarge").unwrap().usd;
    assert!(near(
        ri.monthly_commitment_usd.unwrap(),
        ri_rate * 730.0,
        1e-9
    ));
    // 730 h × RI rate = N × 0.2 h × 0.75 $/h
    assert!(near(
        ri.break_even_runs_per_month.unwrap(),
        730.0 * ri_rate / (0.2 * 0.75),
        1e-6
    ));
    // Spot at 30 % of On-Demand stays cheaper until re-runs add 1/0.3 − 1 of the time.
    assert!(near(
        inference.spot_break_even_rerun_fraction.unwrap(),
        1.0 / 0.3 - 1.0,
        1e-9
    ));
}

#[test]
fn a_commitment_is_paid_whether_used_or_not_and_meets_per_use_at_the_break_even() {
    let (seed_spec, prices) = seed();
    let opts = Options::default();
    // With training on Spot ($0.158/h, below the $0.331 reservation) and its use outgrowing
    // one reserved instance at 1251 runs, a 1-year reservation of the seed never pays.
    assert!(
        !break_evens(&seed_spec, &prices, opts)
            .iter()
            .any(|b| b.between.starts_with("Reserved 1-yr"))
    );
    let spec = variant::with_purchase(
        &seed_spec,
        "training",
        pipectl_spec::model::Purchase::OnDemand,
    );
    let e = estimate(&spec, &prices, opts);
    let fixed = monthly(
        &spec,
        &prices,
        opts,
        Strategy::Commit(Offer::Reserved1yr),
        0.0,
    )
    .unwrap();
    let expected: f64 = ["g4dn.xlarge", "g3s.xlarge", "t3.medium"]
        .iter()
        .map(|t| prices.offer(Offer::Reserved1yr, t).unwrap().usd * 730.0)
        .sum();
    assert!(near(fixed, expected, 1e-9), "{fixed} vs {expected}");
    let be = break_evens(&spec, &prices, opts);
    let ri = be
        .iter()
        .find(|b| b.between.starts_with("Reserved 1-yr"))
        .unwrap();
    let n = ri.runs_per_month;
    assert!(n > 0.0);
    let committed = monthly(
        &spec,
        &prices,
        opts,
        Strategy::Commit(Offer::Reserved1yr),
        n,
    )
    .unwrap();
    let per_use = monthly(&spec, &prices, opts, Strategy::AsSpecified, n).unwrap();
    assert!(near(committed, per_use, 1e-6), "{committed} vs {per_use}");
    assert!(near(per_use, n * e.total_usd, 1e-9));
}

#[test]
fn scenarios_sweep_runs_and_requests_and_name_the_cheapest() {
    let (mut spec, prices) = seed();
    spec.phases[1].items = Some(10_000);
    let s = scenarios(
        &spec,
        &prices,
        Options::default(),
        &[
            Volume::RunsPerMonth(1.0),
            Volume::RunsPerMonth(2000.0),
            Volume::RequestsPerDay(10_000.0),
        ],
    );
    assert_eq!(s.len(), 3);
    let m = |i: usize, st: Strategy| {
        s[i].costs
            .iter()
            .find(|c| c.strategy == st)
            .unwrap()
            .monthly_usd
            .unwrap()
    };
    let ri3 = Strategy::Commit(Offer::Reserved3yr);
    // One run a month: a reservation costs far more than On-Demand; at 2000 it costs less.
    assert!(m(0, ri3) > 10.0 * m(0, Strategy::AllOnDemand));
    assert!(m(1, ri3) < m(1, Strategy::AllOnDemand));
    // Spot at the sheet's 30 % is below every commitment's rate: it stays cheapest.
    assert_eq!(s[0].cheapest.as_deref(), Some("all Spot"));
    assert_eq!(s[1].cheapest.as_deref(), Some("all Spot"));
    // 10,000 requests a day through 10,000-item runs is one run a day.
    let r = &s[2];
    assert!(near(r.runs_per_month, 365.0 / 12.0, 1e-9));
    let as_spec = r
        .costs
        .iter()
        .find(|c| c.strategy == Strategy::AsSpecified)
        .unwrap();
    let total = estimate(&spec, &prices, Options::default()).total_usd;
    assert!(near(
        as_spec.monthly_usd.unwrap(),
        total * 365.0 / 12.0,
        1e-9
    ));
    assert!(near(as_spec.per_item_usd.unwrap(), total / 10_000.0, 1e-12));
}

#[test]
fn sensitivity_moves_each_input_and_ranks_by_swing() {
    let (spec, prices) = seed();
    let s = sensitivity(&spec, &prices, Options::default(), 20.0);
    let base = estimate(&spec, &prices, Options::default()).total_usd;
    assert!(near(s.base_total_usd, base, 1e-12));
    assert!(s.rows.windows(2).all(|w| w[0].swing_usd >= w[1].swing_usd));
    // A price that enters linearly: ±20 % of the g3s On-Demand price moves the total by
    // ±20 % of inference compute.
    let g3s = s
        .rows
        .iter()
        .find(|r| r.input == PriceKey::OnDemand("g3s.xlarge".into()).to_string())
        .unwrap();
    assert!(near(g3s.high_delta_usd, 0.2 * 0.75 * 0.2, 1e-9), "{g3s:?}");
    assert!(near(g3s.low_delta_usd, -0.2 * 0.75 * 0.2, 1e-9));
    // Documentation's duration moves its compute and the shared storage (the pipeline is longer).
    let doc = s
        .rows
        .iter()
        .find(|r| r.input == "documentation duration")
        .unwrap();
    let doc_compute = 0.0416 * 73.0 / 60.0 * 0.2;
    assert!(doc.high_delta_usd > doc_compute, "{doc:?}");
    // The seed's largest input is its transfer out (5 GB → $0.45 of $1.44 at list prices).
    assert_eq!(s.rows[0].kind, "price");
}

#[test]
fn the_advisor_prices_each_recommendation_with_the_cost_model() {
    let (spec, prices) = seed();
    let opts = Options::default();
    let a = advise(&spec, &prices, opts, "plan");
    let total = estimate(&spec, &prices, opts).total_usd;
    assert!(near(a.current_total_usd, total, 1e-12));
    let get = |id: &str| a.recommendations.iter().find(|r| r.id == id).unwrap();

    // FSx released after inference: storage for 47 of 120 minutes.
    let fsx = get("release-fsx");
    let released = estimate(
        &spec,
        &prices,
        Options {
            fsx_release: FsxRelease::AfterLastUse,
            ..opts
        },
    )
    .total_usd;
    assert!(near(fsx.saving_usd, total - released, 1e-12));
    let fsx_hour = 0.14 * 1200.0 / 730.0;
    assert!(
        near(fsx.saving_usd, fsx_hour * 73.0 / 60.0, 1e-9),
        "{}",
        fsx.saving_usd
    );
    assert!(fsx.changes_results.is_none());

    // Egress: 5 GB at $0.09.
    assert!(near(get("keep-data-in-region").saving_usd, 0.45, 1e-9));

    // Spot for inference: 12 min of g3s at 70 % off.
    let spot = get("spot-inference");
    assert!(near(spot.saving_usd, 0.2 * 0.75 * 0.7, 1e-9));
    let spot_total = estimate(
        &variant::with_purchase(&spec, "inference", pipectl_spec::model::Purchase::Spot),
        &prices,
        opts,
    )
    .total_usd;
    assert!(near(spot.total_after_usd, spot_total, 1e-12));

    // Inference asks for 28 GiB: the cheaper g4dn.xlarge fits only with less memory, and its
    // GPU differs, so it is offered, said to change results, and left out of the optimum.
    let it = get("instance-type-inference");
    assert!(matches!(
        &it.change,
        Change::InstanceType { instance_type, memory_gib: Some(15), .. } if instance_type == "g4dn.xlarge"
    ));
    assert!(it.changes_results.as_deref().unwrap().contains("M60"));
    assert!(!it.in_optimized);

    // The optimum applies what computes the same, together.
    let (mut s, mut o) = (spec.clone(), opts);
    for r in a.recommendations.iter().filter(|r| r.in_optimized) {
        (s, o) = r.change.apply(&s, o);
    }
    assert!(near(
        a.optimized_total_usd,
        estimate(&s, &prices, o).total_usd,
        1e-12
    ));
    assert!(a.optimized_total_usd < total - 0.45);
    assert!(
        a.recommendations
            .windows(2)
            .all(|w| w[0].saving_usd >= w[1].saving_usd)
    );
}
