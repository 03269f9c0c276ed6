//! Allocation of shared costs (FSx, S3, NAT) to phases, by a selectable rule. Whatever the
//! rule, the shares of one cost add up to that cost.

use serde::{Deserialize, Serialize};

/// How shared costs (FSx, S3, NAT) are split among phases; `--allocation`, kebab-case in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocation {
    /// Each moment of a shared resource's life is split among the phases running then.
    #[default]
    TimeOverlap,
    /// Every phase gets the same share.
    Even,
    /// In proportion to each phase's own (compute and transfer) cost.
    ByCost,
}

impl std::fmt::Display for Allocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Allocation::TimeOverlap => "time overlap",
            Allocation::Even => "even split",
            Allocation::ByCost => "by cost",
        })
    }
}

/// Weights per phase that sum to 1 (or are all 0 when there are no phases).
pub fn weights(rule: Allocation, intervals: &[(f64, f64)], direct_usd: &[f64]) -> Vec<f64> {
    let n = intervals.len();
    if n == 0 {
        return Vec::new();
    }
    let even = vec![1.0 / n as f64; n];
    match rule {
        Allocation::Even => even,
        Allocation::ByCost => {
            let total: f64 = direct_usd.iter().sum();
            if total > 0.0 {
                direct_usd.iter().map(|c| c / total).collect()
            } else {
                even
            }
        }
        Allocation::TimeOverlap => {
            // A sweep over the cuts: how many phases run in each segment (starts minus ends
            // so far), the running share `len / running` summed into F at each cut; a phase's
            // weight is F at its end minus F at its start. O(n log n), where asking every phase
            // of every segment was O(n²) (and `analyze` estimates once per input).
            let mut cuts: Vec<f64> = intervals.iter().flat_map(|&(s, e)| [s, e]).collect();
            cuts.sort_by(f64::total_cmp);
            cuts.dedup();
            let at = |x: f64| cuts.partition_point(|c| c.total_cmp(&x).is_lt());
            let mut starts_minus_ends = vec![0i64; cuts.len()];
            for &(s, e) in intervals {
                if s < e {
                    starts_minus_ends[at(s)] += 1;
                    starts_minus_ends[at(e)] -= 1;
                }
            }
            let (mut running, mut covered) = (0i64, 0.0);
            let mut share_to = vec![0.0; cuts.len()];
            for k in 0..cuts.len().saturating_sub(1) {
                running += starts_minus_ends[k];
                let len = cuts[k + 1] - cuts[k];
                let share = if running > 0 {
                    covered += len;
                    len / running as f64
                } else {
                    0.0
                };
                share_to[k + 1] = share_to[k] + share;
            }
            if covered > 0.0 {
                intervals
                    .iter()
                    .map(|&(s, e)| {
                        if s < e {
                            (share_to[at(e)] - share_to[at(s)]) / covered
                        } else {
                            0.0
                        }
                    })
                    .collect()
            } else {
                even
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn sequential_phases_share_by_duration() {
        let w = weights(
            Allocation::TimeOverlap,
            &[(0.0, 35.0), (35.0, 47.0), (47.0, 120.0)],
            &[0.0; 3],
        );
        assert!(
            close(&w, &[35.0 / 120.0, 12.0 / 120.0, 73.0 / 120.0]),
            "{w:?}"
        );
    }

    #[test]
    fn concurrent_phases_split_the_overlap() {
        // a runs 0-10 alone... b joins 5-10: a gets 5 + 2.5, b 2.5
        let w = weights(
            Allocation::TimeOverlap,
            &[(0.0, 10.0), (5.0, 10.0)],
            &[0.0; 2],
        );
        assert!(close(&w, &[0.75, 0.25]), "{w:?}");
    }

    /// The sweep gives what asking every phase of every segment gave.
    #[test]
    fn time_overlap_matches_the_segment_by_segment_rule() {
        fn naive(intervals: &[(f64, f64)]) -> Vec<f64> {
            let mut cuts: Vec<f64> = intervals.iter().flat_map(|&(s, e)| [s, e]).collect();
            cuts.sort_by(f64::total_cmp);
            cuts.dedup();
            let mut w = vec![0.0; intervals.len()];
            let mut covered = 0.0;
            for seg in cuts.windows(2) {
                let (a, b) = (seg[0], seg[1]);
                let running: Vec<usize> = (0..intervals.len())
                    .filter(|&i| intervals[i].0 <= a && intervals[i].1 >= b)
                    .collect();
                if !running.is_empty() {
                    covered += b - a;
                    for &i in &running {
                        w[i] += (b - a) / running.len() as f64;
                    }
                }
            }
            w.iter().map(|x| x / covered).collect()
        }
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as f64 % 100.0
        };
        for n in [1, 2, 5, 40] {
            let intervals: Vec<(f64, f64)> = (0..n)
                .map(|_| {
                    let (a, b) = (next(), next());
                    (a.min(b), a.max(b) + 1.0)
                })
                .collect();
            let got = weights(Allocation::TimeOverlap, &intervals, &vec![1.0; n]);
            assert!(close(&got, &naive(&intervals)), "{intervals:?}");
        }
    }

    #[test]
    fn every_rule_sums_to_one() {
        let iv = [(0.0, 3.0), (1.0, 7.0), (7.0, 9.0), (2.0, 2.5)];
        for rule in [
            Allocation::TimeOverlap,
            Allocation::Even,
            Allocation::ByCost,
        ] {
            let w = weights(rule, &iv, &[1.0, 0.0, 3.0, 0.5]);
            assert!(
                (w.iter().sum::<f64>() - 1.0).abs() < 1e-12,
                "{rule:?}: {w:?}"
            );
        }
        let w = weights(Allocation::ByCost, &iv, &[0.0; 4]);
        assert!(
            close(&w, &[0.25; 4]),
            "falls back to even when nothing has a cost"
        );
    }
}
