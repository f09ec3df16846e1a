//! The background task of a [`NodeCache`](super::NodeCache).

use std::sync::Arc;

use tracing::{Instrument, warn};
use zk_core::WatchedEvent;

use super::{NodeCacheEvent, Shared};
use crate::cache::ChildData;
use crate::cache::driver::{Driver, is_no_node};
use crate::cache::worker_loop::{CacheWorker, follow};
use crate::plumbing::lock;

/// How often in a row the node may appear and vanish between two reads before the
/// worker leaves it to the pending watch.
const RACE_LIMIT: usize = 3;

/// The one thing a node cache watches: the node (its data while it exists, its
/// creation while it does not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Node;

pub(super) struct Worker {
    shared: Arc<Shared>,
    driver: Driver<Node>,
    emitting: bool,
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        let driver = Driver::new(&shared.client);
        Worker {
            shared,
            driver,
            emitting: true,
        }
    }

    /// Reads the node without sending an event (`start(true)`).
    pub(super) async fn initial_build(&mut self) -> zk_core::Result<()> {
        self.emitting = false;
        let r = self.refresh().await;
        self.emitting = true;
        r
    }

    /// The task's body; `first_read` unless the node was read by `initial_build`.
    pub(super) fn run(self, first_read: bool) -> impl std::future::Future<Output = ()> + Send {
        let span = tracing::debug_span!("node_cache", path = %self.shared.path);
        follow(self, first_read).instrument(span)
    }
}

impl CacheWorker for Worker {
    type Key = Node;

    fn driver(&mut self) -> &mut Driver<Node> {
        &mut self.driver
    }

    // No `on_state`: a node cache sends no event for a connection state.

    /// Nothing per watch: the node is read once for all the watches that fired
    /// together, in [`CacheWorker::after_watches`].
    async fn on_watch(&mut self, _key: Node, _event: WatchedEvent) -> zk_core::Result<()> {
        Ok(())
    }

    async fn after_watches(&mut self, answered: usize) {
        if answered > 0
            && let Err(e) = self.refresh().await
        {
            warn!(error = %e, "reading the node failed; will try again");
            self.driver.resync.failed();
        }
    }

    async fn full_refresh(&mut self) {
        match self.refresh().await {
            Ok(()) => self.driver.resync.done(),
            Err(e) => {
                warn!(error = %e, "reading the node failed; will try again");
                self.driver.resync.failed();
            }
        }
    }
}

impl Worker {
    /// Reads the node (setting a watch unless one is pending) and reports a change.
    async fn refresh(&mut self) -> zk_core::Result<()> {
        let client = self.shared.client.clone();
        let path = self.shared.path.as_str();
        for _ in 0..RACE_LIMIT {
            match self.driver.watches.get_data(&client, path, Node).await {
                Ok((data, stat)) => {
                    self.set(Some(ChildData::new(path, stat, Some(data))));
                    return Ok(());
                }
                Err(e) if is_no_node(&e) => {
                    let exists = if self.driver.watches.is_live(&Node) {
                        client.exists(path).await?
                    } else {
                        let (stat, watcher) = client.exists(path).watched().await?;
                        self.driver.watches.add(Node, watcher);
                        stat
                    };
                    if exists.is_none() {
                        self.set(None);
                        return Ok(());
                    }
                    // Created in between: read it.
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn set(&self, now: Option<ChildData>) {
        let changed = {
            let mut current = lock(&self.shared.current);
            let changed = match (current.as_ref(), now.as_ref()) {
                (None, None) => false,
                (Some(old), Some(new)) => !old.same_node(new) || old.data_changed(new),
                _ => true,
            };
            *current = now.clone();
            changed
        };
        if changed && self.emitting {
            self.shared.hub.emit(NodeCacheEvent::Changed(now));
        }
    }
}
