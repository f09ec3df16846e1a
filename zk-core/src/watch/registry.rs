//! The client-side table of live watches, owned by the session task.
//!
//! One-shot watches are kept per path in three tables (data, exists, children), as
//! the Java client does; several waiters on the same path and kind share one
//! server-side watch. Persistent and recursive watches are kept per path as stream
//! sinks. The table decides who gets a notification, lists what to re-register after
//! a reconnect, and ends every watch when the session ends.
//!
//! A watch whose receiver was dropped stays in the table until the session task
//! hears of the drop ([`WatchRegistry::forget_dropped`]); the task then removes the
//! server's watch too, once no local watch on that path needs it. The server keeps
//! one watch per path and session in each of its two tables (data and child), so
//! that is the unit the table answers for: see [`ServerTables`].

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use crate::proto::{EventType, KeeperState, WatcherType};
use crate::watch::WatchedEvent;

/// Which one-shot table a registration goes to, decided by the operation that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchKind {
    /// getData: fires on data change or deletion.
    Data,
    /// exists: a data watch if the node exists, an exist watch if not.
    Exists,
    /// getChildren: fires on a child change or deletion.
    Child,
    /// addWatch(Persistent).
    Persistent,
    /// addWatch(PersistentRecursive).
    PersistentRecursive,
}

impl WatchKind {
    /// The server tables a watch of this kind lives in: exists watches are data
    /// watches on the server; persistent and recursive watches are in both tables
    /// on 3.6 to 3.8 servers (DataTree.addWatch; 3.9 keeps a recursive one in the
    /// data table only, where a removal of its child half finds nothing, which is
    /// harmless).
    pub(crate) fn server_tables(self) -> ServerTables {
        match self {
            WatchKind::Data | WatchKind::Exists => ServerTables::DATA,
            WatchKind::Child => ServerTables::CHILD,
            WatchKind::Persistent | WatchKind::PersistentRecursive => ServerTables::BOTH,
        }
    }
}

/// Which of the server's two watch tables hold (or need) a session's watch on one
/// path: the data table (data, exist, persistent and recursive watches) and the
/// child table (child, persistent and, before 3.9, recursive watches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ServerTables {
    /// The server's data table.
    pub data: bool,
    /// The server's child table.
    pub child: bool,
}

impl ServerTables {
    /// Neither table.
    pub(crate) const NONE: ServerTables = ServerTables {
        data: false,
        child: false,
    };
    /// The data table only.
    pub(crate) const DATA: ServerTables = ServerTables {
        data: true,
        child: false,
    };
    /// The child table only.
    pub(crate) const CHILD: ServerTables = ServerTables {
        data: false,
        child: true,
    };
    /// Both tables.
    pub(crate) const BOTH: ServerTables = ServerTables {
        data: true,
        child: true,
    };

    /// The tables in `self` and not in `other`.
    pub(crate) fn without(self, other: ServerTables) -> ServerTables {
        ServerTables {
            data: self.data && !other.data,
            child: self.child && !other.child,
        }
    }

    /// The removeWatches type that removes exactly these tables' watches on a
    /// ZooKeeper 3.6+ server, if any: Data (2), Children (1), or Any (3) for both.
    /// Any is also how a persistent watch goes: a 3.6 to 3.8 server knows no
    /// narrower type for it (DataTree.removeWatch).
    pub(crate) fn removal_type(self) -> Option<WatcherType> {
        match (self.data, self.child) {
            (true, true) => Some(WatcherType::Any),
            (true, false) => Some(WatcherType::Data),
            (false, true) => Some(WatcherType::Children),
            (false, false) => None,
        }
    }
}

/// How many paths each of a session's local watch tables holds, as
/// [`Session::watch_counts`](crate::Session::watch_counts) reports them. Dropped
/// watches the session task has not yet heard of are still counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WatchCounts {
    /// Paths with a data watch (getData, or exists on a node that exists).
    pub data: usize,
    /// Paths with an exist watch (exists on a node that does not exist).
    pub exist: usize,
    /// Paths with a child watch.
    pub child: usize,
    /// Paths with a persistent watch.
    pub persistent: usize,
    /// Paths with a persistent recursive watch.
    pub recursive: usize,
}

impl WatchCounts {
    /// Every path of every table, added up (a path watched two ways counts twice).
    pub fn total(&self) -> usize {
        self.data + self.exist + self.child + self.persistent + self.recursive
    }
}

/// Where a watch's events go.
#[derive(Debug)]
pub(crate) enum WatchSink {
    /// A one-shot watch: one event, then done.
    Once(oneshot::Sender<WatchedEvent>),
    /// A persistent watch: events until removed or the session ends.
    Stream(mpsc::UnboundedSender<WatchedEvent>),
}

impl WatchSink {
    /// Whether the receiver is gone.
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            WatchSink::Once(tx) => tx.is_closed(),
            WatchSink::Stream(tx) => tx.is_closed(),
        }
    }
}

/// A watch to add once its operation's reply says the server set it.
#[derive(Debug)]
pub(crate) struct WatchRegistration {
    pub kind: WatchKind,
    /// The client path (chroot removed).
    pub path: String,
    pub sink: WatchSink,
}

type OnceSender = oneshot::Sender<WatchedEvent>;
type Once = Vec<OnceSender>;
type Streams = Vec<mpsc::UnboundedSender<WatchedEvent>>;

/// The paths to send in SetWatches/SetWatches2 after a reconnect (client paths).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct WatchPaths {
    pub data: Vec<String>,
    pub exist: Vec<String>,
    pub child: Vec<String>,
    pub persistent: Vec<String>,
    pub recursive: Vec<String>,
}

impl WatchPaths {
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }
}

/// All live watches of one session.
#[derive(Debug, Default)]
pub(crate) struct WatchRegistry {
    data: HashMap<String, Once>,
    exist: HashMap<String, Once>,
    child: HashMap<String, Once>,
    persistent: HashMap<String, Streams>,
    recursive: HashMap<String, Streams>,
}

impl WatchRegistry {
    /// Adds a watch after its operation succeeded, or (for exists) found no node.
    /// `node_exists` is false only for an exists call answered with NoNode.
    pub(crate) fn register(&mut self, reg: WatchRegistration, node_exists: bool) {
        let WatchRegistration { kind, path, sink } = reg;
        // A one-shot watch whose receiver was dropped is forgotten when another is added
        // on its path, so a caller that re-watches one path in a loop (an election
        // waiter, a cache) keeps one entry per live receiver, not one per turn.
        fn add_once(table: &mut HashMap<String, Once>, path: String, tx: OnceSender) {
            let sinks = table.entry(path).or_default();
            sinks.retain(|s| !s.is_closed());
            sinks.push(tx);
        }
        match (kind, sink) {
            (WatchKind::Data, WatchSink::Once(tx)) => add_once(&mut self.data, path, tx),
            (WatchKind::Exists, WatchSink::Once(tx)) if node_exists => {
                add_once(&mut self.data, path, tx);
            }
            (WatchKind::Exists, WatchSink::Once(tx)) => add_once(&mut self.exist, path, tx),
            (WatchKind::Child, WatchSink::Once(tx)) => add_once(&mut self.child, path, tx),
            (WatchKind::Persistent, WatchSink::Stream(tx)) => {
                self.persistent.entry(path).or_default().push(tx)
            }
            (WatchKind::PersistentRecursive, WatchSink::Stream(tx)) => {
                self.recursive.entry(path).or_default().push(tx)
            }
            (kind, sink) => {
                // Registrations are built by this crate with matching kinds and sinks.
                tracing::error!(
                    ?kind,
                    ?sink,
                    "watch registration with mismatched sink dropped"
                );
            }
        }
    }

    /// Delivers a notification for `path` (client path) to every watch it triggers.
    pub(crate) fn dispatch(&mut self, event_type: EventType, state: KeeperState, path: &str) {
        let event = WatchedEvent {
            event_type,
            keeper_state: state,
            path: path.to_string(),
        };
        let fire = |table: &mut HashMap<String, Once>| {
            if let Some(waiters) = table.remove(path) {
                for tx in waiters {
                    let _ = tx.send(event.clone());
                }
            }
        };
        match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                fire(&mut self.data);
                fire(&mut self.exist);
            }
            EventType::NodeDeleted => {
                fire(&mut self.data);
                fire(&mut self.exist);
                fire(&mut self.child);
            }
            EventType::NodeChildrenChanged => fire(&mut self.child),
            _ => {}
        }
        send_streams(&self.persistent, path, &event);
        // Recursive watches see every event below them except child changes,
        // which the server does not send for them.
        if event_type != EventType::NodeChildrenChanged {
            let mut at = Some(path);
            while let Some(p) = at {
                send_streams(&self.recursive, p, &event);
                at = crate::proto::path::parent(p);
            }
        }
    }

    /// Removes local watches for `path` of the given kinds; used by removeWatches.
    /// Each removed one-shot watch gets `event_type` (DataWatchRemoved/ChildWatchRemoved).
    pub(crate) fn remove(&mut self, path: &str, data: bool, child: bool, persistent: bool) {
        let state = KeeperState::SyncConnected;
        let end = |tx: oneshot::Sender<WatchedEvent>, t: EventType| {
            let _ = tx.send(WatchedEvent {
                event_type: t,
                keeper_state: state,
                path: path.into(),
            });
        };
        if data {
            for tx in self
                .data
                .remove(path)
                .into_iter()
                .chain(self.exist.remove(path))
                .flatten()
            {
                end(tx, EventType::DataWatchRemoved);
            }
        }
        if child {
            for tx in self.child.remove(path).into_iter().flatten() {
                end(tx, EventType::ChildWatchRemoved);
            }
        }
        if persistent {
            let ev = WatchedEvent {
                event_type: EventType::PersistentWatchRemoved,
                keeper_state: state,
                path: path.into(),
            };
            for tx in self
                .persistent
                .remove(path)
                .into_iter()
                .chain(self.recursive.remove(path))
                .flatten()
            {
                let _ = tx.send(ev.clone());
            }
        }
    }

    /// Which server tables this session's local watches on `path` occupy, dropped
    /// ones the task has not yet forgotten included.
    pub(crate) fn server_tables(&self, path: &str) -> ServerTables {
        ServerTables {
            data: self.data.contains_key(path)
                || self.exist.contains_key(path)
                || self.persistent.contains_key(path)
                || self.recursive.contains_key(path),
            child: self.child.contains_key(path)
                || self.persistent.contains_key(path)
                || self.recursive.contains_key(path),
        }
    }

    /// Forgets the watches on `path` whose receiver was dropped, and returns the
    /// server tables that held a watch for `path` before and hold none now: the
    /// server's watches there are no longer needed by any local watch.
    pub(crate) fn forget_dropped(&mut self, path: &str) -> ServerTables {
        fn prune<T>(table: &mut HashMap<String, Vec<T>>, path: &str, closed: impl Fn(&T) -> bool) {
            if let Some(sinks) = table.get_mut(path) {
                sinks.retain(|s| !closed(s));
                if sinks.is_empty() {
                    table.remove(path);
                }
            }
        }
        let before = self.server_tables(path);
        prune(&mut self.data, path, OnceSender::is_closed);
        prune(&mut self.exist, path, OnceSender::is_closed);
        prune(&mut self.child, path, OnceSender::is_closed);
        prune(&mut self.persistent, path, mpsc::UnboundedSender::is_closed);
        prune(&mut self.recursive, path, mpsc::UnboundedSender::is_closed);
        before.without(self.server_tables(path))
    }

    /// How many paths each table holds.
    pub(crate) fn counts(&self) -> WatchCounts {
        WatchCounts {
            data: self.data.len(),
            exist: self.exist.len(),
            child: self.child.len(),
            persistent: self.persistent.len(),
            recursive: self.recursive.len(),
        }
    }

    /// The watches still wanted, for re-registration after a reconnect. Watches
    /// whose receiver was dropped are forgotten here rather than re-registered.
    pub(crate) fn live_paths(&mut self) -> WatchPaths {
        fn once(t: &mut HashMap<String, Once>) -> Vec<String> {
            t.retain(|_, v| {
                v.retain(|tx| !tx.is_closed());
                !v.is_empty()
            });
            t.keys().cloned().collect()
        }
        fn streams(t: &mut HashMap<String, Streams>) -> Vec<String> {
            t.retain(|_, v| {
                v.retain(|tx| !tx.is_closed());
                !v.is_empty()
            });
            t.keys().cloned().collect()
        }
        WatchPaths {
            data: once(&mut self.data),
            exist: once(&mut self.exist),
            child: once(&mut self.child),
            persistent: streams(&mut self.persistent),
            recursive: streams(&mut self.recursive),
        }
    }

    /// Ends every watch with a session-level event (`Expired`, `Closed` or `AuthFailed`).
    pub(crate) fn end_all(&mut self, state: KeeperState) {
        for table in [&mut self.data, &mut self.exist, &mut self.child] {
            for (path, waiters) in table.drain() {
                for tx in waiters {
                    let _ = tx.send(WatchedEvent::session_end(state, &path));
                }
            }
        }
        for table in [&mut self.persistent, &mut self.recursive] {
            for (path, sinks) in table.drain() {
                for tx in sinks {
                    let _ = tx.send(WatchedEvent::session_end(state, &path));
                }
            }
        }
    }
}

/// Sends `event` to every stream on `path`. A stream whose receiver is gone stays
/// until the task forgets it ([`WatchRegistry::forget_dropped`]), which also removes
/// its watch on the server; dropping it here would leave that watch behind.
fn send_streams(table: &HashMap<String, Streams>, path: &str, event: &WatchedEvent) {
    for tx in table.get(path).into_iter().flatten() {
        let _ = tx.send(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn once(
        reg: &mut WatchRegistry,
        kind: WatchKind,
        path: &str,
        exists: bool,
    ) -> oneshot::Receiver<WatchedEvent> {
        let (tx, rx) = oneshot::channel();
        reg.register(
            WatchRegistration {
                kind,
                path: path.into(),
                sink: WatchSink::Once(tx),
            },
            exists,
        );
        rx
    }

    fn stream(
        reg: &mut WatchRegistry,
        kind: WatchKind,
        path: &str,
    ) -> mpsc::UnboundedReceiver<WatchedEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        reg.register(
            WatchRegistration {
                kind,
                path: path.into(),
                sink: WatchSink::Stream(tx),
            },
            true,
        );
        rx
    }

    #[test]
    fn data_change_fires_data_and_exist_watches_but_not_child_watches() {
        let mut reg = WatchRegistry::default();
        let mut data = once(&mut reg, WatchKind::Data, "/a", true);
        let mut exist = once(&mut reg, WatchKind::Exists, "/a", false);
        let mut child = once(&mut reg, WatchKind::Child, "/a", true);
        reg.dispatch(EventType::NodeDataChanged, KeeperState::SyncConnected, "/a");
        assert_eq!(
            data.try_recv().unwrap().event_type,
            EventType::NodeDataChanged
        );
        assert_eq!(exist.try_recv().unwrap().path, "/a");
        assert!(child.try_recv().is_err());
        // One-shot: fired watches are gone; the child watch is still live.
        let live = reg.live_paths();
        assert_eq!(
            live,
            WatchPaths {
                child: vec!["/a".into()],
                ..Default::default()
            }
        );
    }

    #[test]
    fn two_waiters_on_one_path_share_one_registration() {
        let mut reg = WatchRegistry::default();
        let mut a = once(&mut reg, WatchKind::Data, "/x", true);
        let mut b = once(&mut reg, WatchKind::Data, "/x", true);
        assert_eq!(reg.live_paths().data, vec!["/x".to_string()]);
        reg.dispatch(EventType::NodeDeleted, KeeperState::SyncConnected, "/x");
        assert!(a.try_recv().is_ok() && b.try_recv().is_ok());
    }

    #[test]
    fn recursive_watch_sees_descendants_except_child_changes() {
        let mut reg = WatchRegistry::default();
        let mut rec = stream(&mut reg, WatchKind::PersistentRecursive, "/a");
        let mut per = stream(&mut reg, WatchKind::Persistent, "/a/b");
        reg.dispatch(EventType::NodeCreated, KeeperState::SyncConnected, "/a/b/c");
        reg.dispatch(
            EventType::NodeChildrenChanged,
            KeeperState::SyncConnected,
            "/a/b",
        );
        reg.dispatch(
            EventType::NodeDataChanged,
            KeeperState::SyncConnected,
            "/ab",
        );
        assert_eq!(rec.try_recv().unwrap().path, "/a/b/c");
        assert!(rec.try_recv().is_err());
        assert_eq!(
            per.try_recv().unwrap().event_type,
            EventType::NodeChildrenChanged
        );
        assert!(per.try_recv().is_err());
    }

    #[test]
    fn dropped_receivers_are_not_reregistered() {
        let mut reg = WatchRegistry::default();
        drop(once(&mut reg, WatchKind::Data, "/gone", true));
        let _kept = once(&mut reg, WatchKind::Child, "/kept", true);
        assert_eq!(
            reg.live_paths(),
            WatchPaths {
                child: vec!["/kept".into()],
                ..Default::default()
            }
        );
    }

    #[test]
    fn session_end_reaches_every_watch() {
        let mut reg = WatchRegistry::default();
        let mut d = once(&mut reg, WatchKind::Data, "/a", true);
        let mut s = stream(&mut reg, WatchKind::PersistentRecursive, "/");
        reg.end_all(KeeperState::Expired);
        assert!(d.try_recv().unwrap().is_session_end());
        assert!(s.try_recv().unwrap().is_session_end());
        assert!(reg.live_paths().is_empty());
    }

    #[test]
    fn rewatching_a_path_keeps_one_entry_per_live_receiver() {
        let mut reg = WatchRegistry::default();
        for _ in 0..100 {
            drop(once(&mut reg, WatchKind::Data, "/a", true));
        }
        let live = once(&mut reg, WatchKind::Data, "/a", true);
        assert_eq!(reg.data.get("/a").map(Vec::len), Some(1));
        reg.dispatch(EventType::NodeDataChanged, KeeperState::SyncConnected, "/a");
        assert!(live.blocking_recv().is_ok(), "the live watch still fires");
    }

    #[test]
    fn the_last_dropped_watch_on_a_path_frees_its_server_table() {
        let mut reg = WatchRegistry::default();
        let a = once(&mut reg, WatchKind::Data, "/x", true);
        let b = once(&mut reg, WatchKind::Data, "/x", true);
        drop(a);
        assert_eq!(
            reg.forget_dropped("/x"),
            ServerTables::NONE,
            "b still needs it"
        );
        assert_eq!(reg.counts().data, 1);
        drop(b);
        assert_eq!(reg.forget_dropped("/x"), ServerTables::DATA);
        assert_eq!(reg.counts(), WatchCounts::default());
        assert_eq!(
            reg.forget_dropped("/x"),
            ServerTables::NONE,
            "a second notice of the same drop removes nothing"
        );
    }

    #[test]
    fn exist_watches_are_data_watches_on_the_server() {
        let mut reg = WatchRegistry::default();
        drop(once(&mut reg, WatchKind::Exists, "/missing", false));
        assert_eq!(reg.counts().exist, 1);
        let freed = reg.forget_dropped("/missing");
        assert_eq!(freed.removal_type(), Some(WatcherType::Data));
    }

    #[test]
    fn a_dropped_watch_keeps_a_table_another_kind_still_needs() {
        let mut reg = WatchRegistry::default();
        let _child = once(&mut reg, WatchKind::Child, "/p", true);
        drop(stream(&mut reg, WatchKind::Persistent, "/p"));
        // The persistent watch held both tables; the child watch keeps one.
        let freed = reg.forget_dropped("/p");
        assert_eq!(freed.removal_type(), Some(WatcherType::Data));
        let _data = once(&mut reg, WatchKind::Data, "/q", true);
        drop(stream(&mut reg, WatchKind::PersistentRecursive, "/q"));
        assert_eq!(reg.forget_dropped("/q"), ServerTables::CHILD);
        drop(stream(&mut reg, WatchKind::Persistent, "/r"));
        assert_eq!(
            reg.forget_dropped("/r").removal_type(),
            Some(WatcherType::Any)
        );
    }

    #[test]
    fn a_dropped_stream_stays_until_it_is_forgotten() {
        let mut reg = WatchRegistry::default();
        drop(stream(&mut reg, WatchKind::PersistentRecursive, "/a"));
        reg.dispatch(EventType::NodeCreated, KeeperState::SyncConnected, "/a/b");
        assert_eq!(reg.counts().recursive, 1, "an event does not forget it");
        assert_eq!(reg.forget_dropped("/a"), ServerTables::BOTH);
    }

    #[test]
    fn a_fired_watch_leaves_nothing_to_remove() {
        let mut reg = WatchRegistry::default();
        let rx = once(&mut reg, WatchKind::Child, "/c", true);
        reg.dispatch(
            EventType::NodeChildrenChanged,
            KeeperState::SyncConnected,
            "/c",
        );
        drop(rx);
        assert_eq!(reg.forget_dropped("/c"), ServerTables::NONE);
    }
}
