//! What the workload measures about itself: peak memory, latency percentiles, throughput.

use serde::{Deserialize, Serialize};

/// The process's peak resident set size in bytes (`VmHWM` of `/proc/self/status`), or `None`
/// where the kernel does not say (not Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Latency figures of a set of requests, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// How many requests were measured (at least 1).
    pub requests: usize,
    /// The mean latency.
    pub mean_ms: f64,
    /// The median latency (nearest rank).
    pub p50_ms: f64,
    /// The 95th percentile latency (nearest rank).
    pub p95_ms: f64,
    /// The 99th percentile latency (nearest rank).
    pub p99_ms: f64,
    /// The slowest request's latency.
    pub max_ms: f64,
}

impl Latency {
    /// From each request's latency in milliseconds (order does not matter); `None` for none.
    pub fn of(samples_ms: &[f64]) -> Option<Latency> {
        if samples_ms.is_empty() {
            return None;
        }
        let mut s = samples_ms.to_vec();
        s.sort_by(f64::total_cmp);
        Some(Latency {
            requests: s.len(),
            mean_ms: s.iter().sum::<f64>() / s.len() as f64,
            p50_ms: percentile(&s, 50.0),
            p95_ms: percentile(&s, 95.0),
            p99_ms: percentile(&s, 99.0),
            max_ms: s[s.len() - 1],
        })
    }
}

/// The `p`-th percentile of sorted `s` by the nearest-rank method: the smallest value with at
/// least p % of the samples at or below it.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// `points` evenly spaced samples of `curve` (first and last kept), each with its index.
pub fn downsample(curve: &[f32], points: usize) -> Vec<(usize, f32)> {
    if curve.len() <= points || points < 2 {
        return curve.iter().copied().enumerate().collect();
    }
    (0..points)
        .map(|k| {
            let i = k * (curve.len() - 1) / (points - 1);
            (i, curve[i])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=100).map(f64::from).collect();
        let l = Latency::of(&s).unwrap();
        assert_eq!(
            (l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(l.mean_ms, 50.5);
        // one slow request out of ten is the p95 and p99, not the median
        let mut t = vec![10.0; 9];
        t.push(500.0);
        let l = Latency::of(&t).unwrap();
        assert_eq!((l.p50_ms, l.p95_ms, l.p99_ms), (10.0, 500.0, 500.0));
        assert!(Latency::of(&[]).is_none());
    }

    #[test]
    fn peak_memory_is_read_from_vm_hwm() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(1234 * 1024));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        // and this process has a peak of at least a page
        assert!(peak_rss_bytes().is_some_and(|b| b >= 4096));
    }

    #[test]
    fn downsampling_keeps_both_ends() {
        let c: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let d = downsample(&c, 11);
        assert_eq!(d.len(), 11);
        assert_eq!(d[0], (0, 0.0));
        assert_eq!(d[10], (999, 999.0));
        assert_eq!(downsample(&c[..5], 11).len(), 5);
    }
}
