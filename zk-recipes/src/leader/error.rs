//! The one error type of the leader recipes.

use crate::plumbing::LifecycleError;

/// Why a leader-election call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LeaderError {
    /// `start()` was called on a recipe that was already started (or closed).
    #[error("the recipe was already started")]
    AlreadyStarted,
    /// The call needs a started recipe.
    #[error("the recipe has not been started")]
    NotStarted,
    /// The recipe was closed.
    #[error("the recipe is closed")]
    Closed,
    /// A ZooKeeper operation failed (including a malformed election path).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
}

impl LeaderError {
    /// The ZooKeeper error behind this one, if there is one.
    pub fn as_zookeeper(&self) -> Option<&zk_core::Error> {
        match self {
            LeaderError::ZooKeeper(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LifecycleError> for LeaderError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::AlreadyStarted => LeaderError::AlreadyStarted,
            LifecycleError::Closed => LeaderError::Closed,
        }
    }
}

/// The result of a leader-election call.
pub type Result<T, E = LeaderError> = std::result::Result<T, E>;
