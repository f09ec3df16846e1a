//! `InterProcessSemaphoreMutex`: Curator's non-re-entrant mutex, a semaphore of
//! one lease.

use std::time::Duration;

use tokio::time::Instant;
use zk_core::Client;

use crate::locks::error::Result;
use crate::locks::guard::LockGuard;
use crate::locks::semaphore::InterProcessSemaphoreV2;

/// A distributed mutex that is not re-entrant, on Curator's
/// `InterProcessSemaphoreMutex` layout (an [`InterProcessSemaphoreV2`] with one
/// lease): a second acquire on the same handle waits like any other contender.
#[derive(Debug)]
pub struct InterProcessSemaphoreMutex {
    semaphore: InterProcessSemaphoreV2,
}

impl InterProcessSemaphoreMutex {
    /// A mutex at `path` (checked when acquiring).
    pub fn new(client: Client, path: impl Into<String>) -> Self {
        InterProcessSemaphoreMutex {
            semaphore: InterProcessSemaphoreV2::new(client, path, 1),
        }
    }

    /// The lock's path.
    pub fn path(&self) -> &str {
        self.semaphore.path()
    }

    /// Acquires the lock, waiting without bound.
    pub async fn acquire(&self) -> Result<LockGuard> {
        self.semaphore.acquire().await
    }

    /// Acquires the lock, waiting up to `timeout`; `None` if it timed out.
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard>> {
        self.semaphore.acquire_timeout(timeout).await
    }

    /// Acquires the lock, waiting until `deadline` if one is given.
    pub async fn acquire_until(&self, deadline: Option<Instant>) -> Result<Option<LockGuard>> {
        Ok(self
            .semaphore
            .acquire_leases(1, deadline)
            .await?
            .and_then(|mut leases| leases.pop()))
    }
}
