//! Spot prices over time: EC2 publishes a price per instance type and availability zone that
//! changes at points in time (`DescribeSpotPriceHistory`); an instance pays the price in effect
//! each second. This integrates such a step function over the windows a job ran.

use serde::Serialize;

/// One change of the Spot price: from `at_ms` (Unix milliseconds) on, `usd` per hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PricePoint {
    /// When this price starts to hold (ms since the Unix epoch).
    pub at_ms: i64,
    /// USD per instance-hour from then on.
    pub usd: f64,
}

/// USD-hours paid over `[start_ms, end_ms)` for one instance: each price holds from its point
/// to the next. `None` when no price is known at `start_ms` (no point at or before it).
pub fn integrate(points: &[PricePoint], start_ms: i64, end_ms: i64) -> Option<f64> {
    if end_ms <= start_ms {
        return Some(0.0);
    }
    let mut pts: Vec<PricePoint> = points.to_vec();
    pts.sort_by_key(|p| p.at_ms);
    let first = pts.iter().rposition(|p| p.at_ms <= start_ms)?;
    let mut usd_h = 0.0;
    for (i, p) in pts.iter().enumerate().skip(first) {
        if p.at_ms >= end_ms {
            break;
        }
        let from = p.at_ms.max(start_ms);
        let to = pts.get(i + 1).map_or(end_ms, |n| n.at_ms.min(end_ms));
        usd_h += p.usd * (to - from) as f64 / 3_600_000.0;
    }
    Some(usd_h)
}

/// The time-weighted average price over several windows (a job's attempts).
pub fn average_rate(points: &[PricePoint], windows: &[(i64, i64)]) -> Option<f64> {
    let mut usd_h = 0.0;
    let mut ms = 0i64;
    for &(s, e) in windows {
        usd_h += integrate(points, s, e)?;
        ms += (e - s).max(0);
    }
    (ms > 0).then(|| usd_h / (ms as f64 / 3_600_000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn a_price_change_inside_the_window_is_paid_pro_rata() {
        // 0.20 from t=0, 0.50 from t=1h; a job from 0.5h to 2h pays 0.5h × 0.20 + 1h × 0.50.
        let pts = [
            PricePoint {
                at_ms: H,
                usd: 0.50,
            },
            PricePoint {
                at_ms: 0,
                usd: 0.20,
            },
        ];
        let v = integrate(&pts, H / 2, 2 * H).unwrap();
        assert!((v - (0.5 * 0.20 + 0.50)).abs() < 1e-12, "{v}");
        // the average over that 1.5 h
        let avg = average_rate(&pts, &[(H / 2, 2 * H)]).unwrap();
        assert!((avg - 0.6 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn the_price_in_effect_at_the_start_counts_and_later_points_do_not() {
        let pts = [
            PricePoint {
                at_ms: 0,
                usd: 0.30,
            },
            PricePoint {
                at_ms: 5 * H,
                usd: 9.0,
            },
        ];
        assert!((integrate(&pts, 2 * H, 3 * H).unwrap() - 0.30).abs() < 1e-12);
        // nothing known before the start: no figure rather than a guess
        assert_eq!(integrate(&pts[1..], 2 * H, 3 * H), None);
        assert_eq!(average_rate(&pts, &[]), None);
    }

    #[test]
    fn attempts_are_weighted_by_their_length() {
        let pts = [
            PricePoint {
                at_ms: 0,
                usd: 0.10,
            },
            PricePoint {
                at_ms: 10 * H,
                usd: 0.40,
            },
        ];
        // 1 h at 0.10 and 3 h at 0.40
        let avg = average_rate(&pts, &[(H, 2 * H), (11 * H, 14 * H)]).unwrap();
        assert!((avg - (0.10 + 1.20) / 4.0).abs() < 1e-12);
    }
}
