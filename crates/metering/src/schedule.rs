//! When each phase runs in the plan: phases start as soon as all their dependencies end (as
//! Batch `dependsOn` does), so the pipeline's length is its critical path.

use std::collections::HashMap;

use pipectl_spec::Spec;

/// Start and end of each phase, in seconds from the pipeline's start, in spec order.
pub fn schedule(spec: &Spec, wall_secs: &[f64]) -> Vec<(f64, f64)> {
    // Validated specs are acyclic; `visiting` keeps a bad graph from recursing forever.
    fn visit(
        i: usize,
        spec: &Spec,
        index: &HashMap<&str, usize>,
        wall: &[f64],
        times: &mut Vec<Option<(f64, f64)>>,
        visiting: &mut Vec<bool>,
    ) -> f64 {
        if let Some((_, end)) = times[i] {
            return end;
        }
        if visiting[i] {
            return 0.0;
        }
        visiting[i] = true;
        let start = spec.phases[i]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .map(|j| visit(j, spec, index, wall, times, visiting))
            .fold(0.0, f64::max);
        let end = start + wall[i];
        times[i] = Some((start, end));
        end
    }
    let n = spec.phases.len();
    // phases by name once (a search per dependency made a chain quadratic)
    let index = spec.phase_indices();
    let mut times: Vec<Option<(f64, f64)>> = vec![None; n];
    let mut visiting = vec![false; n];
    for i in 0..n {
        visit(i, spec, &index, wall_secs, &mut times, &mut visiting);
    }
    times.into_iter().map(|t| t.unwrap_or((0.0, 0.0))).collect()
}
