//! Scaling efficiency: the speed-up of a phase against its node count, from every recorded
//! run of the stack, beside the ideal line.

use plotters::prelude::*;

use super::Chart;
use super::draw::{Key, Mark, PALETTE, PLAN, Res, chart, empty, err, frame};
use crate::Report;

pub(super) fn scaling(r: &Report) -> Chart {
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
    let max_nodes = f64::from(
        usable
            .iter()
            .flat_map(|(_, p)| p.iter().map(|x| x.0))
            .max()
            .unwrap_or(1),
    );
    let svg = (|| -> Res<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (760, 340)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let mut keys = vec![Key::new("ideal", PLAN, Mark::Line)];
            for (i, (phase, _)) in usable.iter().enumerate() {
                keys.push(Key::new(
                    phase.to_string(),
                    PALETTE[i % PALETTE.len()],
                    Mark::Line,
                ));
            }
            let plot = frame(&root, title, &keys)?;
            let mut chart = ChartBuilder::on(&plot)
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
                .map_err(err)?;
            for (i, (_, pts)) in usable.iter().enumerate() {
                let color = PALETTE[i % PALETTE.len()];
                let (n0, t0) = pts[0];
                let sp: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|&(n, t)| (f64::from(n), f64::from(n0) * t0 / t.max(1e-9)))
                    .collect();
                chart
                    .draw_series(LineSeries::new(sp.clone(), color.stroke_width(2)))
                    .map_err(err)?;
                chart
                    .draw_series(sp.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(err)?;
            }
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
                    (f64::from(n0) * t0 / t) / (f64::from(n) / f64::from(n0)) * 100.0
                )
            })
        })
        .collect();
    chart("scaling", title, svg, eff.join("; "))
}
