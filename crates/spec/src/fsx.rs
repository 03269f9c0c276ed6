//! FSx for Lustre rules and performance: allowed capacities and throughput tiers per
//! deployment type, and the throughput a file system delivers.
//!
//! Source: FSx for Lustre user guide, "Performance" and "Storage capacity" (2026-11). FSx
//! counts capacity in units of 1.2 TiB = 1200 GiB and quotes throughput per TiB of that
//! decimal-ish TiB (a 1200 GiB SCRATCH_2 file system delivers 240 MB/s), so throughput here
//! uses capacity_gib / 1000.

use crate::model::{Fsx, FsxDeployment};

/// What FSx for Lustre accepts for one deployment type: capacities and throughput tiers.
pub struct Rules {
    /// The capacity rule in words, quoted in `fsx-capacity` findings.
    pub capacity_rule: &'static str,
    singles: &'static [u64],
    step: u64,
    /// Per-TiB throughput tiers to choose from; empty when fixed.
    pub throughput_options: &'static [u32],
    /// Baseline MB/s per TiB when fixed.
    pub baseline_per_tib: u32,
    /// Burst MB/s per TiB (scratch types burst on credits).
    pub burst_per_tib: Option<u32>,
}

impl Rules {
    /// Whether a capacity of `gib` GiB is allowed.
    pub fn capacity_ok(&self, gib: u64) -> bool {
        self.singles.contains(&gib) || (gib >= self.step && gib.is_multiple_of(self.step))
    }
    /// The valid capacities just below and above `gib`, for hints.
    pub fn nearest_capacities(&self, gib: f64) -> String {
        let mut valid: Vec<u64> = self.singles.to_vec();
        valid.extend((1..=64).map(|k| k * self.step));
        valid.sort();
        valid.dedup();
        let below = valid.iter().rev().find(|&&v| (v as f64) <= gib);
        let above = valid.iter().find(|&&v| (v as f64) >= gib);
        match (below, above) {
            (Some(b), Some(a)) if a != b => format!("{b}GiB or {a}GiB"),
            (_, Some(a)) => format!("{a}GiB"),
            (Some(b), None) => format!("{b}GiB"),
            (None, None) => format!("{}GiB", self.step),
        }
    }
}

/// The capacity and throughput rules of deployment type `kind`.
pub fn rules(kind: FsxDeployment) -> Rules {
    const SSD: &str = "SSD file systems take 1200 GiB or a multiple of 2400 GiB";
    match kind {
        FsxDeployment::SCRATCH_1 => Rules {
            capacity_rule: "SCRATCH_1 takes 1200 GiB, 2400 GiB or a multiple of 3600 GiB",
            singles: &[1200, 2400],
            step: 3600,
            throughput_options: &[],
            baseline_per_tib: 200,
            burst_per_tib: None,
        },
        FsxDeployment::SCRATCH_2 => Rules {
            capacity_rule: SSD,
            singles: &[1200],
            step: 2400,
            throughput_options: &[],
            baseline_per_tib: 200,
            burst_per_tib: Some(1300),
        },
        FsxDeployment::PERSISTENT_1 => Rules {
            capacity_rule: SSD,
            singles: &[1200],
            step: 2400,
            throughput_options: &[50, 100, 200],
            baseline_per_tib: 0,
            burst_per_tib: None,
        },
        FsxDeployment::PERSISTENT_2 => Rules {
            capacity_rule: SSD,
            singles: &[1200],
            step: 2400,
            throughput_options: &[125, 250, 500, 1000],
            baseline_per_tib: 0,
            burst_per_tib: None,
        },
    }
}

/// Whether `gib` is a capacity the deployment type accepts.
pub fn capacity_valid(kind: FsxDeployment, gib: u64) -> bool {
    rules(kind).capacity_ok(gib)
}

/// The throughput a file system delivers, in decimal MB/s.
pub struct Performance {
    /// MB/s per TiB in effect: the spec's `throughput_per_tib`, else the type's fixed baseline.
    pub per_tib: u32,
    /// Throughput the whole file system sustains, MB/s.
    pub baseline_mb_s: f64,
    /// Throughput it reaches while burst credits last, MB/s; None for types that do not burst.
    pub burst_mb_s: Option<f64>,
}

/// FSx capacity in the TiB its throughput is quoted per.
pub fn throughput_tib(f: &Fsx) -> f64 {
    f.capacity.gib() / 1000.0
}

/// What file system `f` delivers, from its capacity and per-TiB throughput.
pub fn performance(f: &Fsx) -> Performance {
    let r = rules(f.deployment_type);
    let per_tib = f.throughput_per_tib.unwrap_or(r.baseline_per_tib);
    let tib = throughput_tib(f);
    Performance {
        per_tib,
        baseline_mb_s: tib * f64::from(per_tib),
        burst_mb_s: r.burst_per_tib.map(|b| tib * f64::from(b)),
    }
}

/// The cheapest change that sustains `needed` MB/s: a higher PERSISTENT_2 tier at the same
/// capacity, else more capacity at the top tier.
pub fn cheapest_sustaining(f: &Fsx, needed: f64) -> Option<String> {
    let tib = throughput_tib(f);
    if let Some(tier) = [125u32, 250, 500, 1000]
        .into_iter()
        .find(|t| tib * f64::from(*t) >= needed)
    {
        return Some(format!(
            "PERSISTENT_2 with throughput_per_tib = {tier} ({:.0} MB/s)",
            tib * f64::from(tier)
        ));
    }
    let gib = (needed / 1000.0 * 1000.0 / 2400.0).ceil() as u64 * 2400;
    Some(format!("PERSISTENT_2 at 1000 MB/s/TiB with {gib}GiB"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Size;

    fn fs(kind: FsxDeployment, gib: u64, per_tib: Option<u32>) -> Fsx {
        Fsx {
            capacity: Size::from_gib(gib),
            deployment_type: kind,
            throughput_per_tib: per_tib,
            mount_path: "/fsx".into(),
            required_throughput: None,
            data_repositories: vec![],
            lustre_version: None,
        }
    }

    #[test]
    fn ssd_capacities_are_1200_or_multiples_of_2400() {
        for ok in [1200, 2400, 4800, 7200, 2400 * 40] {
            assert!(capacity_valid(FsxDeployment::SCRATCH_2, ok), "{ok}");
            assert!(capacity_valid(FsxDeployment::PERSISTENT_2, ok), "{ok}");
        }
        for bad in [0, 1000, 1228, 3600, 6000] {
            assert!(!capacity_valid(FsxDeployment::SCRATCH_2, bad), "{bad}");
        }
        assert!(capacity_valid(FsxDeployment::SCRATCH_1, 3600));
        assert!(!capacity_valid(FsxDeployment::SCRATCH_1, 4800));
    }

    #[test]
    fn seed_file_system_delivers_240_not_1200_mb_s() {
        let p = performance(&fs(FsxDeployment::SCRATCH_2, 1200, None));
        assert_eq!(p.baseline_mb_s, 240.0);
        assert_eq!(p.burst_mb_s, Some(1560.0));
        let p2 = performance(&fs(FsxDeployment::PERSISTENT_2, 1200, Some(1000)));
        assert_eq!(p2.baseline_mb_s, 1200.0);
        let fix = cheapest_sustaining(&fs(FsxDeployment::SCRATCH_2, 1200, None), 1200.0).unwrap();
        assert!(fix.contains("1000"), "{fix}");
    }

    #[test]
    fn nearest_capacity_hint_brackets_the_value() {
        assert_eq!(
            rules(FsxDeployment::SCRATCH_2).nearest_capacities(1000.0),
            "1200GiB"
        );
        assert_eq!(
            rules(FsxDeployment::SCRATCH_2).nearest_capacities(3000.0),
            "2400GiB or 4800GiB"
        );
    }
}
