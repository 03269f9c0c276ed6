//! How long to wait before the next `DescribeJobs`: short right after something changed or
//! while a change is due (a job about to start, a phase near its planned end), growing by half
//! each quiet poll up to a ceiling during long runs, and doubling on throttling or when AWS
//! cannot be reached. Pure logic; the watcher feeds it what each poll saw.

use std::time::Duration;

use pipectl_record::{JobStatus, PhaseRecord, RunRecord};

/// The bounds of the adaptive `DescribeJobs` interval.
#[derive(Debug, Clone, Copy)]
pub struct PollSettings {
    /// The shortest interval: used right after a change.
    pub min: Duration,
    /// The longest interval while all is quiet (up to four times it when AWS pushes back).
    pub max: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            min: Duration::from_secs(2),
            max: Duration::from_secs(30),
        }
    }
}

impl PollSettings {
    /// `MIN..MAX` in seconds, e.g. `0.5..10`.
    pub fn parse(s: &str) -> Result<PollSettings, String> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| format!("`{s}`: expected MIN..MAX in seconds, e.g. 2..30"))?;
        let num = |x: &str| {
            x.trim()
                .trim_end_matches('s')
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("`{x}` is not a positive number of seconds"))
        };
        let (min, max) = (num(a)?, num(b)?);
        if min > max {
            return Err(format!("{min} s is more than {max} s"));
        }
        Ok(PollSettings {
            min: Duration::from_secs_f64(min),
            max: Duration::from_secs_f64(max),
        })
    }
}

/// What one poll saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    /// A job's status or attempt changed since the last answer.
    pub changed: bool,
    /// A job is SUBMITTED/PENDING/RUNNABLE/STARTING or near its planned end.
    pub change_due: bool,
    /// Throttled, or AWS could not be reached.
    pub pushed_back: bool,
}

/// The adaptive interval between `DescribeJobs` calls.
#[derive(Debug, Clone)]
pub struct Poller {
    settings: PollSettings,
    current: Duration,
}

impl Poller {
    /// Starts at the shortest interval.
    pub fn new(settings: PollSettings) -> Self {
        Poller {
            settings,
            current: settings.min,
        }
    }

    /// The interval to wait next, given what the last answer showed.
    pub fn next(&mut self, seen: Seen) -> Duration {
        let PollSettings { min, max } = self.settings;
        self.current = if seen.pushed_back {
            // Back off past the ceiling, up to four times it.
            (self.current * 2).min(max * 4)
        } else if seen.changed {
            min
        } else {
            self.current.mul_f64(1.5).clamp(min, max)
        };
        if seen.change_due && !seen.pushed_back {
            self.current = self.current.min(min * 2);
        }
        self.current
    }
}

/// A change is due when a job waits only for capacity or a container (not for a
/// dependency), or runs past 90 % of its planned duration.
pub(crate) fn change_due(rec: &RunRecord, p: &PhaseRecord, now_ms: i64) -> bool {
    match p.status {
        JobStatus::Submitted | JobStatus::Runnable | JobStatus::Starting => true,
        JobStatus::Pending => p
            .depends_on
            .iter()
            .all(|d| rec.phase(d).is_some_and(|d| d.status.is_terminal())),
        JobStatus::Running => p
            .attempt_began_ms()
            .is_some_and(|s| (now_ms - s) as f64 / 1000.0 >= 0.9 * p.planned_seconds),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(min: f64, max: f64) -> PollSettings {
        PollSettings {
            min: Duration::from_secs_f64(min),
            max: Duration::from_secs_f64(max),
        }
    }

    #[test]
    fn quiet_polls_grow_to_the_ceiling_and_a_change_resets() {
        let mut p = Poller::new(s(2.0, 30.0));
        let quiet = Seen::default();
        let seq: Vec<f64> = (0..10).map(|_| p.next(quiet).as_secs_f64()).collect();
        assert_eq!(seq[0], 3.0);
        assert!(seq.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*seq.last().unwrap(), 30.0);
        let after = p.next(Seen {
            changed: true,
            ..Seen::default()
        });
        assert_eq!(after.as_secs_f64(), 2.0);
    }

    #[test]
    fn a_due_change_keeps_polls_short_and_pushback_doubles_past_the_ceiling() {
        let mut p = Poller::new(s(1.0, 10.0));
        for _ in 0..20 {
            p.next(Seen::default());
        }
        let due = p.next(Seen {
            change_due: true,
            ..Seen::default()
        });
        assert_eq!(due.as_secs_f64(), 2.0);
        let mut last = due;
        for _ in 0..10 {
            last = p.next(Seen {
                pushed_back: true,
                ..Seen::default()
            });
        }
        assert_eq!(last.as_secs_f64(), 40.0);
    }

    #[test]
    fn settings_parse_with_units_and_reject_nonsense() {
        let p = PollSettings::parse("0.2..5s").unwrap();
        assert_eq!((p.min.as_millis(), p.max.as_millis()), (200, 5000));
        assert!(PollSettings::parse("5..1").is_err());
        assert!(PollSettings::parse("0..1").is_err());
        assert!(PollSettings::parse("3").is_err());
    }
}
