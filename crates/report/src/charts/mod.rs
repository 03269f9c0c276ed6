//! The report's charts, drawn with plotters into SVG strings: the phase timeline (a Gantt of
//! queue wait and run per attempt), scaling efficiency, Spot against On-Demand, the component
//! breakdown, the plan-to-actual waterfall, cost per job and per item, and CloudWatch values.
//! A chart without data is kept with a caption that says why, never drawn empty.

mod costs;
mod draw;
mod scaling;
mod timeline;

pub use draw::Chart;

use crate::Report;

/// Every chart of the report, in order.
pub fn all(r: &Report) -> Vec<Chart> {
    vec![
        timeline::timeline(r),
        scaling::scaling(r),
        costs::spot_vs_on_demand(r),
        costs::components(r),
        costs::waterfall(r),
        costs::per_job(r),
        costs::metrics(r),
    ]
}
