//! [`NodeCache`]: one node's data and stat kept in memory, with an event on every
//! change (Curator's `NodeCache` and its `NodeCacheListener`).
//!
//! The node may be missing: the cache then holds `None` and watches for its creation.
//! A change is a creation, a deletion, a data change, or the node being replaced by
//! another under the same path; stat changes caused by the node's children are kept
//! without an event. After a reconnect on the same session the restored watch fires if
//! the node changed meanwhile; on a new session the node is read again; either way an
//! event is sent only if it differs from what the cache held.

mod worker;

use std::sync::{Arc, Mutex};

use zk_core::Client;
use zk_core::path::validate_path;

use super::ChildData;
use super::error::CacheError;
use super::events::CacheEvents;
use crate::plumbing::FanOut;
use crate::plumbing::Lifecycle;
use crate::plumbing::lock;

/// What a [`NodeCache`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeCacheEvent {
    /// The node changed; carries what the cache holds now (`None`: the node is gone).
    Changed(Option<ChildData>),
}

#[derive(Debug)]
struct Shared {
    client: Client,
    path: String,
    current: Mutex<Option<ChildData>>,
    hub: FanOut<NodeCacheEvent>,
}

/// Keeps one node's data and stat in memory and reports each change.
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::cache::CacheError> {
/// use futures::StreamExt;
/// use zk_recipes::cache::{NodeCache, NodeCacheEvent};
///
/// let cache = NodeCache::new(client, "/config/feature-flags");
/// let mut events = cache.events();
/// cache.start(true).await?; // loaded before start returns
/// let flags = cache.current_data().and_then(|d| d.data);
/// while let Some(NodeCacheEvent::Changed(now)) = events.next().await {
///     // reload the flags from `now`
/// #   let _ = now;
/// }
/// # let _ = flags;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NodeCache {
    shared: Arc<Shared>,
    life: Lifecycle,
}

impl NodeCache {
    /// A cache of the node at `path` (in the client's namespace), not yet started.
    pub fn new(client: Client, path: impl Into<String>) -> Self {
        NodeCache {
            shared: Arc::new(Shared {
                client,
                path: path.into(),
                current: Mutex::new(None),
                hub: FanOut::new(),
            }),
            life: Lifecycle::new(),
        }
    }

    /// The cached node's path.
    pub fn path(&self) -> &str {
        &self.shared.path
    }

    /// A stream of this cache's events from now on; it ends when the cache is closed.
    pub fn events(&self) -> CacheEvents<NodeCacheEvent> {
        self.shared.hub.subscribe()
    }

    /// Starts the cache. With `build_initial` the node is read before this returns,
    /// without an event for what is found; otherwise it is read in the background and
    /// an existing node is reported as a change.
    ///
    /// Fails with [`CacheError::AlreadyStarted`] or [`CacheError::Closed`] when
    /// misused, and with [`CacheError::ZooKeeper`] for an invalid path or a failed initial read.
    pub async fn start(&self, build_initial: bool) -> Result<(), CacheError> {
        validate_path(&self.shared.path, false).map_err(zk_core::Error::from)?;
        let guard = self.life.begin_start()?;
        let mut worker = worker::Worker::new(self.shared.clone());
        if build_initial {
            worker.initial_build().await?;
        }
        Ok(guard.commit_spawning(worker.run(!build_initial))?)
    }

    /// The node as last read: `None` if it does not exist (or was not read yet).
    pub fn current_data(&self) -> Option<ChildData> {
        lock(&self.shared.current).clone()
    }

    /// Stops the cache: no event is sent afterwards, every event stream ends, and the
    /// background task is gone when this returns.
    pub async fn close(&self) {
        self.life.shut_down(&self.shared.hub).await;
    }

    /// Whether the cache's background task is running (started and not closed).
    pub fn is_running(&self) -> bool {
        self.life.is_running()
    }
}
