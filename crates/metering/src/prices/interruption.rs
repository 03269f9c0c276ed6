//! The sheet's Spot interruption assumption (`[ec2.spot_interruption]`): the share of Spot
//! instances EC2 reclaims in a month, as the Spot Instance Advisor's "frequency of
//! interruption" bands state it, turned into a chance per hour of running. Always labelled an
//! assumption: AWS publishes bands per type and region, not a rate pipectl can read.

use serde::{Deserialize, Serialize};

use pipectl_spec::{Finding, path};

use super::HOURS_PER_MONTH;

/// `[ec2.spot_interruption]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SpotInterruption {
    /// The share of Spot instances interrupted in a month (0.10 = 10 %).
    pub monthly_rate: f64,
    /// Where that share comes from.
    pub source: String,
}

impl SpotInterruption {
    /// The chance per hour that a running instance is interrupted, when interruptions come at
    /// a constant rate that takes `monthly_rate` of the instances in a 730-hour month.
    pub fn per_hour(&self) -> f64 {
        -(1.0 - self.monthly_rate).ln() / HOURS_PER_MONTH
    }

    /// A finding when the rate is not a share in (0, 1).
    pub(super) fn check(&self, out: &mut Vec<Finding>) {
        let m = self.monthly_rate;
        if !(m > 0.0 && m < 1.0) {
            out.push(Finding::error(
                "bad-price",
                path!["ec2", "spot_interruption", "monthly_rate"],
                format!("{m} is not a share in (0, 1)"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monthly_share_becomes_a_rate_that_gives_it_back_over_a_month() {
        let s = SpotInterruption {
            monthly_rate: 0.10,
            source: String::new(),
        };
        let survive_month = (-s.per_hour() * HOURS_PER_MONTH).exp();
        assert!((1.0 - survive_month - 0.10).abs() < 1e-12);
        let mut out = Vec::new();
        s.check(&mut out);
        assert!(out.is_empty());
        SpotInterruption {
            monthly_rate: 1.0,
            source: String::new(),
        }
        .check(&mut out);
        assert_eq!(out.len(), 1);
    }
}
