//! Scaling efficiency: the speed-up of a phase against its node count, from every recorded
//! run of the stack (`pipectl sweep` makes them), beside the ideal line; its efficiency
//! (speed-up ÷ node ratio) on the right-hand axis, and the cost per run at each count.

use plotters::prelude::*;

use super::Chart;
use super::draw::{Key, Mark, PALETTE, PLAN, Res, chart, empty, err, frame};
use crate::{Report, ScalingPoint};

/// One phase's points, fewest nodes first: (nodes, seconds, USD).
type Series<'a> = (&'a str, Vec<(u32, f64, Option<f64>)>);

/// Each phase's points, one per node count (the fastest run of a count); with how many
/// counts the phases have at most.
fn series(points: &[ScalingPoint]) -> (Vec<Series<'_>>, usize) {
    let mut phases: Vec<&str> = points.iter().map(|s| s.phase.as_str()).collect();
    phases.sort_unstable();
    phases.dedup();
    let mut most = 0;
    let out = phases
        .into_iter()
        .filter_map(|p| {
            let mut pts: Vec<(u32, f64, Option<f64>)> = points
                .iter()
                .filter(|s| s.phase == p)
                .map(|s| (s.nodes, s.seconds, s.usd))
                .collect();
            pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            pts.dedup_by_key(|p| p.0);
            most = most.max(pts.len());
            (pts.len() >= 2).then_some((p, pts))
        })
        .collect();
    (out, most)
}

/// (nodes, speed-up, efficiency) of a phase's points, relative to its fewest nodes.
fn relative(pts: &[(u32, f64, Option<f64>)]) -> Vec<(f64, f64, f64)> {
    let (n0, t0, _) = pts[0];
    pts.iter()
        .map(|&(n, t, _)| {
            let speedup = t0 / t.max(1e-9);
            (
                f64::from(n),
                speedup,
                speedup / (f64::from(n) / f64::from(n0)),
            )
        })
        .collect()
}

pub(super) fn scaling(r: &Report) -> Chart {
    let title = "Scaling efficiency: speed-up and efficiency against nodes";
    let (usable, most) = series(&r.scaling);
    if usable.is_empty() {
        let why = if most == 1 {
            "The recorded runs have one node count per phase: `pipectl sweep SPEC --phase NAME --nodes 1,2` runs a multi-node phase at several counts and records each."
        } else {
            "No phase has runs at two node counts yet: `pipectl sweep SPEC --phase NAME --nodes 1,2` makes them."
        };
        return empty("scaling", title, why.into());
    }
    let max_nodes = f64::from(
        usable
            .iter()
            .flat_map(|(_, p)| p.iter().map(|x| x.0))
            .max()
            .unwrap_or(1),
    );
    let svg = draw(&usable, title, max_nodes);
    let caption: Vec<String> = usable
        .iter()
        .flat_map(|(p, pts)| {
            relative(pts)
                .into_iter()
                .zip(pts.iter())
                .map(move |((n, sp, eff), (_, t, usd))| {
                    format!(
                        "{p} on {n} node(s): {t:.1} s, {sp:.2}× speed-up, {:.0}% efficient, {} per run",
                        eff * 100.0,
                        usd.map_or("unpriced".into(), |u| format!("${u:.4}"))
                    )
                })
        })
        .collect();
    chart("scaling", title, svg, caption.join("; "))
}

/// `c` halfway to white: the efficiency series beside the speed-up's colour.
fn light(c: RGBColor) -> RGBColor {
    let half = |v: u8| ((u16::from(v) + 255) / 2) as u8;
    RGBColor(half(c.0), half(c.1), half(c.2))
}

fn draw(usable: &[Series<'_>], title: &str, max_nodes: f64) -> Res<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut keys = vec![Key::new("ideal", PLAN, Mark::Line)];
        for (i, (phase, _)) in usable.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            keys.push(Key::new(format!("{phase} speed-up"), c, Mark::Line));
            keys.push(Key::new(format!("{phase} efficiency"), light(c), Mark::Box));
        }
        let plot = frame(&root, title, &keys)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .right_y_label_area_size(50)
            .build_cartesian_2d(0.5f64..max_nodes + 0.5, 0f64..max_nodes + 0.5)
            .map_err(err)?
            .set_secondary_coord(0.5f64..max_nodes + 0.5, 0f64..1.2);
        chart
            .configure_mesh()
            .x_desc("nodes")
            .y_desc("speed-up over the fewest nodes")
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_desc("efficiency")
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(1.0, 1.0), (max_nodes, max_nodes)],
                PLAN.stroke_width(1),
            ))
            .map_err(err)?;
        for (i, (_, pts)) in usable.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let rel = relative(pts);
            let sp: Vec<(f64, f64)> = rel.iter().map(|&(n, s, _)| (n, s)).collect();
            chart
                .draw_series(LineSeries::new(sp.clone(), color.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(sp.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(err)?;
            // the cost per run beside each point
            chart
                .draw_series(
                    rel.iter()
                        .zip(pts.iter())
                        .map(|(&(n, s, _), &(_, _, usd))| {
                            Text::new(
                                usd.map_or(String::new(), |u| format!("${u:.4}")),
                                (n + 0.05, s + 0.05),
                                ("sans-serif", 12).into_font().color(&color),
                            )
                        }),
                )
                .map_err(err)?;
            let eff: Vec<(f64, f64)> = rel.iter().map(|&(n, _, e)| (n, e)).collect();
            chart
                .draw_secondary_series(LineSeries::new(eff.clone(), light(color).stroke_width(1)))
                .map_err(err)?;
            chart
                .draw_secondary_series(eff.iter().map(|&p| {
                    Rectangle::new(
                        [(p.0 - 0.03, p.1 - 0.02), (p.0 + 0.03, p.1 + 0.02)],
                        light(color).filled(),
                    )
                }))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(phase: &str, nodes: u32, seconds: f64) -> ScalingPoint {
        ScalingPoint {
            phase: phase.into(),
            nodes,
            seconds,
            usd: Some(0.1 * f64::from(nodes)),
            run_id: format!("r{nodes}"),
        }
    }

    #[test]
    fn speed_up_and_efficiency_are_relative_to_the_fewest_nodes() {
        let points = [
            point("training", 2, 60.0),
            point("training", 1, 100.0),
            point("inference", 1, 5.0),
        ];
        let (s, most) = series(&points);
        assert_eq!(most, 2);
        assert_eq!(s.len(), 1, "inference has one count: not drawn");
        let rel = relative(&s[0].1);
        assert_eq!(rel[0], (1.0, 1.0, 1.0));
        assert!((rel[1].1 - 100.0 / 60.0).abs() < 1e-12);
        assert!((rel[1].2 - 100.0 / 60.0 / 2.0).abs() < 1e-12);
    }
}
