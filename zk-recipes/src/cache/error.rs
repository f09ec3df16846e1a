//! The one error type of the caches: lifecycle misuse or a ZooKeeper failure.

use thiserror::Error;

use crate::plumbing::LifecycleError;

/// Why a cache operation failed.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum CacheError {
    /// `start()` was called on a cache that is already started (or starting).
    #[error("the cache was already started")]
    AlreadyStarted,
    /// The cache was closed; a closed cache cannot be started again.
    #[error("the cache is closed")]
    Closed,
    /// A ZooKeeper operation of the initial load failed (including a bad path).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
}

impl CacheError {
    /// The ZooKeeper error behind this one, if there is one.
    pub fn as_zookeeper(&self) -> Option<&zk_core::Error> {
        match self {
            CacheError::ZooKeeper(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LifecycleError> for CacheError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::AlreadyStarted => CacheError::AlreadyStarted,
            LifecycleError::Closed => CacheError::Closed,
        }
    }
}
