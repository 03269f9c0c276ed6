//! The one home of pipectl's CloudWatch metrics schema: namespaces, metric names, units,
//! statistics and dimensions. The runner publishes with it, the dashboard is drawn from it,
//! the report reads it back, the jobs' IAM condition names its namespaces and the example
//! workload publishes its own figures under [`WORKLOAD_NAMESPACE`] with the same dimensions.

/// The runner's figures per phase.
pub const NAMESPACE: &str = "Pipectl";
/// The jobs' own figures (dimensions [`STACK`] and [`PHASE`], as the runner's).
pub const WORKLOAD_NAMESPACE: &str = "Pipectl/Workload";
/// The IAM condition value that allows both namespaces (`cloudwatch:namespace`, StringLike).
pub const NAMESPACES_ALLOWED: [&str; 2] = [NAMESPACE, "Pipectl/*"];

/// Dimension: the stack's name.
pub const STACK: &str = "Stack";
/// Dimension: the phase's name.
pub const PHASE: &str = "Phase";

/// A phase's run time of its last attempt, seconds.
pub const PHASE_DURATION: &str = "PhaseDuration";
/// Seconds from submission to the first attempt's start.
pub const QUEUE_WAIT: &str = "QueueWait";
/// Attempts Batch made.
pub const ATTEMPTS: &str = "Attempts";
/// Attempts that ended with a Spot interruption.
pub const SPOT_INTERRUPTIONS: &str = "SpotInterruptions";
/// The phase's compute cost estimated by the runner, USD.
pub const ESTIMATED_COST: &str = "EstimatedCost";

/// (metric, CloudWatch unit, statistic read back) of every figure the runner publishes per phase.
pub const PHASE_METRICS: [(&str, &str, &str); 5] = [
    (PHASE_DURATION, "Seconds", "Maximum"),
    (QUEUE_WAIT, "Seconds", "Maximum"),
    (ATTEMPTS, "Count", "Maximum"),
    (SPOT_INTERRUPTIONS, "Count", "Maximum"),
    (ESTIMATED_COST, "None", "Maximum"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_namespace_is_allowed_by_the_iam_condition() {
        let pattern = NAMESPACES_ALLOWED[1].trim_end_matches('*');
        assert!(WORKLOAD_NAMESPACE.starts_with(pattern));
        assert_eq!(NAMESPACES_ALLOWED[0], NAMESPACE);
        assert_eq!(
            PHASE_METRICS
                .iter()
                .filter(|(_, unit, _)| *unit == "Seconds")
                .count(),
            2
        );
    }
}
