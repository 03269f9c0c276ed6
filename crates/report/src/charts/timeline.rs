//! The phase timeline: a Gantt of queue wait and run per attempt (one row per phase beyond
//! [`MAX_GANTT_ROWS`] attempts), coloured by how each attempt ended.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Chart;
use super::draw::{
    FAILED, INTERRUPTED, Key, Mark, QUEUE, RUN, Res, Tip, chart, empty, err, frame, tip_value,
    with_tips,
};
use crate::{Outcome, Report};

/// Beyond this many attempts the timeline shows one row per phase.
const MAX_GANTT_ROWS: usize = 300;

/// A row: label, queue from, run from, run to (minutes since the first ready), colour.
type Row = (String, f64, f64, f64, RGBColor);

pub(super) fn timeline(r: &Report) -> Chart {
    let title = "Phase timeline: queue wait and run per attempt";
    let Some(t0) = r
        .jobs
        .iter()
        .map(|j| j.ready_ms.unwrap_or(j.started_ms).min(j.started_ms))
        .min()
    else {
        return empty("timeline", title, "no attempt has started".into());
    };
    let per_attempt = r.jobs.len() <= MAX_GANTT_ROWS;
    let rows = rows(r, t0, per_attempt);
    let svg = draw(title, &rows);
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

/// One row per attempt, or per phase when there are too many attempts.
fn rows(r: &Report, t0: i64, per_attempt: bool) -> Vec<Row> {
    let min = |ms: i64| (ms - t0) as f64 / 60_000.0;
    let mut rows: Vec<Row> = Vec::new();
    if per_attempt {
        for j in &r.jobs {
            let queue_from = if j.attempt == 1 {
                j.ready_ms.map_or(min(j.started_ms), min)
            } else {
                min(j.started_ms)
            };
            let color = match j.outcome {
                Outcome::Failed => FAILED,
                Outcome::Interrupted => INTERRUPTED,
                Outcome::Succeeded => RUN,
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
    rows
}

/// The rows drawn as bars: queue wait light, run dark, labels at the left.
fn draw(title: &str, rows: &[Row]) -> Res<String> {
    let end = rows.iter().map(|r| r.3).fold(0.0, f64::max).max(0.1);
    let n = rows.len();
    let mut svg = String::new();
    let mut tips = Vec::new();
    {
        let h = (110 + 22 * n).clamp(230, 2430) as u32;
        let root = SVGBackend::with_string(&mut svg, (760, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut keys = vec![
            Key::new("queue wait", QUEUE, Mark::Box),
            Key::new("run", RUN, Mark::Box),
        ];
        for (color, name) in [(INTERRUPTED, "interrupted"), (FAILED, "failed")] {
            if rows.iter().any(|r| r.4 == color) {
                keys.push(Key::new(name, color, Mark::Box));
            }
        }
        let plot = frame(&root, title, &keys)?;
        let mut chart = ChartBuilder::on(&plot)
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
            .map_err(err)?;
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
            .map_err(err)?;
        for (i, r) in rows.iter().enumerate() {
            let ended = if r.4 == FAILED {
                " (failed)"
            } else if r.4 == INTERRUPTED {
                " (interrupted)"
            } else {
                ""
            };
            if r.2 > r.1 {
                tips.push(Tip {
                    from: chart.backend_coord(&(r.1, y(i) + 0.2)),
                    to: chart.backend_coord(&(r.2, y(i) + 0.8)),
                    text: format!("{}: {} min in the queue", r.0, tip_value(r.2 - r.1)),
                });
            }
            tips.push(Tip {
                from: chart.backend_coord(&(r.2, y(i) + 0.15)),
                to: chart.backend_coord(&(r.3.max(r.2 + end * 0.002), y(i) + 0.85)),
                text: format!("{}: ran {} min{ended}", r.0, tip_value(r.3 - r.2)),
            });
        }
        let style = TextStyle::from(("sans-serif", 12).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, r) in rows.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, y(i) + 0.5));
            root.draw(&Text::new(r.0.clone(), (px - 6, py), style.clone()))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(with_tips(&svg, &tips))
}
