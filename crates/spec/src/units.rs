//! Strict, explicit units for spec values: durations (`"35m"`), sizes (`"1200GiB"`, `"2GB"`)
//! and data rates (`"1.2GB/s"`).
//!
//! A bare number is never accepted where a unit is expected: "1200" could be GiB, GB or MiB,
//! and guessing wrong by a factor of 1024 is how budgets and FSx requests go wrong.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a unit string was rejected; the message is shown next to the value's location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(String);

/// A length of time, held in whole seconds (Batch and EC2 bill and time by the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

impl Duration {
    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }
    /// `minutes` whole minutes.
    pub const fn from_minutes(minutes: u64) -> Self {
        Self(minutes * 60)
    }
    /// Whole seconds.
    pub const fn secs(self) -> u64 {
        self.0
    }
    /// In minutes, with a fraction.
    pub fn minutes(self) -> f64 {
        self.0 as f64 / 60.0
    }
    /// In hours, with a fraction (EC2 prices are per hour).
    pub fn hours(self) -> f64 {
        self.0 as f64 / 3600.0
    }
}

impl FromStr for Duration {
    type Err = UnitError;

    /// Accepts one or more `<integer><unit>` groups, largest unit first: `"35m"`, `"1h30m"`,
    /// `"90s"`, `"2h"`, `"1d"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            UnitError(format!(
                "invalid duration {s:?}: {why} (write e.g. \"35m\", \"1h30m\", \"90s\")"
            ))
        };
        let text = s.trim();
        if text.is_empty() {
            return Err(bad("empty"));
        }
        let mut total: u64 = 0;
        let mut rest = text;
        let mut last_rank: Option<usize> = None;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad("expected a whole number before each unit"));
            }
            let value: u64 = rest[..digits]
                .parse()
                .map_err(|_| bad("number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let (rank, factor) = match unit {
                "d" => (0, 86_400),
                "h" => (1, 3_600),
                "m" | "min" => (2, 60),
                "s" => (3, 1),
                "" => return Err(bad("missing unit")),
                _ => return Err(bad(&format!("unknown unit {unit:?}; use d, h, m or s"))),
            };
            if last_rank.is_some_and(|last| rank <= last) {
                return Err(bad("units must go from largest to smallest, each once"));
            }
            last_rank = Some(rank);
            total = value
                .checked_mul(factor)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| bad("too large"))?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 % 3600 / 60, self.0 % 60);
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if s > 0 || out.is_empty() {
            out.push_str(&format!("{s}s"));
        }
        f.write_str(&out)
    }
}

/// An amount of data, held in bytes. Decimal (`GB`) and binary (`GiB`) units are both accepted
/// and never confused: AWS sizes FSx in GiB and prices transfer per GB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Size(u64);

const KIB: u64 = 1024;
const MIB: u64 = KIB * 1024;
const GIB: u64 = MIB * 1024;
const TIB: u64 = GIB * 1024;

impl Size {
    /// `bytes` bytes.
    pub const fn from_bytes(bytes: u64) -> Self {
        Self(bytes)
    }
    /// `gib` GiB (2^30 bytes).
    pub const fn from_gib(gib: u64) -> Self {
        Self(gib * GIB)
    }
    /// `mib` MiB (2^20 bytes).
    pub const fn from_mib(mib: u64) -> Self {
        Self(mib * MIB)
    }
    /// Exact size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
    /// In GiB (2^30 bytes), the unit FSx capacity is sized in.
    pub fn gib(self) -> f64 {
        self.0 as f64 / GIB as f64
    }
    /// In MiB (2^20 bytes), the unit Batch takes job memory in.
    pub fn mib(self) -> f64 {
        self.0 as f64 / MIB as f64
    }
    /// Decimal gigabytes (10^9 bytes), the unit AWS prices data transfer and S3 storage in.
    pub fn gb(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Whole GiB when the size is an exact multiple of 1 GiB.
    pub fn whole_gib(self) -> Option<u64> {
        self.0.is_multiple_of(GIB).then_some(self.0 / GIB)
    }
}

fn parse_scaled(
    s: &str,
    units: &[(&str, f64)],
    what: &str,
    example: &str,
) -> Result<f64, UnitError> {
    let bad = |why: &str| {
        UnitError(format!(
            "invalid {what} {s:?}: {why} (write e.g. {example})"
        ))
    };
    let text = s.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| bad("missing unit"))?;
    let (number, unit) = (text[..split].trim(), text[split..].trim());
    if number.is_empty() {
        return Err(bad("expected a number before the unit"));
    }
    let value: f64 = number.parse().map_err(|_| bad("not a number"))?;
    let factor = units
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let names: Vec<&str> = units.iter().map(|(n, _)| *n).collect();
            bad(&format!(
                "unknown unit {unit:?}; use one of {}",
                names.join(", ")
            ))
        })?;
    let scaled = value * factor;
    if !scaled.is_finite() || scaled > u64::MAX as f64 / 2.0 {
        return Err(bad("too large"));
    }
    Ok(scaled)
}

const SIZE_UNITS: &[(&str, f64)] = &[
    ("B", 1.0),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("KiB", KIB as f64),
    ("MiB", MIB as f64),
    ("GiB", GIB as f64),
    ("TiB", TIB as f64),
];

impl FromStr for Size {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = parse_scaled(s, SIZE_UNITS, "size", "\"1200GiB\", \"2GB\", \"512MiB\"")?;
        Ok(Size(bytes.round() as u64))
    }
}

impl fmt::Display for Size {
    /// The largest unit that divides the size exactly, binary first at each scale, so that
    /// "2GB" and "1200GiB" print as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let units: [(&str, u64); 8] = [
            ("TiB", TIB),
            ("TB", 1_000_000_000_000),
            ("GiB", GIB),
            ("GB", 1_000_000_000),
            ("MiB", MIB),
            ("MB", 1_000_000),
            ("KiB", KIB),
            ("KB", 1_000),
        ];
        for (unit, factor) in units {
            if b >= factor && b.is_multiple_of(factor) {
                return write!(f, "{}{unit}", b / factor);
            }
        }
        for (unit, factor) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)] {
            if b as f64 >= factor {
                return write!(f, "{}{unit}", trim_float(b as f64 / factor));
            }
        }
        write!(f, "{b}B")
    }
}

/// A data rate, held in decimal megabytes per second (the unit FSx quotes throughput in).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rate(f64);

impl Rate {
    /// `mb` decimal megabytes (10^6 bytes) per second.
    pub const fn from_mb_per_s(mb: f64) -> Self {
        Self(mb)
    }
    /// In decimal MB/s, the unit FSx quotes throughput in.
    pub fn mb_per_s(self) -> f64 {
        self.0
    }
}

const RATE_UNITS: &[(&str, f64)] = &[
    ("MB/s", 1.0),
    ("GB/s", 1e3),
    ("MiB/s", MIB as f64 / 1e6),
    ("GiB/s", GIB as f64 / 1e6),
    ("Gbps", 125.0),
    ("Mbps", 0.125),
];

impl FromStr for Rate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_scaled(s, RATE_UNITS, "data rate", "\"1.2GB/s\", \"240MB/s\"").map(Rate)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1000.0 {
            write!(f, "{}GB/s", trim_float(self.0 / 1000.0))
        } else {
            write!(f, "{}MB/s", trim_float(self.0))
        }
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Serde glue: each unit type reads from a TOML string and writes back its canonical text.
macro_rules! string_serde {
    ($ty:ty, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$ty, E> {
                        Err(E::custom(format!(
                            "{v} has no unit; {} must be a string with a unit",
                            $expecting
                        )))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$ty, E> {
                        Err(E::custom(format!(
                            "{v} has no unit; {} must be a string with a unit",
                            $expecting
                        )))
                    }
                }
                d.deserialize_any(V)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

string_serde!(Duration, "a duration such as \"35m\"");
string_serde!(Size, "a size such as \"1200GiB\" or \"2GB\"");
string_serde!(Rate, "a data rate such as \"1.2GB/s\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_combination() {
        assert_eq!("35m".parse::<Duration>().unwrap().secs(), 35 * 60);
        assert_eq!("1h30m".parse::<Duration>().unwrap().secs(), 5400);
        assert_eq!("90s".parse::<Duration>().unwrap().secs(), 90);
        assert_eq!("1d".parse::<Duration>().unwrap().secs(), 86_400);
        assert_eq!("2h0m5s".parse::<Duration>().unwrap().secs(), 7205);
        assert_eq!("12min".parse::<Duration>().unwrap().minutes(), 12.0);
    }

    #[test]
    fn durations_reject_ambiguity_and_nonsense() {
        for bad in [
            "",
            "35",
            "m",
            "1.5h",
            "30m1h",
            "5m5m",
            "-3m",
            "3 weeks",
            "99999999999999999999h",
        ] {
            let err = bad.parse::<Duration>().unwrap_err().to_string();
            assert!(err.contains("invalid duration"), "{bad:?} gave {err}");
        }
        assert!(
            "3w".parse::<Duration>()
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
    }

    #[test]
    fn durations_display_round_trips() {
        for text in ["35m", "1h13m", "90s", "2h", "1h0m1s"] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }
        assert_eq!(Duration::from_secs(4380).to_string(), "1h13m");
    }

    #[test]
    fn sizes_keep_decimal_and_binary_apart() {
        assert_eq!("1200GiB".parse::<Size>().unwrap().bytes(), 1200 * GIB);
        assert_eq!("2GB".parse::<Size>().unwrap().bytes(), 2_000_000_000);
        assert_eq!("1.2TB".parse::<Size>().unwrap().gb(), 1200.0);
        assert_eq!("512MiB".parse::<Size>().unwrap().mib(), 512.0);
        assert_eq!("1200GiB".parse::<Size>().unwrap().whole_gib(), Some(1200));
        assert_eq!("1.2TB".parse::<Size>().unwrap().whole_gib(), None);
        assert_eq!(Size::from_gib(1200).to_string(), "1200GiB");
        assert_eq!("5GB".parse::<Size>().unwrap().to_string(), "5GB");
        assert_eq!("2GB".parse::<Size>().unwrap().to_string(), "2GB");
        assert_eq!("1.5GB".parse::<Size>().unwrap().to_string(), "1500MB");
        assert_eq!("14GiB".parse::<Size>().unwrap().to_string(), "14GiB");
    }

    #[test]
    fn sizes_reject_missing_or_unknown_units() {
        for bad in ["1200", "GiB", "12 gigs", "1.2.3GB", "", "5gb"] {
            assert!(bad.parse::<Size>().is_err(), "{bad:?} parsed");
        }
        let err = "5gb".parse::<Size>().unwrap_err().to_string();
        assert!(err.contains("unknown unit \"gb\""), "{err}");
    }

    #[test]
    fn rates_parse_and_display() {
        assert_eq!("1.2GB/s".parse::<Rate>().unwrap().mb_per_s(), 1200.0);
        assert_eq!("240MB/s".parse::<Rate>().unwrap().mb_per_s(), 240.0);
        assert_eq!("10Gbps".parse::<Rate>().unwrap().mb_per_s(), 1250.0);
        assert_eq!(Rate::from_mb_per_s(1200.0).to_string(), "1.2GB/s");
        assert!("1.2GB".parse::<Rate>().is_err());
    }
}
