//! [`CuratorCache`]: a subtree kept in memory through one persistent recursive watch
//! (Curator 5's `CuratorCache`, with the event types of its `CuratorCacheListener`).
//!
//! Where [`TreeCache`](super::TreeCache) holds two one-shot watches per node and must
//! set them again after each change, this cache asks the server (ZooKeeper 3.6 or
//! later) for a single watch that reports every create, data change and delete below
//! the root and stays set. The subtree is loaded once by walking it; after that each
//! reported event leads to a read of the node concerned. When the watch ends with its
//! session, or the connection comes back, the watch is set again if needed and the
//! subtree walked again, and only the differences are reported.

mod worker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zk_core::Client;
use zk_core::path::validate_path;

use super::ChildData;
use super::bulk_read::{BatchedReads, DEFAULT_READ_WINDOW, TreeReading};
use super::error::CacheError;
use super::events::CacheEvents;
use crate::plumbing::FanOut;
use crate::plumbing::Lifecycle;
use crate::plumbing::lock;

/// What a [`CuratorCache`] reports (Curator's `CuratorCacheListener.Type`, plus
/// `initialized()`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CuratorCacheEvent {
    /// A node was added to the cache. Parents are reported before their children.
    Created(ChildData),
    /// A node already in the cache changed its data.
    Changed {
        /// What the cache held before.
        old: ChildData,
        /// What it holds now.
        new: ChildData,
    },
    /// A node in the cache was deleted; carries what the cache last held for it.
    /// Children are reported before their parents.
    Deleted(ChildData),
    /// The initial load is done (after a `Created` for each node found).
    Initialized,
}

/// Builds a [`CuratorCache`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct CuratorCacheBuilder {
    client: Client,
    path: String,
    single_node: bool,
    read_window: usize,
}

impl CuratorCacheBuilder {
    /// How many nodes the cache reads at once on the session's pipeline when it
    /// reads its tree (default 1,000; at least 1), level by level.
    pub fn read_window(mut self, reads: usize) -> Self {
        self.read_window = reads.max(1);
        self
    }

    /// Cache only the root node, not its subtree (Curator's `SINGLE_NODE_CACHE`):
    /// the watch is persistent but not recursive. Default false.
    pub fn single_node(mut self, yes: bool) -> Self {
        self.single_node = yes;
        self
    }

    /// The cache, not yet started.
    pub fn build(self) -> CuratorCache {
        CuratorCache {
            shared: Arc::new(Shared {
                client: self.client,
                root: self.path,
                single_node: self.single_node,
                reading: TreeReading {
                    window: self.read_window,
                    batched: Some(BatchedReads::new()),
                },
                nodes: Mutex::new(BTreeMap::new()),
                hub: FanOut::new(),
            }),
            life: Lifecycle::new(),
        }
    }
}

#[derive(Debug)]
struct Shared {
    client: Client,
    root: String,
    single_node: bool,
    reading: TreeReading,
    nodes: Mutex<BTreeMap<String, ChildData>>,
    hub: FanOut<CuratorCacheEvent>,
}

/// Keeps a subtree in memory through one persistent recursive watch and reports
/// every change as a [`CuratorCacheEvent`].
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::cache::CacheError> {
/// use futures::StreamExt;
/// use zk_recipes::cache::{CuratorCache, CuratorCacheEvent};
///
/// let cache = CuratorCache::builder(client, "/config").build();
/// let mut events = cache.events();
/// cache.start().await?;
/// while let Some(event) = events.next().await {
///     if let CuratorCacheEvent::Changed { new, .. } = event {
///         println!("{} changed", new.path);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CuratorCache {
    shared: Arc<Shared>,
    life: Lifecycle,
}

impl CuratorCache {
    /// A builder for a cache of the subtree at `path` (a path in the client's
    /// namespace; it need not exist).
    pub fn builder(client: Client, path: impl Into<String>) -> CuratorCacheBuilder {
        CuratorCacheBuilder {
            client,
            path: path.into(),
            single_node: false,
            read_window: DEFAULT_READ_WINDOW,
        }
    }

    /// The root of the cached subtree.
    pub fn path(&self) -> &str {
        &self.shared.root
    }

    /// A stream of this cache's events from now on; subscribe before
    /// [`start`](Self::start) to see all of them. Each stream ends when the cache is
    /// closed.
    pub fn events(&self) -> CacheEvents<CuratorCacheEvent> {
        self.shared.hub.subscribe()
    }

    /// Starts the cache: sets the persistent watch, then loads the subtree in the
    /// background, ending with [`CuratorCacheEvent::Initialized`].
    ///
    /// Fails with [`CacheError::AlreadyStarted`] or [`CacheError::Closed`] when
    /// misused, and with [`CacheError::ZooKeeper`] for an invalid path or when the watch
    /// cannot be set.
    pub async fn start(&self) -> Result<(), CacheError> {
        validate_path(&self.shared.root, false).map_err(zk_core::Error::from)?;
        let guard = self.life.begin_start()?;
        let mut worker = worker::Worker::new(self.shared.clone());
        worker.set_watch().await?;
        Ok(guard.commit_spawning(worker.run())?)
    }

    /// The cached node at `full_path`, if any.
    pub fn get(&self, full_path: &str) -> Option<ChildData> {
        lock(&self.shared.nodes).get(full_path).cloned()
    }

    /// Every cached node, sorted by path (parents before their children).
    pub fn current_data(&self) -> Vec<ChildData> {
        lock(&self.shared.nodes).values().cloned().collect()
    }

    /// The number of cached nodes.
    pub fn size(&self) -> usize {
        lock(&self.shared.nodes).len()
    }

    /// Stops the cache: no event is sent afterwards, every event stream ends, the
    /// background task (and with it the watch's stream) is gone when this returns,
    /// and the cache is emptied, as Curator's is by default.
    pub async fn close(&self) {
        self.life.shut_down(&self.shared.hub).await;
        lock(&self.shared.nodes).clear();
    }

    /// Whether the cache's background task is running (started and not closed).
    pub fn is_running(&self) -> bool {
        self.life.is_running()
    }
}
