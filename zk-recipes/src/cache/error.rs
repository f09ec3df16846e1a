//! The one error type of the caches: lifecycle misuse or a ZooKeeper failure.

use thiserror::Error;

/// Why a cache operation failed.
#[derive(Debug, Clone, Error)]
pub enum CacheError {
    /// `start()` was called on a cache that is already started (or starting).
    #[error("the cache was already started")]
    AlreadyStarted,
    /// The cache was closed; a closed cache cannot be started again.
    #[error("the cache is closed")]
    Closed,
    /// A ZooKeeper operation of the initial load failed (including a bad path).
    #[error(transparent)]
    Zk(#[from] zk_core::Error),
}
