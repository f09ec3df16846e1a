//! The one error type of the lock recipes.

/// Why a lock or semaphore call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The call's arguments cannot work (no leases asked for, more leases than the
    /// semaphore has); nothing was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The lock was released, but its node was already gone: the session that held
    /// it ended, or someone deleted the node, before the release. Whatever ran under
    /// the lock may have run while another holder held it.
    #[error("the lock at {node} was already lost when it was released")]
    LostBeforeRelease {
        /// The lock node (or lease node) that was gone.
        node: String,
    },
    /// A re-entrant acquire found this handle's lock already lost while a guard of
    /// it is still alive: release or drop that guard, then acquire again.
    #[error("the lock at {node} was lost while a guard of it is still alive")]
    HeldLockLost {
        /// The lost lock node.
        node: String,
    },
    /// A ZooKeeper operation failed (a malformed lock path included; the client
    /// being closed is [`zk_core::Error::Closed`]).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
}

impl LockError {
    /// The ZooKeeper error behind this one, if there is one.
    pub fn as_zookeeper(&self) -> Option<&zk_core::Error> {
        match self {
            LockError::ZooKeeper(e) => Some(e),
            _ => None,
        }
    }
}

/// The result of a lock call.
pub type Result<T, E = LockError> = std::result::Result<T, E>;
