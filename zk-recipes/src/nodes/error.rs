//! The error of the node recipes, in the shape every recipe family shares.

use crate::plumbing::LifecycleError;

/// Why a [`PersistentNode`](super::PersistentNode) call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// `start()` was called on a node that was already started.
    #[error("the node was already started")]
    AlreadyStarted,
    /// The call needs a started node.
    #[error("the node has not been started")]
    NotStarted,
    /// The node was closed.
    #[error("the node is closed")]
    Closed,
    /// A ZooKeeper operation failed (including a bad path or mode given to the builder).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
}

impl NodeError {
    /// The ZooKeeper error behind this one, if there is one.
    pub fn as_zookeeper(&self) -> Option<&zk_core::Error> {
        match self {
            NodeError::ZooKeeper(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LifecycleError> for NodeError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::AlreadyStarted => NodeError::AlreadyStarted,
            LifecycleError::Closed => NodeError::Closed,
        }
    }
}

/// The result of a node recipe call.
pub(crate) type Result<T, E = NodeError> = std::result::Result<T, E>;
