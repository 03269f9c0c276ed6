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
            let mut cuts: Vec<f64> = intervals.iter().flat_map(|&(s, e)| [s, e]).collect();
            cuts.sort_by(f64::total_cmp);
            cuts.dedup();
            let mut w = vec![0.0; n];
            let mut covered = 0.0;
            for seg in cuts.windows(2) {
                let (a, b) = (seg[0], seg[1]);
                let running: Vec<usize> = (0..n)
                    .filter(|&i| intervals[i].0 <= a && intervals[i].1 >= b)
                    .collect();
                if running.is_empty() {
                    continue;
                }
                let len = b - a;
                covered += len;
                for i in &running {
                    w[*i] += len / running.len() as f64;
                }
            }
            if covered > 0.0 {
                w.iter().map(|x| x / covered).collect()
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
