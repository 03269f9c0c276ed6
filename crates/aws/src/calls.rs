//! Counts the AWS operations a command makes (and their attempts, retries included), so that
//! `up` can prove it made no create call and benchmarks can report calls per run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Counts of the AWS operations made through one [`crate::Aws`]; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    inner: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    operations: BTreeMap<String, u64>,
    attempts: u64,
}

impl CallLog {
    fn record_operation(&self, service: &str, operation: &str) {
        let mut c = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *c.operations
            .entry(format!("{service}:{operation}"))
            .or_default() += 1;
    }
    fn record_attempt(&self) {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .attempts += 1;
    }
    /// Operations made, as `service:Operation` → count.
    pub fn operations(&self) -> BTreeMap<String, u64> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .operations
            .clone()
    }
    /// Operations made, all services together (an operation counts once, however many attempts).
    pub fn total(&self) -> u64 {
        self.operations().values().sum()
    }
    /// HTTP attempts, retries included.
    pub fn attempts(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .attempts
    }
    /// Operations whose name marks a change (Create, Put, Register, Update, Modify, ...).
    pub fn mutating(&self) -> BTreeMap<String, u64> {
        const VERBS: &[&str] = &[
            "Create",
            "Put",
            "Register",
            "Update",
            "Modify",
            "Attach",
            "Associate",
            "Allocate",
            "Authorize",
            "Add",
            "Tag",
            "Submit",
            "Run",
            "Delete",
            "Deregister",
            "Detach",
            "Disassociate",
            "Release",
            "Revoke",
            "Remove",
            "Terminate",
            "Cancel",
            "Untag",
        ];
        self.operations()
            .into_iter()
            .filter(|(k, _)| {
                k.split_once(':')
                    .is_some_and(|(_, op)| VERBS.iter().any(|v| op.starts_with(v)))
            })
            .collect()
    }
}

/// The interceptor registered on every client.
#[derive(Debug, Clone)]
pub(crate) struct CountCalls(pub CallLog);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "pipectl-call-log"
    }

    // Operation metadata is in the bag once the operation's configuration is applied, which is
    // after `read_before_execution`.
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            self.0
                .record_operation(&m.service().to_ascii_lowercase(), m.name());
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.record_attempt();
        Ok(())
    }
}
