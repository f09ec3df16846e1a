//! `InterProcessMultiLock`: several locks taken as one, all or nothing.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;
use zk_core::framework::ops::transaction::TransactionBuilder;

use crate::locks::error::{LockError, Result};
use crate::locks::guard::LockGuard;
use crate::locks::mutex::InterProcessMutex;
use crate::locks::semaphore_mutex::InterProcessSemaphoreMutex;
use crate::plumbing::FencingToken;

/// A lock that an [`InterProcessMultiLock`] can hold with others (Curator's
/// `InterProcessLock`).
pub trait InterProcessLock: Send + Sync {
    /// Acquires, waiting until `deadline` if one is given; `None` if it passed.
    fn acquire_until(&self, deadline: Option<Instant>) -> BoxFuture<'_, Result<Option<LockGuard>>>;
}

impl InterProcessLock for InterProcessMutex {
    fn acquire_until(&self, deadline: Option<Instant>) -> BoxFuture<'_, Result<Option<LockGuard>>> {
        Box::pin(InterProcessMutex::acquire_until(self, deadline))
    }
}

impl InterProcessLock for InterProcessSemaphoreMutex {
    fn acquire_until(&self, deadline: Option<Instant>) -> BoxFuture<'_, Result<Option<LockGuard>>> {
        Box::pin(InterProcessSemaphoreMutex::acquire_until(self, deadline))
    }
}

impl<L: InterProcessLock + ?Sized> InterProcessLock for Box<L> {
    fn acquire_until(&self, deadline: Option<Instant>) -> BoxFuture<'_, Result<Option<LockGuard>>> {
        (**self).acquire_until(deadline)
    }
}

/// Several locks held as one (Curator's `InterProcessMultiLock`): acquired in the
/// order given, all or nothing. If one cannot be had (an error, or the deadline),
/// those already taken are released, last first.
///
/// Take the locks in the same order everywhere, or two multi-locks can deadlock
/// (until their deadlines).
#[derive(Debug)]
pub struct InterProcessMultiLock<L> {
    locks: Vec<L>,
}

/// The guards of every lock of an [`InterProcessMultiLock`], released together.
#[derive(Debug)]
#[must_use = "dropping the guard releases the locks"]
pub struct MultiLockGuard {
    guards: Vec<LockGuard>,
}

impl<L: InterProcessLock> InterProcessMultiLock<L> {
    /// A multi-lock over `locks`, taken in this order.
    pub fn new(locks: impl IntoIterator<Item = L>) -> Self {
        InterProcessMultiLock {
            locks: locks.into_iter().collect(),
        }
    }

    /// Acquires every lock, waiting without bound.
    pub async fn acquire(&self) -> Result<MultiLockGuard> {
        self.acquire_until(None).await?.ok_or_else(|| {
            LockError::InvalidArgument(
                "an acquire without a deadline ended without the locks".into(),
            )
        })
    }

    /// Acquires every lock within `timeout`; `None` if it passed (nothing is held).
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<Option<MultiLockGuard>> {
        self.acquire_until(Some(Instant::now() + timeout)).await
    }

    /// Acquires every lock, waiting until `deadline` if one is given.
    pub async fn acquire_until(&self, deadline: Option<Instant>) -> Result<Option<MultiLockGuard>> {
        if self.locks.is_empty() {
            return Err(LockError::InvalidArgument(
                "a multi-lock needs at least one lock".into(),
            ));
        }
        let mut guards = Vec::with_capacity(self.locks.len());
        for lock in &self.locks {
            match lock.acquire_until(deadline).await {
                Ok(Some(guard)) => guards.push(guard),
                outcome => {
                    release_all(guards).await;
                    return outcome.map(|_| None);
                }
            }
        }
        Ok(Some(MultiLockGuard { guards }))
    }
}

impl MultiLockGuard {
    /// The guards, in the order the locks were given.
    pub fn guards(&self) -> &[LockGuard] {
        &self.guards
    }

    /// A transaction that first checks every held node, so that its writes commit
    /// only while all the locks are held.
    pub fn transaction(&self) -> TransactionBuilder<'_> {
        // A multi-lock is only acquired with at least one lock.
        let (first, rest) = self
            .guards
            .split_first()
            .expect("a multi-lock guard holds at least one lock");
        rest.iter()
            .fold(first.transaction(), |tx, g| tx.check(g.node(), -1))
    }

    /// Every lock's fencing token, in order.
    pub fn fencing_tokens(&self) -> Vec<FencingToken> {
        self.guards.iter().map(LockGuard::fencing_token).collect()
    }

    /// Whether every lock can still be trusted.
    pub fn is_held(&self) -> bool {
        self.guards.iter().all(LockGuard::is_held)
    }

    /// Resolves once any of the locks can no longer be trusted.
    pub async fn lost(&self) {
        if self.guards.is_empty() {
            return;
        }
        futures::future::select_all(self.guards.iter().map(|g| Box::pin(g.lost()))).await;
    }

    /// Releases every lock, last first; the first error, if any, once all were
    /// tried.
    pub async fn release(self) -> Result<()> {
        let mut first_error = None;
        for guard in self.guards.into_iter().rev() {
            if let Err(e) = guard.release().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Releases `guards`, last first, ignoring errors (their deletes go on in the
/// background).
async fn release_all(guards: Vec<LockGuard>) {
    for guard in guards.into_iter().rev() {
        if let Err(e) = guard.release().await {
            tracing::debug!(error = %e, "releasing a partly acquired multi-lock");
        }
    }
}
