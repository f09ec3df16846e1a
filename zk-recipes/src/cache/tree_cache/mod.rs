//! [`TreeCache`]: every node of a subtree, down to a depth limit, kept in memory and
//! reported as events (Curator's `TreeCache`).
//!
//! Each cached node holds a data watch, and each node above the depth limit a
//! children watch; the root, while missing, an exists watch. A fired watch leads to
//! a read of just what it concerns, also after a reconnect on the same session (the
//! restored watches fire for what changed meanwhile); a new session leads to one
//! complete re-read compared with the cache, so each difference is reported once.

mod event;
mod worker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zk_core::Client;
use zk_core::path::{node_name, parent, validate_path};

use super::ChildData;
use super::bulk_read::{DEFAULT_READ_WINDOW, TreeReading};
use super::child_data::subtree_keys;
use super::ensure_path::ensure_path;
use super::error::CacheError;
use super::events::CacheEvents;
use crate::plumbing::FanOut;
use crate::plumbing::Lifecycle;
use crate::plumbing::lock;

pub use event::TreeCacheEvent;

/// Builds a [`TreeCache`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct TreeCacheBuilder {
    client: Client,
    path: String,
    cache_data: bool,
    max_depth: usize,
    create_parents: bool,
    read_window: usize,
}

impl TreeCacheBuilder {
    /// Whether to keep each node's data (default true); without it only stats are kept.
    pub fn cache_data(mut self, yes: bool) -> Self {
        self.cache_data = yes;
        self
    }

    /// How many nodes the cache reads at once on the session's pipeline (default
    /// 1,000; at least 1): a subtree is read level by level, each level's nodes
    /// together in this window.
    pub fn read_window(mut self, reads: usize) -> Self {
        self.read_window = reads.max(1);
        self
    }

    /// How deep below the root to cache (default unlimited): 0 caches the root only,
    /// 1 the root and its children, and so on.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Whether `start()` creates the root path (and its missing parents) as container
    /// nodes, as Curator's `setCreateParentNodes` does (default false).
    pub fn create_parents(mut self, yes: bool) -> Self {
        self.create_parents = yes;
        self
    }

    /// The cache, not yet started.
    pub fn build(self) -> TreeCache {
        TreeCache {
            shared: Arc::new(Shared {
                client: self.client,
                root: self.path,
                cache_data: self.cache_data,
                max_depth: self.max_depth,
                reading: TreeReading {
                    window: self.read_window,
                    batched: None,
                },
                nodes: Mutex::new(BTreeMap::new()),
                hub: FanOut::new(),
            }),
            create_parents: self.create_parents,
            life: Lifecycle::new(),
        }
    }
}

#[derive(Debug)]
struct Shared {
    client: Client,
    root: String,
    cache_data: bool,
    max_depth: usize,
    reading: TreeReading,
    /// Every cached node by full path.
    nodes: Mutex<BTreeMap<String, ChildData>>,
    hub: FanOut<TreeCacheEvent>,
}

/// Keeps a subtree in memory and reports every change as a [`TreeCacheEvent`].
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::cache::CacheError> {
/// use futures::StreamExt;
/// use zk_recipes::cache::{TreeCache, TreeCacheEvent};
///
/// let cache = TreeCache::builder(client, "/config").max_depth(2).build();
/// let mut events = cache.events();
/// cache.start().await?;
/// while let Some(event) = events.next().await {
///     if event == TreeCacheEvent::Initialized {
///         break; // everything below /config (two levels) is loaded
///     }
/// }
/// let apps = cache.current_children("/config").unwrap_or_default();
/// # let _ = apps;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TreeCache {
    shared: Arc<Shared>,
    create_parents: bool,
    life: Lifecycle,
}

impl TreeCache {
    /// A builder for a cache of the subtree at `path` (a path in the client's
    /// namespace; it need not exist).
    pub fn builder(client: Client, path: impl Into<String>) -> TreeCacheBuilder {
        TreeCacheBuilder {
            client,
            path: path.into(),
            cache_data: true,
            max_depth: usize::MAX,
            create_parents: false,
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
    pub fn events(&self) -> CacheEvents<TreeCacheEvent> {
        self.shared.hub.subscribe()
    }

    /// Starts the cache; the subtree loads in the background, ending with
    /// [`TreeCacheEvent::Initialized`].
    ///
    /// Fails with [`CacheError::AlreadyStarted`] or [`CacheError::Closed`] when
    /// misused, and with [`CacheError::ZooKeeper`] for an invalid path or when the root's
    /// creation (if asked for) fails.
    pub async fn start(&self) -> Result<(), CacheError> {
        validate_path(&self.shared.root, false).map_err(zk_core::Error::from)?;
        let guard = self.life.begin_start()?;
        if self.create_parents {
            ensure_path(&self.shared.client, &self.shared.root).await?;
        }
        let worker = worker::Worker::new(self.shared.clone());
        Ok(guard.commit_spawning(worker.run())?)
    }

    /// The cached node at `full_path`, or `None` if the cache holds no such node.
    pub fn current_data(&self, full_path: &str) -> Option<ChildData> {
        lock(&self.shared.nodes).get(full_path).cloned()
    }

    /// The cached children of the node at `full_path` by name, or `None` if the cache
    /// holds no such node. A node at the depth limit has no cached children.
    pub fn current_children(&self, full_path: &str) -> Option<BTreeMap<String, ChildData>> {
        let nodes = lock(&self.shared.nodes);
        nodes.get(full_path)?;
        let children = subtree_keys(&nodes, full_path)
            .into_iter()
            .filter(|p| p != "/" && parent(p) == Some(full_path))
            .filter_map(|p| {
                nodes
                    .get(&p)
                    .map(|d| (node_name(&p).to_string(), d.clone()))
            })
            .collect();
        Some(children)
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
