//! The report's charts, drawn with plotters into SVG strings: the phase timeline (a Gantt of
//! queue wait and run per attempt), scaling efficiency, Spot against On-Demand, the component
//! breakdown, the plan-to-actual waterfall, cost per job and per item, and CloudWatch values.
//! A chart without data is kept with a caption that says why, never drawn empty.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use pipectl_metering::estimate::Component;
use pipectl_metering::prices::Offer;

use crate::Report;

/// Beyond this many attempts the timeline shows one row per phase.
const MAX_GANTT_ROWS: usize = 300;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    /// `None` when there is nothing to draw; the caption says why.
    #[serde(skip)]
    pub svg: Option<String>,
    pub caption: String,
}

const QUEUE: RGBColor = RGBColor(0xc6, 0xd4, 0xe1);
const RUN: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
const FAILED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const INTERRUPTED: RGBColor = RGBColor(0xe6, 0x7e, 0x22);
const PLAN: RGBColor = RGBColor(0x95, 0xa5, 0xa6);
const UP: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const DOWN: RGBColor = RGBColor(0x27, 0xae, 0x60);
const PALETTE: [RGBColor; 4] = [
    RGBColor(0x2b, 0x6c, 0xb0),
    RGBColor(0xe6, 0x7e, 0x22),
    RGBColor(0x27, 0xae, 0x60),
    RGBColor(0x8e, 0x44, 0xad),
];

type Res<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// A bar: category index, span (low, high) of the value axis.
struct Series {
    name: String,
    color: RGBColor,
    spans: Vec<(usize, f64, f64)>,
}

/// Bars over named categories; `grouped` puts a category's series side by side, otherwise
/// they overlap (their spans say where: stacked parts, waterfall steps).
fn bars(
    title: &str,
    y_desc: &str,
    cats: &[String],
    series: &[Series],
    grouped: bool,
) -> Res<String> {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.spans.iter().flat_map(|&(_, a, b)| [a, b]))
        .fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let hi = if hi <= lo {
        lo + 1.0
    } else {
        hi + (hi - lo) * 0.08
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = cats.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n - 0.5, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc(y_desc)
            .y_label_formatter(&|v| format!("{v:.3}"))
            .draw()
            .map_err(err)?;
        let k = series.len().max(1) as f64;
        for (si, s) in series.iter().enumerate() {
            let color = s.color;
            let (w, off) = if grouped {
                (0.8 / k, -0.4 + 0.8 / k * si as f64)
            } else {
                (0.6, -0.3)
            };
            chart
                .draw_series(s.spans.iter().map(|&(i, a, b)| {
                    let x = i as f64 + off;
                    Rectangle::new([(x, a), (x + w, b)], color.filled())
                }))
                .map_err(err)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        if series.len() > 1 || series.first().is_some_and(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
        }
        let style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, c) in cats.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, lo));
            root.draw(&Text::new(c.clone(), (x, y + 6), style.clone()))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn chart(id: &'static str, title: &str, svg: Res<String>, caption: String) -> Chart {
    match svg {
        Ok(svg) => Chart {
            id,
            title: title.into(),
            svg: Some(svg),
            caption,
        },
        Err(e) => Chart {
            id,
            title: title.into(),
            svg: None,
            caption: format!("not drawn: {e}"),
        },
    }
}

fn empty(id: &'static str, title: &str, why: String) -> Chart {
    Chart {
        id,
        title: title.into(),
        svg: None,
        caption: why,
    }
}

/// Every chart of the report, in order.
pub fn all(r: &Report) -> Vec<Chart> {
    vec![
        timeline(r),
        scaling(r),
        spot_vs_on_demand(r),
        components(r),
        waterfall(r),
        per_job(r),
        metrics(r),
    ]
}

fn timeline(r: &Report) -> Chart {
    let title = "Phase timeline: queue wait and run per attempt";
    let Some(t0) = r
        .jobs
        .iter()
        .map(|j| j.ready_ms.unwrap_or(j.started_ms).min(j.started_ms))
        .min()
    else {
        return empty("timeline", title, "no attempt has started".into());
    };
    let min = |ms: i64| (ms - t0) as f64 / 60_000.0;
    // (label, queue from, run from, run to, colour)
    let mut rows: Vec<(String, f64, f64, f64, RGBColor)> = Vec::new();
    let per_attempt = r.jobs.len() <= MAX_GANTT_ROWS;
    if per_attempt {
        for j in &r.jobs {
            let queue_from = if j.attempt == 1 {
                j.ready_ms.map_or(min(j.started_ms), min)
            } else {
                min(j.started_ms)
            };
            let color = match j.outcome.as_str() {
                "FAILED" => FAILED,
                "INTERRUPTED" => INTERRUPTED,
                _ => RUN,
            };
            rows.push((
                format!("{} #{}", j.phase, j.attempt),
                queue_from,
                min(j.started_ms),
                min(j.stopped_ms),
                color,
            ));
        }
    } else {
        let mut phases: Vec<&str> = r.jobs.iter().map(|j| j.phase.as_str()).collect();
        phases.dedup();
        phases.sort();
        phases.dedup();
        for p in phases {
            let js: Vec<_> = r.jobs.iter().filter(|j| j.phase == p).collect();
            let ready = js.iter().filter_map(|j| j.ready_ms).min();
            let start = js.iter().map(|j| j.started_ms).min().unwrap_or(t0);
            let stop = js.iter().map(|j| j.stopped_ms).max().unwrap_or(start);
            rows.push((
                format!("{p} ({} attempts)", js.len()),
                ready.map_or(min(start), min),
                min(start),
                min(stop),
                RUN,
            ));
        }
    }
    let end = rows.iter().map(|r| r.3).fold(0.0, f64::max).max(0.1);
    let n = rows.len();
    let svg = (|| -> Res<String> {
        let mut svg = String::new();
        {
            let h = (80 + 22 * n).clamp(200, 2400) as u32;
            let root = SVGBackend::with_string(&mut svg, (760, h)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(150)
                .build_cartesian_2d(0f64..end * 1.03, 0f64..n as f64)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_desc("minutes since the first phase was ready")
                .draw()
                .map_err(err)?;
            let y = |i: usize| (n - 1 - i) as f64;
            chart
                .draw_series(rows.iter().enumerate().map(|(i, r)| {
                    Rectangle::new([(r.1, y(i) + 0.2), (r.2, y(i) + 0.8)], QUEUE.filled())
                }))
                .map_err(err)?
                .label("queue wait")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], QUEUE.filled()));
            chart
                .draw_series(rows.iter().enumerate().map(|(i, r)| {
                    Rectangle::new(
                        [
                            (r.2, y(i) + 0.15),
                            (r.3.max(r.2 + end * 0.002), y(i) + 0.85),
                        ],
                        r.4.filled(),
                    )
                }))
                .map_err(err)?
                .label("run")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], RUN.filled()));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
            let style = TextStyle::from(("sans-serif", 12).into_font())
                .pos(Pos::new(HPos::Right, VPos::Center));
            for (i, r) in rows.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(0.0, y(i) + 0.5));
                root.draw(&Text::new(r.0.clone(), (px - 6, py), style.clone()))
                    .map_err(err)?;
            }
            root.present().map_err(err)?;
        }
        Ok(svg)
    })();
    let caption = if per_attempt {
        "Light: waiting in the queue; dark: running (orange: the attempt was interrupted, red: it failed).".into()
    } else {
        format!(
            "{} attempts: one row per phase, from its first ready to its last stop.",
            r.jobs.len()
        )
    };
    chart("timeline", title, svg, caption)
}

fn scaling(r: &Report) -> Chart {
    let title = "Scaling efficiency: speed-up against nodes";
    let mut phases: Vec<&str> = r.scaling.iter().map(|s| s.phase.as_str()).collect();
    phases.sort();
    phases.dedup();
    let usable: Vec<(&str, Vec<(u32, f64)>)> = phases
        .into_iter()
        .filter_map(|p| {
            let mut pts: Vec<(u32, f64)> = r
                .scaling
                .iter()
                .filter(|s| s.phase == p)
                .map(|s| (s.nodes, s.seconds))
                .collect();
            pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            pts.dedup_by_key(|p| p.0);
            (pts.len() >= 2).then_some((p, pts))
        })
        .collect();
    if usable.is_empty() {
        return empty(
            "scaling",
            title,
            "Needs runs of the same phase with different node counts (e.g. the EFA variant with nodes = 1 and 2); the recorded runs have one node count per phase.".into(),
        );
    }
    let max_nodes = usable
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .max()
        .unwrap_or(1) as f64;
    let svg = (|| -> Res<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (760, 340)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(50)
                .build_cartesian_2d(0.5f64..max_nodes + 0.5, 0f64..max_nodes + 0.5)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("nodes")
                .y_desc("speed-up over the fewest nodes")
                .draw()
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    [(1.0, 1.0), (max_nodes, max_nodes)],
                    PLAN.stroke_width(1),
                ))
                .map_err(err)?
                .label("ideal")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], PLAN));
            for (i, (phase, pts)) in usable.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let (n0, t0) = pts[0];
                let sp: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|&(n, t)| (n as f64, n0 as f64 * t0 / t.max(1e-9)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(sp.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(phase.to_string())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], color));
                chart
                    .draw_series(sp.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
            root.present().map_err(err)?;
        }
        Ok(svg)
    })();
    let eff: Vec<String> = usable
        .iter()
        .flat_map(|(p, pts)| {
            let (n0, t0) = pts[0];
            pts.iter().skip(1).map(move |&(n, t)| {
                format!(
                    "{p}: {n} nodes {:.0}% efficient",
                    (n0 as f64 * t0 / t) / (n as f64 / n0 as f64) * 100.0
                )
            })
        })
        .collect();
    chart("scaling", title, svg, eff.join("; "))
}

fn spot_vs_on_demand(r: &Report) -> Chart {
    let title = "Spot against On-Demand: compute per run";
    let cats: Vec<String> = r.offers.iter().map(|o| o.phase.clone()).collect();
    let pick = |offer: Offer| -> Vec<(usize, f64, f64)> {
        r.offers
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                o.offers
                    .iter()
                    .find(|x| x.offer == offer)
                    .and_then(|x| x.per_run_usd)
                    .map(|v| (i, 0.0, v))
            })
            .collect()
    };
    if cats.is_empty() {
        return empty("spot", title, "no phase could be placed".into());
    }
    let series = [
        Series {
            name: "Spot".into(),
            color: PALETTE[1],
            spans: pick(Offer::Spot),
        },
        Series {
            name: "On-Demand".into(),
            color: PALETTE[0],
            spans: pick(Offer::OnDemand),
        },
    ];
    let assumed = r
        .offers
        .iter()
        .any(|o| o.offers.iter().any(|x| x.offer == Offer::Spot && x.assumed));
    let caption = format!(
        "Per run at the planned durations. {}",
        if assumed {
            "Spot rates here are the price sheet's assumption; the reconciliation uses the Spot price history where AWS answered."
        } else {
            "Spot rates from the price sheet."
        }
    );
    chart(
        "spot",
        title,
        bars(title, "USD per run", &cats, &series, true),
        caption,
    )
}

fn components(r: &Report) -> Chart {
    let title = "Cost by component and phase (actual)";
    let cats: Vec<String> = r
        .reconciliation
        .phases
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let mut series: Vec<Series> = [Component::Compute, Component::Storage, Component::Network]
        .iter()
        .enumerate()
        .map(|(k, c)| Series {
            name: format!("{c:?}").to_lowercase(),
            color: PALETTE[k],
            spans: Vec::new(),
        })
        .collect();
    for (i, p) in r.reconciliation.phases.iter().enumerate() {
        let mut base = 0.0;
        for (k, c) in [Component::Compute, Component::Storage, Component::Network]
            .iter()
            .enumerate()
        {
            let v: f64 = p
                .components
                .iter()
                .filter(|f| f.component == *c)
                .map(|f| f.actual_usd)
                .sum();
            if v > 0.0 {
                series[k].spans.push((i, base, base + v));
                base += v;
            }
        }
    }
    chart(
        "components",
        title,
        bars(title, "USD", &cats, &series, false),
        "Stacked: compute, shared storage allocated by time overlap, transfer out.".into(),
    )
}

fn waterfall(r: &Report) -> Chart {
    let title = "Plan to actual: variance by phase";
    let rec = &r.reconciliation;
    let mut cats = vec!["planned".to_string()];
    let mut plan = vec![(0, 0.0, rec.totals.planned_usd)];
    let (mut up, mut down) = (Vec::new(), Vec::new());
    let mut level = rec.totals.planned_usd;
    for (i, p) in rec.phases.iter().enumerate() {
        cats.push(p.name.clone());
        let v = p.totals.variance_usd;
        let span = (i + 1, level.min(level + v), level.max(level + v));
        if v >= 0.0 {
            up.push(span);
        } else {
            down.push(span);
        }
        level += v;
    }
    cats.push("actual".into());
    plan.push((cats.len() - 1, 0.0, rec.totals.actual_usd));
    let series = [
        Series {
            name: "total".into(),
            color: PLAN,
            spans: plan,
        },
        Series {
            name: "over plan".into(),
            color: UP,
            spans: up,
        },
        Series {
            name: "under plan".into(),
            color: DOWN,
            spans: down,
        },
    ];
    chart(
        "waterfall",
        title,
        bars(title, "USD", &cats, &series, false),
        format!(
            "Planned ${:.4}, actual ${:.4}, variance ${:+.4}.",
            rec.totals.planned_usd, rec.totals.actual_usd, rec.totals.variance_usd
        ),
    )
}

fn per_job(r: &Report) -> Chart {
    let title = "Cost per job and per item";
    let rec = &r.reconciliation;
    let cats: Vec<String> = rec.phases.iter().map(|p| p.name.clone()).collect();
    let attempts = |p: &str| r.jobs.iter().filter(|j| j.phase == p).count().max(1);
    let per_job: Vec<(usize, f64, f64)> = rec
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| (i, 0.0, p.totals.actual_usd / attempts(&p.name) as f64))
        .collect();
    let items: Vec<String> = r
        .items
        .iter()
        .filter_map(|(phase, n)| {
            let p = rec.phases.iter().find(|p| &p.name == phase)?;
            Some(format!(
                "{phase}: ${:.6} per item ({n} items)",
                p.totals.actual_usd / *n as f64
            ))
        })
        .collect();
    let series = [Series {
        name: String::new(),
        color: PALETTE[0],
        spans: per_job,
    }];
    chart(
        "per-job",
        title,
        bars(title, "USD per attempt", &cats, &series, false),
        if items.is_empty() {
            "Actual cost of each phase divided by its attempts. No phase declares `items`, so there is no cost per item.".into()
        } else {
            format!(
                "Actual cost of each phase divided by its attempts. {}.",
                items.join("; ")
            )
        },
    )
}

fn metrics(r: &Report) -> Chart {
    let title = "CloudWatch: the run's metrics";
    if r.metrics.is_empty() {
        return empty(
            "metrics",
            title,
            "CloudWatch returned no values for this run (see the notes).".into(),
        );
    }
    let mut names: Vec<&str> = r.metrics.iter().map(|m| m.metric.as_str()).collect();
    names.sort();
    names.dedup();
    let mut phases: Vec<String> = r.metrics.iter().filter_map(|m| m.phase.clone()).collect();
    phases.sort();
    phases.dedup();
    // Seconds on one chart; the counts and costs are in the table below it.
    let series: Vec<Series> = names
        .iter()
        .filter(|n| {
            r.metrics
                .iter()
                .any(|m| &m.metric == *n && m.unit == "Seconds")
        })
        .enumerate()
        .map(|(k, n)| Series {
            name: n.to_string(),
            color: PALETTE[k % PALETTE.len()],
            spans: r
                .metrics
                .iter()
                .filter(|m| &m.metric == n)
                .filter_map(|m| {
                    let i = phases.iter().position(|p| Some(p) == m.phase.as_ref())?;
                    Some((i, 0.0, m.value))
                })
                .collect(),
        })
        .collect();
    if series.is_empty() {
        return empty("metrics", title, "no time metrics in CloudWatch".into());
    }
    chart(
        "metrics",
        title,
        bars(title, "seconds", &phases, &series, true),
        "Read back from CloudWatch (namespace Pipectl), as the stack's dashboard shows them."
            .into(),
    )
}
