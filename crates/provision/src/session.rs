//! One `up`/`down` on one stack: the clients, the account, the locked state store and the
//! state read from it, checked to belong to the same account, region and endpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pipectl_aws::Aws;
use pipectl_spec::Spec;

use crate::ctx::{Ctx, Progress, Timeouts};
use crate::error::ProvisionError;
use crate::state::{State, StateStore};

/// `.pipectl/state` under the current directory.
pub fn default_state_dir() -> PathBuf {
    PathBuf::from(".pipectl").join("state")
}

/// One command's hold on a stack: its context, its locked state store and its state.
pub struct Session {
    /// The context shared with the handlers.
    pub ctx: Arc<Ctx>,
    /// The state file's store, locked for this session.
    pub store: StateStore,
    /// The state as read at the start, updated as resources change.
    pub state: State,
}

impl Session {
    /// Locks the stack's state (before any AWS call), asks STS for the account, reads the state.
    pub async fn open(
        aws: Aws,
        spec: Spec,
        state_dir: &Path,
        timeouts: Timeouts,
        progress: Progress,
    ) -> Result<Session, ProvisionError> {
        let store = StateStore::open(state_dir, &spec.stack.name)?;
        let account = aws.account_id().await?;
        let endpoint = aws.endpoint.clone().unwrap_or_else(|| "aws".into());
        let mut state = match store.load()? {
            Some(s) if s.account != account || s.endpoint != endpoint || s.region != aws.region => {
                return Err(ProvisionError::StateMismatch {
                    path: store.path().to_path_buf(),
                    what: format!(
                        "account {} in {} at {}, not account {account} in {} at {endpoint}",
                        s.account, s.region, s.endpoint, aws.region
                    ),
                });
            }
            Some(s) => s,
            None => State::new(&spec.stack.name, &aws.region, &account, &endpoint),
        };
        if state.lifetime.is_none() {
            // Saved with the first resource `up` records, so that an `up` killed later retries
            // with the same client tokens.
            state.lifetime = Some(crate::token::new_lifetime());
        }
        let lifetime = state.lifetime.clone().unwrap_or_default();
        let ctx =
            Arc::new(Ctx::new(aws, spec, account, timeouts, progress).with_lifetime(&lifetime));
        Ok(Session { ctx, store, state })
    }

    /// A context without the state lock, for read-only commands (`status`).
    pub async fn read_only(
        aws: Aws,
        spec: Spec,
        timeouts: Timeouts,
        progress: Progress,
    ) -> Result<Arc<Ctx>, ProvisionError> {
        let account = aws.account_id().await?;
        Ok(Arc::new(Ctx::new(aws, spec, account, timeouts, progress)))
    }
}
