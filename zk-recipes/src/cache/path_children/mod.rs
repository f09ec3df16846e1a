//! [`PathChildrenCache`]: the children of one node, with their data, kept in memory
//! and reported as events.
//!
//! Curator's `PathChildrenCache` semantics: one watch on the children list and one
//! data watch per child; a child read that finds no node counts as removed. Unlike
//! Curator, a reconnect on the same session reads only what the restored watches
//! report, and a new session leads to one complete re-read (its reads in flight
//! together) whose result is compared with the cache, so each difference is reported
//! exactly once and nothing that stayed the same is reported at all.

mod event;
mod worker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zk_core::Client;
use zk_core::path::validate_path;

use super::ChildData;
use super::bulk_read::{BatchedReads, DEFAULT_READ_WINDOW};
use super::ensure_path::ensure_path;
use super::error::CacheError;
use super::events::CacheEvents;
use crate::plumbing::FanOut;
use crate::plumbing::Lifecycle;
use crate::plumbing::lock;

pub use event::PathChildrenCacheEvent;

/// How [`PathChildrenCache::start`] primes the cache (Curator's `StartMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartMode {
    /// Loads in the background; every existing child is reported as `ChildAdded`.
    #[default]
    Normal,
    /// Loads before `start()` returns, without events for what it finds; later
    /// changes are reported as usual.
    BuildInitialCache,
    /// Like `Normal`, then an `Initialized` event once the first load is complete.
    PostInitializedEvent,
}

/// Builds a [`PathChildrenCache`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct PathChildrenCacheBuilder {
    client: Client,
    path: String,
    cache_data: bool,
    start_mode: StartMode,
    create_parents: bool,
    read_window: usize,
}

impl PathChildrenCacheBuilder {
    /// How many child reads the cache keeps in flight at once on the session's
    /// pipeline (default 1,000; at least 1). A larger window builds a large cache
    /// sooner, at the cost of more replies held in memory at once.
    pub fn read_window(mut self, reads: usize) -> Self {
        self.read_window = reads.max(1);
        self
    }

    /// Whether to keep each child's data (default true); without it only the stat is
    /// kept and [`ChildData::data`] is `None`.
    pub fn cache_data(mut self, yes: bool) -> Self {
        self.cache_data = yes;
        self
    }

    /// How `start()` primes the cache (default [`StartMode::Normal`]).
    pub fn start_mode(mut self, mode: StartMode) -> Self {
        self.start_mode = mode;
        self
    }

    /// Whether `start()` creates the watched path (and its missing parents) as
    /// container nodes, as Curator does (default false: a missing path is watched
    /// until it appears, and nothing is created).
    pub fn create_parents(mut self, yes: bool) -> Self {
        self.create_parents = yes;
        self
    }

    /// The cache, not yet started.
    pub fn build(self) -> PathChildrenCache {
        PathChildrenCache {
            config: Arc::new(Config {
                client: self.client,
                path: self.path,
                cache_data: self.cache_data,
                start_mode: self.start_mode,
                create_parents: self.create_parents,
                read_window: self.read_window,
                batched: BatchedReads::new(),
            }),
            shared: Arc::new(Shared {
                children: Mutex::new(BTreeMap::new()),
                hub: FanOut::new(),
            }),
            life: Lifecycle::new(),
        }
    }
}

#[derive(Debug)]
struct Config {
    client: Client,
    path: String,
    cache_data: bool,
    start_mode: StartMode,
    create_parents: bool,
    read_window: usize,
    /// Whether reads may go in multiRead batches.
    batched: BatchedReads,
}

/// What the cache and its background task share.
#[derive(Debug)]
struct Shared {
    children: Mutex<BTreeMap<String, ChildData>>,
    hub: FanOut<PathChildrenCacheEvent>,
}

/// Keeps the children of one node (and their data) in memory and reports every
/// change as a [`PathChildrenCacheEvent`].
///
/// One background task per cache does all the work in order; it is stopped by
/// [`close`](Self::close) or when the cache is dropped.
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::cache::CacheError> {
/// use futures::StreamExt;
/// use zk_recipes::cache::{PathChildrenCache, PathChildrenCacheEvent};
///
/// let cache = PathChildrenCache::builder(client, "/services/api").build();
/// let mut events = cache.events(); // subscribe first to see every event
/// cache.start().await?;
/// while let Some(event) = events.next().await {
///     if let PathChildrenCacheEvent::ChildAdded(child) = event {
///         println!("{} joined", child.path);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PathChildrenCache {
    config: Arc<Config>,
    shared: Arc<Shared>,
    life: Lifecycle,
}

impl PathChildrenCache {
    /// A builder for a cache of the children of `path` (a path in the client's namespace).
    pub fn builder(client: Client, path: impl Into<String>) -> PathChildrenCacheBuilder {
        PathChildrenCacheBuilder {
            client,
            path: path.into(),
            cache_data: true,
            start_mode: StartMode::default(),
            create_parents: false,
            read_window: DEFAULT_READ_WINDOW,
        }
    }

    /// The watched path.
    pub fn path(&self) -> &str {
        &self.config.path
    }

    /// A stream of this cache's events from now on; subscribe before
    /// [`start`](Self::start) to see all of them. Any number of subscribers may
    /// listen; each stream ends when the cache is closed.
    pub fn events(&self) -> CacheEvents<PathChildrenCacheEvent> {
        self.shared.hub.subscribe()
    }

    /// Starts the cache: with [`StartMode::BuildInitialCache`] the children are loaded
    /// before this returns; otherwise they load in the background.
    ///
    /// Fails with [`CacheError::AlreadyStarted`] or [`CacheError::Closed`] when
    /// misused, and with [`CacheError::ZooKeeper`] for an invalid path or when the initial
    /// load (or the path's creation, if asked for) fails; a failed start may be
    /// tried again.
    pub async fn start(&self) -> Result<(), CacheError> {
        validate_path(&self.config.path, false).map_err(zk_core::Error::from)?;
        let guard = self.life.begin_start()?;
        if self.config.create_parents {
            ensure_path(&self.config.client, &self.config.path).await?;
        }
        let mut worker = worker::Worker::new(self.config.clone(), self.shared.clone());
        if self.config.start_mode == StartMode::BuildInitialCache {
            worker.initial_build().await?;
        }
        Ok(guard.commit_spawning(worker.run())?)
    }

    /// The cached children, sorted by path. No guarantee of accuracy: this is the
    /// latest view, which may lag the server.
    pub fn current_data(&self) -> Vec<ChildData> {
        lock(&self.shared.children).values().cloned().collect()
    }

    /// The cached child at `full_path`, if any.
    pub fn current_data_for(&self, full_path: &str) -> Option<ChildData> {
        lock(&self.shared.children).get(full_path).cloned()
    }

    /// Forgets every cached child without sending events (Curator's `clear()`);
    /// children read again later are reported as added.
    pub fn clear(&self) {
        lock(&self.shared.children).clear();
    }

    /// Stops the cache: no event is sent afterwards, every event stream ends, and the
    /// background task is gone when this returns. Closing twice is harmless.
    pub async fn close(&self) {
        self.life.shut_down(&self.shared.hub).await;
    }

    /// Whether the cache's background task is running (started and not closed).
    pub fn is_running(&self) -> bool {
        self.life.is_running()
    }
}
