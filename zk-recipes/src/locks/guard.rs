//! What an acquire hands out: a guard of a held lock node (a lock) or lease node
//! (a semaphore's lease).

use std::sync::Arc;

use zk_core::framework::ops::transaction::TransactionBuilder;
use zk_core::path;

use crate::locks::error::Result;
use crate::locks::held::Held;
use crate::plumbing::FencingToken;

/// Holds a lock until released or dropped.
///
/// - [`fencing_token`](LockGuard::fencing_token) grows from holder to holder: hand
///   it to the resources written under the lock, so they can refuse a late write
///   from an earlier holder.
/// - [`lost`](LockGuard::lost) resolves, and [`is_held`](LockGuard::is_held) turns
///   false, once the lock can no longer be trusted: at SUSPENDED or LOST under the
///   client's standard error policy (LOST only under the session-only policy), or
///   when the node is deleted. That is for good: release the guard and acquire
///   again.
/// - [`transaction`](LockGuard::transaction) starts a transaction that commits only
///   while the lock node exists.
/// - Dropped, the guard releases in the background; [`release`](LockGuard::release)
///   waits for it and says whether the lock was still held.
///
/// Re-entrant acquires of one [`InterProcessMutex`](crate::locks::InterProcessMutex)
/// handle share one node: it goes with the last of their guards.
#[derive(Debug)]
#[must_use = "dropping the guard releases the lock"]
pub struct LockGuard {
    held: Arc<Held>,
}

/// A lease of an [`InterProcessSemaphoreV2`](crate::locks::InterProcessSemaphoreV2):
/// held, watched and released like a lock, its node under the semaphore's
/// `leases` path.
pub type Lease = LockGuard;

impl LockGuard {
    pub(crate) fn new(held: Arc<Held>) -> Self {
        LockGuard { held }
    }

    /// The fencing token of this holding: the node's sequence number and creation
    /// zxid. Later holders have larger tokens.
    pub fn fencing_token(&self) -> FencingToken {
        self.held.token()
    }

    /// The path of the held node.
    pub fn node(&self) -> &str {
        self.held.node()
    }

    /// The name of the held node (its last path segment), as Curator's
    /// `Lease.getNodeName` gives it.
    pub fn node_name(&self) -> &str {
        path::node_name(self.held.node())
    }

    /// Whether the lock can still be trusted (see [`LockGuard::lost`]).
    pub fn is_held(&self) -> bool {
        self.held.is_held()
    }

    /// Resolves once the lock can no longer be trusted: at the first connection
    /// state the client's error policy counts as an error, when the node is
    /// deleted, or when its session ends. At once if that already happened.
    pub async fn lost(&self) {
        self.held.lost().await;
    }

    /// A transaction of the client that first checks that the held node exists, so
    /// that its writes commit only while this lock is held (a fenced write). It
    /// fails with the check's `NoNode` once the lock is gone.
    pub fn transaction(&self) -> TransactionBuilder<'_> {
        self.held.transaction()
    }

    /// Releases this guard, and the node if no other guard of it is alive.
    /// [`LockError::LostBeforeRelease`](crate::locks::LockError::LostBeforeRelease)
    /// if the node was already gone (its session ended or it was deleted): the
    /// work done under the lock may have overlapped another holder's. After
    /// ConnectionLoss the delete goes on in the background and the error is
    /// returned.
    pub async fn release(self) -> Result<()> {
        match Arc::into_inner(self.held) {
            Some(held) => held.release().await,
            None => Ok(()),
        }
    }
}
