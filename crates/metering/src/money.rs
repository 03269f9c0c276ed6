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
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}
