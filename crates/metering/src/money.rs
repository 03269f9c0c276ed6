//! Money in output: USD as f64 internally, written to JSON rounded to a micro-dollar so that
//! machine output carries no floating-point noise (0.2927833333 → 0.292783).

use serde::Serializer;

/// Rounds USD to a micro-dollar (6 decimals).
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// Serde `serialize_with` for a USD amount: rounded by [`round6`].
pub fn ser<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round6(*v))
}

/// Serde `serialize_with` for an optional USD amount (`None` stays `null`).
pub fn ser_opt<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_f64(round6(*v)),
        None => s.serialize_none(),
    }
}

/// `$0.2928` style for tables: four decimals below $10, two above.
pub fn fmt_usd(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("${:.4}", tidy(v, 4))
    } else {
        format!("${:.2}", tidy(v, 2))
    }
}

/// A difference in dollars with its sign before the dollar sign (`+$0.0813`, `-$0.0813`),
/// `decimals` places; one that rounds to zero is `$0.0000`, never `-$0.0000`.
pub fn signed_usd(v: f64, decimals: usize) -> String {
    let r = tidy(v, decimals as i32);
    let sign = if r > 0.0 {
        "+"
    } else if r < 0.0 {
        "-"
    } else {
        ""
    };
    format!("{sign}${:.decimals$}", r.abs())
}

/// `v` rounded to `decimals` places, a rounded zero made positive: what every printed money
/// figure goes through, so that none reads `$-0.0000` (a tiny negative variance).
pub fn tidy(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let r = (v * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_money_figure_prints_as_negative_zero() {
        assert_eq!(format!("{:+.4}", tidy(-0.00001, 4)), "+0.0000");
        assert_eq!(format!("{:.4}", tidy(-0.0, 4)), "0.0000");
        assert_eq!(fmt_usd(-0.00004), "$0.0000");
        assert_eq!(fmt_usd(-0.00006), "$-0.0001");
        assert_eq!(tidy(1.23456, 2), 1.23);
        assert_eq!(signed_usd(-0.0813, 4), "-$0.0813");
        assert_eq!(signed_usd(0.0813, 4), "+$0.0813");
        assert_eq!(signed_usd(-0.00001, 4), "$0.0000");
    }
}
