//! The background task of a [`PathChildrenCache`](super::PathChildrenCache): it owns
//! the watches, handles one thing at a time (a fired watch, a connection state, a due
//! retry), and is the only writer of the cache's contents.

use std::collections::BTreeSet;
use std::sync::Arc;

use tracing::{Instrument, warn};
use zk_core::path::join;
use zk_core::{ConnectionState, WatchedEvent};

use super::{Config, PathChildrenCacheEvent, Shared, StartMode};
use futures::StreamExt;

use crate::cache::ChildData;
use crate::cache::bulk_read::{NodeRead, TreeRead, read_nodes, read_unwatched};
use crate::cache::child_data::{Change, put_fresh};
use crate::cache::driver::{Driver, is_no_node};
use crate::cache::worker_loop::{CacheWorker, follow};
use crate::plumbing::lock;

/// From how many children to read a refresh reads in multiRead batches and sets
/// the watches after (two requests at least); fewer are read one watched read each.
const BATCH_FROM: usize = 8;

/// How often in a row the watched node may vanish between an exists and a
/// getChildren before the worker leaves it to the pending watch.
const PARENT_RACE_LIMIT: usize = 3;

/// What a pending watch is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// The children list of the watched node.
    Children,
    /// The watched node's existence, while it is missing.
    ParentExists,
    /// One child's data.
    Data(String),
}

pub(super) struct Worker {
    config: Arc<Config>,
    shared: Arc<Shared>,
    driver: Driver<Key>,
    /// False during the silent initial build of `BuildInitialCache`.
    emitting: bool,
    /// `PostInitializedEvent` before the first complete load.
    initialized_pending: bool,
}

impl Worker {
    pub(super) fn new(config: Arc<Config>, shared: Arc<Shared>) -> Self {
        let driver = Driver::new(&config.client);
        let initialized_pending = config.start_mode == StartMode::PostInitializedEvent;
        Worker {
            config,
            shared,
            driver,
            emitting: true,
            initialized_pending,
        }
    }

    /// Loads every child without sending events (`BuildInitialCache`).
    pub(super) async fn initial_build(&mut self) -> zk_core::Result<()> {
        self.emitting = false;
        let r = self.refresh(true).await;
        self.emitting = true;
        r
    }

    /// The task's body: the first load (unless built already), then the shared loop.
    pub(super) fn run(self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let span = tracing::debug_span!("path_children_cache", path = %self.config.path);
        let read_first = self.config.start_mode != StartMode::BuildInitialCache;
        follow(self, read_first).instrument(span)
    }
}

impl CacheWorker for Worker {
    type Key = Key;

    fn driver(&mut self) -> &mut Driver<Key> {
        &mut self.driver
    }

    fn on_state(&mut self, state: ConnectionState) {
        match state {
            ConnectionState::Suspended => self.emit(PathChildrenCacheEvent::ConnectionSuspended),
            ConnectionState::Lost => self.emit(PathChildrenCacheEvent::ConnectionLost),
            ConnectionState::Reconnected => {
                self.emit(PathChildrenCacheEvent::ConnectionReconnected)
            }
            ConnectionState::Connected | ConnectionState::ReadOnly => {}
        }
    }

    /// Children and existence watches re-read the list; a data watch re-reads its child.
    async fn on_watch(&mut self, key: Key, _event: WatchedEvent) -> zk_core::Result<()> {
        match key {
            Key::Children | Key::ParentExists => self.refresh(false).await,
            Key::Data(path) => self.load_child(&path).await,
        }
    }

    /// Reads everything again and reports the differences.
    async fn full_refresh(&mut self) {
        match self.refresh(true).await {
            Ok(()) => {
                self.driver.resync.done();
                if self.initialized_pending {
                    self.initialized_pending = false;
                    let children = lock(&self.shared.children).values().cloned().collect();
                    self.emit(PathChildrenCacheEvent::Initialized(children));
                }
            }
            Err(e) => {
                warn!(error = %e, "reading the children failed; will try again");
                self.driver.resync.failed();
            }
        }
    }
}

impl Worker {
    /// Reads the children list; removes the children that left and reads the ones
    /// that arrived (every child with `force`, and any child without a data watch).
    async fn refresh(&mut self, force: bool) -> zk_core::Result<()> {
        for _ in 0..PARENT_RACE_LIMIT {
            match self.read_children().await {
                Ok(names) => return self.apply_children(names, force).await,
                Err(e) if is_no_node(&e) => {
                    self.remove_all();
                    if !self.watch_parent_creation().await? {
                        return Ok(());
                    }
                    // Created in between: read its children.
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn read_children(&mut self) -> zk_core::Result<Vec<String>> {
        let client = &self.config.client;
        let path = self.config.path.as_str();
        if self.driver.watches.is_live(&Key::Children) {
            return client.get_children(path).await;
        }
        let (names, _stat, watcher) = client.get_children(path).watched().await?;
        self.driver.watches.add(Key::Children, watcher);
        Ok(names)
    }

    /// Watches for the missing node to appear; true if it exists after all.
    async fn watch_parent_creation(&mut self) -> zk_core::Result<bool> {
        let client = &self.config.client;
        let path = self.config.path.as_str();
        if self.driver.watches.is_live(&Key::ParentExists) {
            return Ok(client.exists(path).await?.is_some());
        }
        let (stat, watcher) = client.exists(path).watched().await?;
        self.driver.watches.add(Key::ParentExists, watcher);
        Ok(stat.is_some())
    }

    async fn apply_children(&mut self, names: Vec<String>, force: bool) -> zk_core::Result<()> {
        let fresh: BTreeSet<String> = names
            .iter()
            .map(|name| join(&self.config.path, name))
            .collect();
        let gone: Vec<ChildData> = {
            let mut children = lock(&self.shared.children);
            let gone: Vec<String> = children
                .keys()
                .filter(|p| !fresh.contains(*p))
                .cloned()
                .collect();
            gone.iter().filter_map(|p| children.remove(p)).collect()
        };
        for old in gone {
            self.emit(PathChildrenCacheEvent::ChildRemoved(old));
        }
        // Every child that must be read is read at once, in a bounded window; the
        // answers are applied in path order, as one read after another would be.
        let reads: Vec<NodeRead> = fresh
            .into_iter()
            .filter(|path| {
                force
                    || !lock(&self.shared.children).contains_key(path)
                    || !self.driver.watches.is_live(&Key::Data(path.clone()))
            })
            .map(|path| NodeRead {
                watch: !self.driver.watches.is_live(&Key::Data(path.clone())),
                path,
            })
            .collect();
        if reads.len() >= BATCH_FROM && self.config.batched.allowed() {
            return self.read_batched(reads).await;
        }
        let mut replies = read_nodes(&self.config.client, reads, self.config.read_window);
        while let Some((path, result)) = replies.next().await {
            let result = result.map(|(data, stat, watcher)| {
                if let Some(watcher) = watcher {
                    self.driver.watches.add(Key::Data(path.clone()), watcher);
                }
                (data, stat)
            });
            self.apply_read(&path, result)?;
        }
        Ok(())
    }

    /// Reads many children in multiRead batches, applies them in order, then sets
    /// the data watches the reads asked for in a few SetWatches requests relative to
    /// a zxid taken before the first read: a child changed after its read has its
    /// watch fire at once, so nothing is missed. If the watches cannot be set, the
    /// refresh fails and the cache reads everything again later, watching what has
    /// no watch.
    async fn read_batched(&mut self, reads: Vec<NodeRead>) -> zk_core::Result<()> {
        let client = self.config.client.clone();
        let since = client.last_zxid();
        let mut wanted = Vec::with_capacity(reads.len());
        let unwatched = reads
            .into_iter()
            .map(|r| {
                wanted.push(r.watch);
                TreeRead {
                    path: r.path,
                    data_watch: false,
                    children: None,
                }
            })
            .collect();
        let mut replies = read_unwatched(
            &client,
            unwatched,
            self.config.read_window,
            self.config.batched.clone(),
        );
        let mut to_watch = Vec::new();
        let mut wanted = wanted.into_iter();
        while let Some((path, data, _)) = replies.next().await {
            let found = data.is_ok();
            self.apply_read(&path, data.map(|(data, stat, _)| (data, stat)))?;
            if wanted.next() == Some(true) && found {
                to_watch.push(path);
            }
        }
        let watchers = client.watch_data_since(&to_watch, since).await?;
        for (path, watcher) in to_watch.into_iter().zip(watchers) {
            self.driver.watches.add(Key::Data(path), watcher);
        }
        Ok(())
    }

    /// Reads one child (setting its data watch if none is pending) and reports what
    /// changed; a child that is gone is removed.
    async fn load_child(&mut self, path: &str) -> zk_core::Result<()> {
        let key = Key::Data(path.to_string());
        let read = self
            .driver
            .watches
            .get_data(&self.config.client, path, key)
            .await;
        self.apply_read(path, read)
    }

    /// Applies one child's read: what changed is reported; a child that is gone is
    /// removed.
    fn apply_read(
        &mut self,
        path: &str,
        read: zk_core::Result<(bytes::Bytes, zk_core::Stat)>,
    ) -> zk_core::Result<()> {
        match read {
            Ok((data, stat)) => {
                let data = self.config.cache_data.then_some(data);
                let fresh = ChildData::new(path, stat, data);
                let changes = put_fresh(&mut lock(&self.shared.children), fresh);
                for change in changes {
                    self.emit(match change {
                        Change::Added(d) => PathChildrenCacheEvent::ChildAdded(d),
                        Change::Updated { new, .. } => PathChildrenCacheEvent::ChildUpdated(new),
                        Change::Removed(d) => PathChildrenCacheEvent::ChildRemoved(d),
                    });
                }
                Ok(())
            }
            Err(e) if is_no_node(&e) => {
                let old = lock(&self.shared.children).remove(path);
                if let Some(old) = old {
                    self.emit(PathChildrenCacheEvent::ChildRemoved(old));
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn remove_all(&mut self) {
        let all = std::mem::take(&mut *lock(&self.shared.children));
        for (_, old) in all {
            self.emit(PathChildrenCacheEvent::ChildRemoved(old));
        }
    }

    fn emit(&self, event: PathChildrenCacheEvent) {
        if self.emitting {
            self.shared.hub.emit(event);
        }
    }
}
