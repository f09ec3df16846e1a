//! The background task of a [`CuratorCache`](super::CuratorCache): it follows the
//! persistent watch's stream and the client's connection states.
//!
//! Its loop is its own, not [`worker_loop`](crate::cache::worker_loop)'s: it holds
//! one stream rather than a set of one-shot keyed watches, handles one event per step
//! (so a connection state or an owed re-read can come between two events), drops the
//! stream on LOST, and sets it again in the re-read.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use tracing::{Instrument, debug, warn};
use zk_core::framework::{WatchStream, Watcher};
use zk_core::{AddWatchMode, ConnectionState, ConnectionStates, EventType, WatchedEvent};

use super::{CuratorCacheEvent, Shared};
use crate::cache::ChildData;
use crate::cache::bulk_read::{TreeRead, WalkPlan, WatchOn, walk_levels};
use crate::cache::child_data::{Change, in_subtree, put_fresh, sync_subtree};
use crate::cache::driver::is_no_node;
use crate::cache::resync::Resync;
use crate::plumbing::lock;

enum Step {
    ClientClosed,
    State(ConnectionState),
    /// The watch reported an event, or (`None`) ended with its session.
    Watch(Option<WatchedEvent>),
    Retry,
}

pub(super) struct Worker {
    shared: Arc<Shared>,
    states: ConnectionStates,
    /// The persistent watch, while it lasts.
    watch: Option<WatchStream>,
    resync: Resync,
    /// False from SUSPENDED or LOST until the connection is back.
    connected: bool,
    initialized: bool,
}

/// The next event of the watch, or `None` once it ended; never resolves without a watch.
async fn next_event(watch: &mut Option<WatchStream>) -> Option<WatchedEvent> {
    let Some(stream) = watch.as_mut() else {
        return std::future::pending().await;
    };
    match stream.next().await {
        Some(Ok(event)) => Some(event),
        Some(Err(e)) => {
            debug!(error = %e, "persistent watch ended with its session");
            None
        }
        None => None,
    }
}

impl Worker {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        // Subscribed before the watch is set, so no state change after it is missed.
        let states = shared.client.connection_states();
        let connected = !matches!(
            shared.client.state(),
            Some(ConnectionState::Suspended | ConnectionState::Lost)
        );
        Worker {
            shared,
            states,
            watch: None,
            resync: Resync::new(),
            connected,
            initialized: false,
        }
    }

    /// Sets the persistent watch on the root, unless it is still set.
    pub(super) async fn set_watch(&mut self) -> zk_core::Result<()> {
        if self.watch.is_none() {
            let mode = if self.shared.single_node {
                AddWatchMode::Persistent
            } else {
                AddWatchMode::PersistentRecursive
            };
            self.watch = Some(self.shared.client.watch(&self.shared.root, mode).await?);
        }
        Ok(())
    }

    pub(super) fn run(mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let span = tracing::debug_span!("curator_cache", path = %self.shared.root);
        async move {
            self.rebuild().await;
            loop {
                let step = tokio::select! {
                    biased;
                    s = self.states.next() => match s {
                        Some(s) => Step::State(s),
                        None => Step::ClientClosed,
                    },
                    ev = next_event(&mut self.watch) => Step::Watch(ev),
                    () = self.resync.due() => {
                        self.resync.take_due();
                        Step::Retry
                    }
                };
                match step {
                    Step::ClientClosed => {
                        debug!("client closed: the cache stops following it");
                        return;
                    }
                    Step::State(state) => self.on_state(state),
                    Step::Watch(None) => {
                        self.watch = None;
                        self.resync.mark();
                    }
                    Step::Watch(Some(event)) => self.on_event(event).await,
                    Step::Retry => {}
                }
                if self.resync.is_needed() && self.connected && self.shared.client.is_connected() {
                    self.rebuild().await;
                }
            }
        }
        .instrument(span)
    }

    fn on_state(&mut self, state: ConnectionState) {
        match state {
            ConnectionState::Suspended => self.connected = false,
            ConnectionState::Lost => {
                self.connected = false;
                // The watch went with the session; its stream ends shortly.
                self.watch = None;
                self.resync.mark();
            }
            ConnectionState::Reconnected => {
                self.connected = true;
                // Unlike one-shot watches, a persistent watch re-set on reconnection
                // (SetWatches) does not fire for what changed while the client was
                // away: the server only adds it back. So the tree is read again.
                self.resync.mark();
            }
            ConnectionState::Connected | ConnectionState::ReadOnly => self.connected = true,
        }
    }

    async fn on_event(&mut self, event: WatchedEvent) {
        if !self.connected {
            self.resync.mark();
            return;
        }
        let path = event.path;
        let r = match event.event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => self.node_changed(&path).await,
            EventType::NodeDeleted => {
                self.apply(&path, BTreeMap::new());
                Ok(())
            }
            // A persistent (non-recursive) watch also reports child-list changes; the
            // single-node cache does not keep children.
            _ => Ok(()),
        };
        if let Err(e) = r {
            warn!(error = %e, "reading after a watch event failed; the cache will be re-read");
            self.resync.failed();
        }
    }

    /// Sets the watch again if it ended, walks the subtree and reports the differences.
    async fn rebuild(&mut self) {
        let r = async {
            self.set_watch().await?;
            let root = self.shared.root.clone();
            let fresh = self.walk(&root).await?;
            self.apply(&root, fresh);
            Ok::<_, zk_core::Error>(())
        }
        .await;
        match r {
            Ok(()) => {
                self.resync.done();
                if !self.initialized {
                    self.initialized = true;
                    self.shared.hub.emit(CuratorCacheEvent::Initialized);
                }
            }
            Err(e) => {
                warn!(error = %e, "loading the tree failed; will try again");
                self.resync.failed();
            }
        }
    }

    /// A node was created or its data changed: read it. A node the cache did not
    /// hold, or that was replaced, is read with its subtree.
    async fn node_changed(&mut self, path: &str) -> zk_core::Result<()> {
        if !in_subtree(&self.shared.root, path) {
            return Ok(());
        }
        let cached = lock(&self.shared.nodes).get(path).cloned();
        match (cached, self.read_node(path).await?) {
            (Some(old), Some(fresh)) if old.same_node(&fresh) => {
                let changes = put_fresh(&mut lock(&self.shared.nodes), fresh);
                self.emit_changes(changes);
                Ok(())
            }
            (None, None) => Ok(()),
            _ => {
                let fresh = self.walk(path).await?;
                self.apply(path, fresh);
                Ok(())
            }
        }
    }

    /// Reads every node at and below `top` (only `top` for a single-node cache),
    /// level by level, each level's reads together in a bounded window. No watches:
    /// the persistent one covers the tree.
    async fn walk(&self, top: &str) -> zk_core::Result<BTreeMap<String, ChildData>> {
        let mut plan = Unwatched {
            single_node: self.shared.single_node,
        };
        walk_levels(
            &self.shared.client,
            top,
            &self.shared.reading,
            true,
            &mut plan,
        )
        .await
    }

    async fn read_node(&self, path: &str) -> zk_core::Result<Option<ChildData>> {
        match self.shared.client.get_data(path).await {
            Ok((data, stat)) => Ok(Some(ChildData::new(path, stat, Some(data)))),
            Err(e) if is_no_node(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn apply(&mut self, top: &str, fresh: BTreeMap<String, ChildData>) {
        if !in_subtree(&self.shared.root, top) {
            return;
        }
        let changes = sync_subtree(&mut lock(&self.shared.nodes), top, fresh);
        self.emit_changes(changes);
    }

    fn emit_changes(&self, changes: Vec<Change>) {
        for change in changes {
            self.shared.hub.emit(match change {
                Change::Added(d) => CuratorCacheEvent::Created(d),
                Change::Updated { old, new } => CuratorCacheEvent::Changed { old, new },
                Change::Removed(d) => CuratorCacheEvent::Deleted(d),
            });
        }
    }
}

/// The persistent-watch cache's walk: data and children, no watches.
struct Unwatched {
    single_node: bool,
}

impl WalkPlan for Unwatched {
    fn read(&self, path: &str) -> TreeRead {
        TreeRead {
            path: path.to_string(),
            data_watch: false,
            children: (!self.single_node).then_some(false),
        }
    }

    fn keep(&mut self, _path: &str, _on: WatchOn, _watcher: Watcher) {}
}
