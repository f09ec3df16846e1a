//! `DiscoveryError`: what the ZooKeeper-facing half of service discovery can fail with.

use thiserror::Error;

use super::InstanceJsonError;
use crate::nodes::NodeError;
use crate::plumbing::LifecycleError;

/// An error from [`ServiceDiscovery`](super::ServiceDiscovery), a
/// [`ServiceCache`](super::ServiceCache) or a [`ServiceProvider`](super::ServiceProvider).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A ZooKeeper operation failed (or a path is invalid).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
    /// An instance could not be written as, or read from, Curator's JSON.
    #[error(transparent)]
    Json(#[from] InstanceJsonError),
    /// A builder was not given a required setting.
    #[error("{0} is required")]
    Missing(&'static str),
    /// `update_service` was called for an instance that is not registered here.
    #[error("service instance {id} of {name} is not registered")]
    NotRegistered {
        /// The service's name.
        name: String,
        /// The instance id.
        id: String,
    },
    /// `update_service` was asked to change what decides where and how the instance is
    /// stored (its name or service type): unregister it and register it again instead.
    #[error(
        "update_service cannot change the {what} of instance {id}; unregister and register it instead"
    )]
    InvalidUpdate {
        /// The instance id.
        id: String,
        /// `"name"` or `"service type"`.
        what: &'static str,
    },
    /// `start` was called twice.
    #[error("already started")]
    AlreadyStarted,
    /// The discovery, cache or provider is closed.
    #[error("closed")]
    Closed,
}

impl From<LifecycleError> for DiscoveryError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::AlreadyStarted => DiscoveryError::AlreadyStarted,
            LifecycleError::Closed => DiscoveryError::Closed,
        }
    }
}

impl From<NodeError> for DiscoveryError {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::AlreadyStarted => DiscoveryError::AlreadyStarted,
            NodeError::NotStarted | NodeError::Closed => DiscoveryError::Closed,
            NodeError::ZooKeeper(e) => DiscoveryError::ZooKeeper(e),
        }
    }
}

impl DiscoveryError {
    /// The ZooKeeper error behind this one, if there is one.
    pub fn as_zookeeper(&self) -> Option<&zk_core::Error> {
        match self {
            DiscoveryError::ZooKeeper(e) => Some(e),
            _ => None,
        }
    }
}
