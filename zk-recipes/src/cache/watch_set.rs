//! The one-shot watches a cache holds, polled together.
//!
//! A cache must hold exactly one pending watch per thing it watches: none, and it
//! misses changes; several, and every change is read several times. The set keeps,
//! per key, the id of the watch that is still pending; a cache asks [`WatchSet::is_live`]
//! before a read to decide whether the read must set a new watch. A watch from an
//! earlier session that resolves late (with the session's end) does not clear the
//! entry of the watch that replaced it.

use std::collections::HashMap;
use std::hash::Hash;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use zk_core::framework::Watcher;
use zk_core::{Client, Stat, WatchedEvent};

/// A watch that resolved.
#[derive(Debug)]
pub(crate) struct Fired<K> {
    /// What it watched.
    pub key: K,
    /// The node event, or the end of the session that held the watch.
    pub result: zk_core::Result<WatchedEvent>,
    /// Whether a newer watch for the same key is pending (this one was set before
    /// the cache forgot its watches).
    pub superseded: bool,
}

type Pending<K> = BoxFuture<'static, (K, u64, zk_core::Result<WatchedEvent>)>;

/// Pending one-shot watches by key.
pub(crate) struct WatchSet<K> {
    live: HashMap<K, u64>,
    next_id: u64,
    pending: FuturesUnordered<Pending<K>>,
}

impl<K> std::fmt::Debug for WatchSet<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchSet")
            .field("live", &self.live.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl<K: Eq + Hash + Clone + Send + 'static> WatchSet<K> {
    pub(super) fn new() -> Self {
        WatchSet {
            live: HashMap::new(),
            next_id: 0,
            pending: FuturesUnordered::new(),
        }
    }

    /// Whether a watch for `key` is pending.
    pub(super) fn is_live(&self, key: &K) -> bool {
        self.live.contains_key(key)
    }

    /// Holds `watcher` as the pending watch for `key`.
    pub(super) fn add(&mut self, key: K, watcher: Watcher) {
        self.next_id += 1;
        let id = self.next_id;
        self.live.insert(key.clone(), id);
        self.pending
            .push(async move { (key, id, watcher.await) }.boxed());
    }

    /// Reads `path`'s data and stat, and sets a data watch on it held under `key`,
    /// unless a watch for `key` is already pending (a second one would report every
    /// change twice).
    pub(super) async fn get_data(
        &mut self,
        client: &Client,
        path: &str,
        key: K,
    ) -> zk_core::Result<(Bytes, Stat)> {
        if self.is_live(&key) {
            return client.get_data(path).await;
        }
        let (data, stat, watcher) = client.get_data(path).watched().await?;
        self.add(key, watcher);
        Ok((data, stat))
    }

    /// Forgets every pending watch: after the session that held them ended, none of
    /// them will report a change again, so the next reads must set new ones. The old
    /// watches still resolve (with the session's end) later.
    pub(super) fn forget_all(&mut self) {
        self.live.clear();
    }

    /// The next watch to resolve: a node event, or an error when its session ended.
    /// Never resolves while no watch is pending. Cancel-safe.
    pub(super) async fn next(&mut self) -> Fired<K> {
        loop {
            if self.pending.is_empty() {
                std::future::pending::<()>().await;
            }
            if let Some(done) = self.pending.next().await {
                return self.settle(done);
            }
        }
    }

    /// A watch that has already resolved, if any, without waiting.
    pub(super) fn ready(&mut self) -> Option<Fired<K>> {
        match self.pending.next().now_or_never() {
            Some(Some(done)) => Some(self.settle(done)),
            _ => None,
        }
    }

    fn settle(&mut self, (key, id, result): (K, u64, zk_core::Result<WatchedEvent>)) -> Fired<K> {
        let superseded = match self.live.get(&key) {
            Some(live) if *live == id => {
                self.live.remove(&key);
                false
            }
            Some(_) => true,
            None => false,
        };
        Fired {
            key,
            result,
            superseded,
        }
    }
}
