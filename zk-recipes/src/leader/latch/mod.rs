//! [`LeaderLatch`]: every participant holds a place in a queue of ephemeral
//! sequential nodes; the first one leads until it closes or loses its connection.
//! Compatible with Apache Curator's `LeaderLatch`: Java and Rust participants can
//! share one latch path.

mod election;
mod state;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::warn;
use zk_core::Client;
use zk_core::framework::ops::transaction::TransactionBuilder;
use zk_core::path::validate_path;

use crate::leader::error::{LeaderError, Result};
use crate::leader::events::LeadershipEvents;
use crate::leader::node_cleanup::{delete_after_drop, delete_at_close};
use crate::leader::participant::{Participant, read_leader, read_participants};
use crate::plumbing::FencingToken;
use crate::plumbing::{Phase, lock};
use state::Shared;

/// Whether closing a latch that leads tells its subscribers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloseMode {
    /// No event on close (Curator's default).
    #[default]
    Silent,
    /// A latch that leads sends [`LeadershipEvent::NotLeader`](crate::leader::LeadershipEvent::NotLeader) as it closes.
    NotifyLeader,
}

/// Leader election by latch, like Curator's `LeaderLatch`.
///
/// Each participant creates a protected ephemeral-sequential node
/// `<path>/_c_<uuid>-latch-<seq>` holding its id (UTF-8). Nodes are ordered by the
/// number after `latch-`; the first leads; every other one watches only the node
/// just before its own. Leadership is dropped at SUSPENDED (under the client's
/// standard error policy) and at LOST, and checked again at every reconnection;
/// before it leads, a participant checks that its node belongs to the current
/// session.
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::leader::LeaderError> {
/// use std::time::Duration;
/// use zk_recipes::leader::{LeaderLatch, LeadershipEvent};
/// use futures::StreamExt;
///
/// let latch = LeaderLatch::new(client, "/election/scheduler", "node-1");
/// let mut events = latch.events();
/// latch.start().await?;
/// if latch.await_leadership().timeout(Duration::from_secs(30)).await? {
///     let token = latch.fencing_token(); // hand it to what the leader writes to
/// #   let _ = token;
/// }
/// while let Some(event) = events.next().await {
///     match event {
///         LeadershipEvent::IsLeader(token) => { /* lead, fenced by token */ }
///         LeadershipEvent::NotLeader => { /* stop leading at once */ }
///     }
/// }
/// latch.close().await?;
/// # Ok(()) }
/// ```
///
/// Call [`close`](Self::close) when done: it leaves the election at once. Dropping
/// a started latch without closing it stops its tasks and deletes its node in a
/// short-lived task of its own (when a tokio runtime is running).
#[derive(Debug)]
pub struct LeaderLatch {
    shared: Arc<Shared>,
    close_mode: CloseMode,
    tasks: Mutex<Option<Tasks>>,
}

#[derive(Debug)]
struct Tasks {
    election: JoinHandle<()>,
    states: JoinHandle<()>,
}

impl LeaderLatch {
    /// A latch for participant `id` at election path `path`. Nothing happens
    /// until [`start`](Self::start).
    pub fn new(client: Client, path: impl Into<String>, id: impl Into<String>) -> Self {
        LeaderLatch {
            shared: Arc::new(Shared::new(client, path.into(), id.into())),
            close_mode: CloseMode::Silent,
            tasks: Mutex::new(None),
        }
    }

    /// The close mode used by [`close`](Self::close) (default [`CloseMode::Silent`]).
    pub fn with_close_mode(mut self, mode: CloseMode) -> Self {
        self.close_mode = mode;
        self
    }

    /// Joins the election: creates this participant's node and competes, in the
    /// background. Fails if the path is malformed or the latch was started before.
    pub async fn start(&self) -> Result<()> {
        validate_path(&self.shared.latch_path, false).map_err(zk_core::Error::from)?;
        self.shared.lifecycle.start()?;
        // Subscribe before anything runs, so no connection state is missed.
        let states = self.shared.client.connection_states();
        let tasks = Tasks {
            states: tokio::spawn(election::follow_states(self.shared.clone(), states)),
            election: tokio::spawn(election::run(self.shared.clone())),
        };
        *lock(&self.tasks) = Some(tasks);
        Ok(())
    }

    /// Whether this participant leads now: a local flag, no round trip.
    pub fn has_leadership(&self) -> bool {
        self.shared.lifecycle.is_started() && self.shared.is_leader()
    }

    /// The token of the leadership held now, if any.
    pub fn fencing_token(&self) -> Option<FencingToken> {
        if self.shared.lifecycle.is_started() {
            self.shared.token()
        } else {
            None
        }
    }

    /// While this participant leads: a transaction of the client that first checks
    /// that the latch's node still exists, so its writes commit only while no one
    /// else can lead (another participant leads only once every node before its own
    /// is gone, and ours was first). `None` without leadership. It fails with the
    /// check's `NoNode` once the node is gone.
    pub fn transaction(&self) -> Option<TransactionBuilder<'_>> {
        if !self.has_leadership() {
            return None;
        }
        let node = self.our_path()?;
        Some(self.shared.client.transaction().check(node, -1))
    }

    /// Waits for leadership. Await it directly to wait until this participant leads
    /// (`Ok(())`), or bound the wait with [`AwaitLeadership::timeout`]. Fails with
    /// [`LeaderError::Closed`] if the latch is or gets closed, and with
    /// [`LeaderError::NotStarted`] if it was never started.
    pub fn await_leadership(&self) -> AwaitLeadership<'_> {
        AwaitLeadership { latch: self }
    }

    /// Waits for leadership for at most `timeout` (`None`: without a bound); true once
    /// this participant leads, false if the time ran out.
    async fn wait_for_leadership(&self, timeout: Option<Duration>) -> Result<bool> {
        let mut leadership = self.shared.leadership_watch();
        let mut closed = self.shared.closed.subscribe();
        if self.shared.lifecycle.is_closed() {
            return Err(LeaderError::Closed);
        }
        if !self.shared.lifecycle.is_started() {
            return Err(LeaderError::NotStarted);
        }
        let wait = async {
            tokio::select! {
                r = leadership.wait_for(Option::is_some) => match r {
                    Ok(_) => Ok(true),
                    Err(_) => Err(LeaderError::Closed),
                },
                _ = closed.wait_for(|c| *c) => Err(LeaderError::Closed),
            }
        };
        match timeout {
            None => wait.await,
            Some(t) => tokio::time::timeout(t, wait).await.unwrap_or(Ok(false)),
        }
    }

    /// Leadership changes from now on, as a stream that ends when the latch closes.
    pub fn events(&self) -> LeadershipEvents {
        self.shared.subscribers.subscribe()
    }

    /// Every participant, in queue order, read from ZooKeeper (so it may disagree
    /// for a moment with [`has_leadership`](Self::has_leadership)).
    pub async fn get_participants(&self) -> Result<Vec<Participant>> {
        read_participants(
            &self.shared.client,
            &self.shared.latch_path,
            election::LOCK_NAME,
        )
        .await
    }

    /// The current leader, read from ZooKeeper. With no participant at all, like
    /// Curator, a participant with an empty id that is not leader.
    pub async fn get_leader(&self) -> Result<Participant> {
        read_leader(
            &self.shared.client,
            &self.shared.latch_path,
            election::LOCK_NAME,
        )
        .await
    }

    /// This participant's id.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The election path.
    pub fn path(&self) -> &str {
        &self.shared.latch_path
    }

    /// The full path of this participant's node, once it has one. It changes when
    /// the latch has to re-create its node.
    pub fn our_path(&self) -> Option<String> {
        self.shared.node().map(|n| n.path)
    }

    /// Leaves the election with the latch's close mode; see [`close_with`](Self::close_with).
    pub async fn close(&self) -> Result<()> {
        self.close_with(self.close_mode).await
    }

    /// Leaves the election: leadership is given up first (with an event only in
    /// [`CloseMode::NotifyLeader`]), then the background tasks stop, then the node
    /// is deleted. Every event stream ends. Closing twice, or a latch never
    /// started, does nothing. An error means the node could not be deleted now;
    /// the client keeps trying in the background.
    pub async fn close_with(&self, mode: CloseMode) -> Result<()> {
        if self.shared.lifecycle.close() != Phase::Started {
            return Ok(());
        }
        self.shared.closed.send_replace(true);
        match mode {
            CloseMode::Silent => {
                self.shared.subscribers.close();
                self.shared.clear_leader();
            }
            CloseMode::NotifyLeader => {
                self.shared.clear_leader();
                self.shared.subscribers.close();
            }
        }
        let tasks = lock(&self.tasks).take();
        if let Some(tasks) = tasks {
            tasks.states.abort();
            // The election task stops at its next wait; a create in flight is let
            // finish so that its node is known, and deleted below.
            if let Err(e) = tasks.election.await
                && e.is_panic()
            {
                warn!(path = %self.shared.latch_path, "the election task panicked");
            }
        }
        if let Some(node) = self.shared.take_node() {
            delete_at_close(&self.shared.client, &node.path).await?;
        }
        Ok(())
    }
}

impl Drop for LeaderLatch {
    fn drop(&mut self) {
        if self.shared.lifecycle.close() != Phase::Started {
            return;
        }
        self.shared.closed.send_replace(true);
        self.shared.subscribers.close();
        self.shared.clear_leader();
        if let Some(tasks) = lock(&self.tasks).take() {
            tasks.states.abort();
            tasks.election.abort();
        }
        if let Some(node) = self.shared.take_node() {
            delete_after_drop(&self.shared.client, node.path, "latch");
        }
    }
}

/// The wait returned by [`LeaderLatch::await_leadership`]: await it to wait until
/// this participant leads, or call [`AwaitLeadership::timeout`] to bound the wait.
#[derive(Debug)]
#[must_use = "a wait does nothing unless awaited"]
pub struct AwaitLeadership<'a> {
    latch: &'a LeaderLatch,
}

impl<'a> AwaitLeadership<'a> {
    /// Waits at most `timeout`: `Ok(true)` once leading, `Ok(false)` if the time ran out.
    pub async fn timeout(self, timeout: Duration) -> Result<bool> {
        self.latch.wait_for_leadership(Some(timeout)).await
    }
}

impl<'a> std::future::IntoFuture for AwaitLeadership<'a> {
    type Output = Result<()>;
    type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.latch.wait_for_leadership(None).await.map(|_| ()) })
    }
}
