//! The background task of a [`TreeCache`](super::TreeCache): reads subtrees (setting
//! the watches that are not pending), compares them with the cache and reports the
//! differences.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tracing::{Instrument, warn};
use zk_core::framework::Watcher;
use zk_core::path::{join, parent};
use zk_core::{ConnectionState, EventType, WatchedEvent};

use super::{Shared, TreeCacheEvent};
use crate::cache::ChildData;
use crate::cache::bulk_read::{TreeRead, WalkPlan, WatchOn, walk_levels};
use crate::cache::child_data::{
    Change, depth_below, in_subtree, put_fresh, subtree_keys, sync_subtree,
};
use crate::cache::driver::{Driver, is_no_node};
use crate::cache::watch_set::WatchSet;
use crate::cache::worker_loop::{CacheWorker, follow};
use crate::plumbing::lock;

/// How often in a row the root may appear and vanish between two reads before the
/// worker leaves it to the pending watch.
const ROOT_RACE_LIMIT: usize = 3;

/// What a pending watch is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// A node's data (and its deletion).
    Data(String),
    /// A node's children list.
    Children(String),
    /// The root's creation, while it is missing.
    RootExists,
}

pub(super) struct Worker {
    shared: Arc<Shared>,
    driver: Driver<Key>,
    initialized: bool,
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        let driver = Driver::new(&shared.client);
        Worker {
            shared,
            driver,
            initialized: false,
        }
    }

    /// The task's body: the first read, then the shared loop.
    pub(super) fn run(self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let span = tracing::debug_span!("tree_cache", path = %self.shared.root);
        follow(self, true).instrument(span)
    }
}

impl CacheWorker for Worker {
    type Key = Key;

    fn driver(&mut self) -> &mut Driver<Key> {
        &mut self.driver
    }

    fn on_state(&mut self, state: ConnectionState) {
        match state {
            ConnectionState::Suspended => self.emit(TreeCacheEvent::ConnectionSuspended),
            ConnectionState::Lost => self.emit(TreeCacheEvent::ConnectionLost),
            ConnectionState::Reconnected => self.emit(TreeCacheEvent::ConnectionReconnected),
            ConnectionState::Connected | ConnectionState::ReadOnly => {}
        }
    }

    /// A data or children change re-reads just that; anything else (a deletion, a
    /// creation) re-reads the subtree.
    async fn on_watch(&mut self, key: Key, event: WatchedEvent) -> zk_core::Result<()> {
        let event_type = event.event_type;
        match key {
            Key::Data(path) if event_type == EventType::NodeDataChanged => {
                self.reload_data(&path).await
            }
            Key::Children(path) if event_type == EventType::NodeChildrenChanged => {
                self.reload_children(&path).await
            }
            Key::Data(path) | Key::Children(path) => self.sync(&path).await,
            Key::RootExists => {
                let root = self.shared.root.clone();
                self.sync(&root).await
            }
        }
    }

    /// Reads the whole subtree again and reports the differences.
    async fn full_refresh(&mut self) {
        let root = self.shared.root.clone();
        match self.sync(&root).await {
            Ok(()) => {
                self.driver.resync.done();
                if !self.initialized {
                    self.initialized = true;
                    self.emit(TreeCacheEvent::Initialized);
                }
            }
            Err(e) => {
                warn!(error = %e, "reading the tree failed; will try again");
                self.driver.resync.failed();
            }
        }
    }
}

impl Worker {
    /// Reads the subtree at `top` and makes the cache's copy of it equal to what was read.
    async fn sync(&mut self, top: &str) -> zk_core::Result<()> {
        let root = self.shared.root.clone();
        if !in_subtree(&root, top) || depth_below(&root, top) > self.shared.max_depth {
            return Ok(());
        }
        let parent_cached =
            top == root || parent(top).is_some_and(|p| lock(&self.shared.nodes).contains_key(p));
        if !parent_cached {
            // Whatever is there will be read with its parent, when that appears.
            self.apply(top, BTreeMap::new());
            return Ok(());
        }
        for _ in 0..ROOT_RACE_LIMIT {
            let fresh = self.walk(top).await?;
            if top == root && fresh.is_empty() && self.watch_root_creation().await? {
                continue; // created in between: read it
            }
            self.apply(top, fresh);
            return Ok(());
        }
        Ok(())
    }

    /// Reads every node at and below `top` (down to the depth limit), setting each
    /// watch that is not pending: level by level, each level's nodes read together
    /// (data and children) in a bounded window.
    async fn walk(&mut self, top: &str) -> zk_core::Result<BTreeMap<String, ChildData>> {
        let mut plan = TreePlan {
            root: &self.shared.root,
            max_depth: self.shared.max_depth,
            watches: &mut self.driver.watches,
        };
        walk_levels(
            &self.shared.client,
            top,
            &self.shared.reading,
            self.shared.cache_data,
            &mut plan,
        )
        .await
    }

    /// Reads one node's data and stat, with a data watch; `None` if it does not exist.
    async fn read_node(&mut self, path: &str) -> zk_core::Result<Option<ChildData>> {
        let key = Key::Data(path.to_string());
        let read = self
            .driver
            .watches
            .get_data(&self.shared.client, path, key)
            .await;
        match read {
            Ok((data, stat)) => {
                let data = self.shared.cache_data.then_some(data);
                Ok(Some(ChildData::new(path, stat, data)))
            }
            Err(e) if is_no_node(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads one node's children names, with a children watch; `None` if it does not exist.
    async fn read_children(&mut self, path: &str) -> zk_core::Result<Option<Vec<String>>> {
        let client = &self.shared.client;
        let key = Key::Children(path.to_string());
        let read = if self.driver.watches.is_live(&key) {
            client.get_children(path).await
        } else {
            match client.get_children(path).watched().await {
                Ok((names, _stat, watcher)) => {
                    self.driver.watches.add(key, watcher);
                    Ok(names)
                }
                Err(e) => Err(e),
            }
        };
        match read {
            Ok(names) => Ok(Some(names)),
            Err(e) if is_no_node(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Watches for the missing root to appear; true if it exists after all.
    async fn watch_root_creation(&mut self) -> zk_core::Result<bool> {
        let client = &self.shared.client;
        let root = self.shared.root.as_str();
        if self.driver.watches.is_live(&Key::RootExists) {
            return Ok(client.exists(root).await?.is_some());
        }
        let (stat, watcher) = client.exists(root).watched().await?;
        self.driver.watches.add(Key::RootExists, watcher);
        Ok(stat.is_some())
    }

    /// A data change: read just that node; a node that is gone or was replaced is
    /// handled as a change of its whole subtree.
    async fn reload_data(&mut self, path: &str) -> zk_core::Result<()> {
        let cached = lock(&self.shared.nodes).get(path).cloned();
        let Some(cached) = cached else {
            return self.sync(path).await;
        };
        match self.read_node(path).await? {
            Some(fresh) if cached.same_node(&fresh) => {
                let changes = put_fresh(&mut lock(&self.shared.nodes), fresh);
                self.emit_changes(changes);
                Ok(())
            }
            _ => self.sync(path).await,
        }
    }

    /// A children change: read the list; subtrees of children that left are removed,
    /// children that arrived are read with their subtrees.
    async fn reload_children(&mut self, path: &str) -> zk_core::Result<()> {
        if !lock(&self.shared.nodes).contains_key(path) {
            return self.sync(path).await;
        }
        let Some(names) = self.read_children(path).await? else {
            return self.sync(path).await;
        };
        let fresh: BTreeSet<String> = names.iter().map(|n| join(path, n)).collect();
        let cached: Vec<String> = subtree_keys(&lock(&self.shared.nodes), path)
            .into_iter()
            .filter(|p| p != "/" && parent(p) == Some(path))
            .collect();
        for gone in cached.iter().filter(|p| !fresh.contains(*p)) {
            self.apply(gone, BTreeMap::new());
        }
        for child in fresh {
            let known = lock(&self.shared.nodes).contains_key(&child);
            if !known {
                self.sync(&child).await?;
            }
        }
        Ok(())
    }

    /// Makes the cached subtree at `top` equal to `fresh` and reports the differences.
    fn apply(&mut self, top: &str, fresh: BTreeMap<String, ChildData>) {
        let changes = sync_subtree(&mut lock(&self.shared.nodes), top, fresh);
        self.emit_changes(changes);
    }

    fn emit_changes(&self, changes: Vec<Change>) {
        for change in changes {
            self.emit(match change {
                Change::Added(d) => TreeCacheEvent::NodeAdded(d),
                Change::Updated { new, .. } => TreeCacheEvent::NodeUpdated(new),
                Change::Removed(d) => TreeCacheEvent::NodeRemoved(d),
            });
        }
    }

    fn emit(&self, event: TreeCacheEvent) {
        self.shared.hub.emit(event);
    }
}

/// The tree cache's walk: data watches everywhere, children watches above the depth
/// limit, each only where none is pending.
struct TreePlan<'a> {
    root: &'a str,
    max_depth: usize,
    watches: &'a mut WatchSet<Key>,
}

impl WalkPlan for TreePlan<'_> {
    fn read(&self, path: &str) -> TreeRead {
        TreeRead {
            path: path.to_string(),
            data_watch: !self.watches.is_live(&Key::Data(path.to_string())),
            children: (depth_below(self.root, path) < self.max_depth)
                .then(|| !self.watches.is_live(&Key::Children(path.to_string()))),
        }
    }

    fn keep(&mut self, path: &str, on: WatchOn, watcher: Watcher) {
        let key = match on {
            WatchOn::Data => Key::Data(path.to_string()),
            WatchOn::Children => Key::Children(path.to_string()),
        };
        self.watches.add(key, watcher);
    }
}
