//! Revocation, as Curator has it: anyone may ask a holder to release by writing
//! `__REVOKE__` into its lock node; a holder that made its lock revocable hears
//! the request and decides what to do.

use std::sync::Arc;

use zk_core::{Client, Code};

use crate::locks::error::Result;

/// The data Curator writes into a lock node to ask its holder to release.
pub(crate) const REVOKE_MESSAGE: &[u8] = b"__REVOKE__";

/// What a revocable lock calls when someone asks its holder to release.
pub(crate) type RevocationListener = Arc<dyn Fn() + Send + Sync>;

/// Asks lock holders to release (Curator's `Revoker`).
#[derive(Debug, Clone, Copy)]
pub struct Revoker;

impl Revoker {
    /// Asks the holder of the lock node at `node` (a path from
    /// `participant_nodes()`) to release, by writing Curator's `__REVOKE__` marker
    /// into it. A node that is already gone is not an error. Only holders that
    /// made their lock revocable hear it; Java holders on Curator hear it too.
    pub async fn attempt_revoke(client: &Client, node: &str) -> Result<()> {
        match client.set_data(node, &REVOKE_MESSAGE).await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(Code::NoNode) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
