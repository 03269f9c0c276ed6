//! Time as the record writes it: milliseconds since the Unix epoch (AWS's unit), shown in UTC,
//! and run ids that sort by time.

use chrono::DateTime;

/// A run id: UTC time to the second and four hex digits, e.g. `20261122-101500-3f2a`; sorts by
/// time and fits a Batch job name.
pub fn new_run_id(now_ms: i64) -> String {
    let salt = (i64::from(std::process::id()) ^ (now_ms.rem_euclid(1000) * 7919)) & 0xffff;
    format!("{}-{salt:04x}", format_ms(now_ms, "%Y%m%d-%H%M%S"))
}

/// Whether `s` can be a run id: 1 to 64 ASCII letters, digits, `-` and `_`, so that it names a
/// file in the runs directory and nothing outside it.
pub fn is_run_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `2026-11-22 10:15:00Z` for a millisecond timestamp.
pub fn utc(ms: i64) -> String {
    format_ms(ms, "%Y-%m-%d %H:%M:%SZ")
}

fn format_ms(ms: i64, fmt: &str) -> String {
    // Whole seconds, rounded down, as the record always showed them.
    match DateTime::from_timestamp(ms.div_euclid(1000), 0) {
        Some(t) => t.format(fmt).to_string(),
        // Beyond chrono's ±262,000 years: no calendar date to show.
        None => format!("{ms} ms"),
    }
}

/// This machine's clock, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn run_ids_name_a_file_in_the_runs_directory_only() {
        assert!(is_run_id(&new_run_id(1_763_806_500_000)));
        assert!(is_run_id("20261122-101500-3f2a") && is_run_id("sweep_2"));
        for bad in [
            "../../x",
            "a/b",
            "..",
            ".",
            "",
            "a.json",
            "x\0",
            &"a".repeat(65),
        ] {
            assert!(!is_run_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn dates_are_converted_like_the_calendar() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(-DAY_MS), "1969-12-31 00:00:00Z");
        assert_eq!(
            utc(-1),
            "1969-12-31 23:59:59Z",
            "rounded down, not toward zero"
        );
        assert_eq!(utc(11_016 * DAY_MS), "2000-02-29 00:00:00Z");
        // 2026-11-22 is day 20779.
        assert_eq!(utc(20_779 * DAY_MS), "2026-11-22 00:00:00Z");
        assert_eq!(utc(1_795_342_500_000), "2026-11-22 10:15:00Z");
        assert_eq!(utc(1_795_342_500_999), "2026-11-22 10:15:00Z");
    }

    #[test]
    fn run_ids_sort_by_time_and_are_valid_job_name_parts() {
        let a = new_run_id(1_795_342_500_000);
        let b = new_run_id(1_795_342_501_000);
        assert!(a.starts_with("20261122-101500-"), "{a}");
        assert_eq!(a.len(), "20261122-101500-0000".len());
        assert!(a < b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
