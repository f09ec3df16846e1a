//! What the loop shared by the watch-based caches ([`super::worker_loop`]) waits on:
//! the next thing to do (a connection state, a fired watch, a due retry), with the
//! bookkeeping every one of them needs (whether the connection is up, whether a full
//! re-read is owed).

use futures::StreamExt;
use tracing::debug;
use zk_core::{Client, Code, ConnectionState, ConnectionStates, WatchedEvent};

use super::resync::Resync;
use super::watch_set::{Fired, WatchSet};

/// Whether `e` says the node does not exist.
pub(crate) fn is_no_node(e: &zk_core::Error) -> bool {
    e.code() == Some(Code::NoNode)
}

/// The next thing a cache's task has to handle.
#[derive(Debug)]
pub(crate) enum Step<K> {
    /// The client was closed: there is nothing more to follow.
    ClientClosed,
    /// The client's connection state changed.
    State(ConnectionState),
    /// A watch resolved.
    Watch(Fired<K>),
    /// A failed re-read is due to be tried again.
    Retry,
}

/// Connection states, watches and the re-read schedule of one cache task.
#[derive(Debug)]
pub(crate) struct Driver<K> {
    client: Client,
    states: ConnectionStates,
    pub watches: WatchSet<K>,
    pub resync: Resync,
    /// False from SUSPENDED or LOST until the connection is back: watches that fire
    /// meanwhile are answered after the reconnect, so that the differences come after
    /// the reconnect's event.
    connected: bool,
    /// Watch events still to answer: those that fired while the connection was down,
    /// and those whose answer failed (tried again after a pause, or at once on
    /// RECONNECTED).
    deferred: Vec<(K, WatchedEvent)>,
}

impl<K: Eq + std::hash::Hash + Clone + Send + std::fmt::Debug + 'static> Driver<K> {
    /// Subscribes to `client`'s states (and keeps the client, to ask whether it is
    /// connected); call it before the first read so that no state change after that
    /// read is missed.
    pub(super) fn new(client: &Client) -> Self {
        let connected = !matches!(
            client.state(),
            Some(ConnectionState::Suspended | ConnectionState::Lost)
        );
        Driver {
            client: client.clone(),
            states: client.connection_states(),
            watches: WatchSet::new(),
            resync: Resync::new(),
            connected,
            deferred: Vec::new(),
        }
    }

    /// Waits for the next step; connection states come first when several are ready.
    pub(super) async fn next(&mut self) -> Step<K> {
        tokio::select! {
            biased;
            s = self.states.next() => match s {
                Some(s) => Step::State(s),
                None => Step::ClientClosed,
            },
            fired = self.watches.next() => Step::Watch(fired),
            () = self.resync.due() => {
                self.resync.take_due();
                Step::Retry
            }
        }
    }

    /// A watch that already resolved, to handle in the same turn.
    pub(super) fn ready(&mut self) -> Option<Fired<K>> {
        self.watches.ready()
    }

    /// What every cache does on a state change: SUSPENDED and LOST mark the
    /// connection down; LOST also forgets the lost session's watches and owes a full
    /// re-read.
    ///
    /// RECONNECTED owes nothing more: on the same session the server has the
    /// cache's watches again (the client re-sets them, SetWatches) and fires each one
    /// whose node changed while the client was away, so the cache answers just
    /// those, as it answers any watch. Only what fired or failed meanwhile is
    /// answered then (see [`Driver::defer`]). After a new session, LOST came first.
    pub(super) fn note_state(&mut self, state: ConnectionState) {
        match state {
            ConnectionState::Suspended => self.connected = false,
            ConnectionState::Lost => {
                self.connected = false;
                self.watches.forget_all();
                self.deferred.clear();
                self.resync.mark();
            }
            ConnectionState::Reconnected => {
                self.connected = true;
                // Whatever waited for a pause is tried now.
                self.resync.take_due();
            }
            ConnectionState::Connected | ConnectionState::ReadOnly => self.connected = true,
        }
    }

    /// Keeps a watch event to answer later: once connected again, or after a pause
    /// if `failed` (its answer could not be read).
    pub(super) fn defer(&mut self, key: K, event: WatchedEvent, failed: bool) {
        self.deferred.push((key, event));
        if failed {
            self.resync.pause();
        }
    }

    /// The deferred watch events, if they can be answered now (connected, no pause
    /// pending, and no full re-read owed, which covers them).
    pub(super) fn take_deferred(&mut self) -> Vec<(K, WatchedEvent)> {
        if self.resync.is_needed() {
            self.deferred.clear();
            return Vec::new();
        }
        if self.deferred.is_empty()
            || !self.connected
            || !self.client.is_connected()
            || self.resync.is_paused()
        {
            return Vec::new();
        }
        std::mem::take(&mut self.deferred)
    }

    /// The event of a fired watch if the cache should read now; `None` when it is
    /// left for later (the connection is down) or to a full re-read (the watch's
    /// session ended).
    pub(super) fn take_event(&mut self, fired: Fired<K>) -> Option<(K, WatchedEvent)> {
        let Fired {
            key,
            result,
            superseded,
        } = fired;
        match result {
            Ok(event) if self.connected => {
                debug!(?key, event_type = ?event.event_type, "watch fired");
                Some((key, event))
            }
            Ok(event) => {
                self.defer(key, event, false);
                None
            }
            // Already replaced by a watch on the new session: nothing was missed.
            Err(_) if superseded => None,
            Err(e) => {
                debug!(?key, error = %e, "watch ended with its session");
                self.resync.mark();
                None
            }
        }
    }

    /// Whether a full re-read is owed and can be made now.
    pub(super) fn should_resync(&self) -> bool {
        self.resync.is_needed() && self.connected && self.client.is_connected()
    }
}
