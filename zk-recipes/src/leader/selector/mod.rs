//! [`LeaderSelector`]: runs an async callback while this participant leads, over
//! Curator's `InterProcessMutex` node layout, so Java `LeaderSelector`s and Rust
//! ones share one election.

mod listener;
mod round;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::warn;
use zk_core::Client;
use zk_core::path::validate_path;

use crate::leader::error::Result;
use crate::leader::node_cleanup::{delete_after_drop, delete_at_close};
use crate::leader::participant::{Participant, read_leader, read_participants};
use crate::locks::driver::MUTEX_NAME;
use crate::plumbing::lock;
use crate::plumbing::{Lifecycle, Phase};

pub use listener::{LeaderSelectorListener, LeadershipContext};

/// Leader election that runs work while leading, like Curator's `LeaderSelector`.
///
/// Contenders queue as protected ephemeral-sequential nodes
/// `<path>/_c_<uuid>-lock-<seq>` holding the id; the first one runs the listener's
/// [`take_leadership`](LeaderSelectorListener::take_leadership) and leads until it
/// returns, then releases its node. If leadership is lost first (SUSPENDED under the
/// standard error policy, LOST, its node deleted, or
/// [`interrupt_leadership`](Self::interrupt_leadership)), the callback's future is
/// dropped and the node released. With [`auto_requeue`](Self::auto_requeue) the
/// selector queues again after each round.
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::leader::LeaderError> {
/// use zk_recipes::leader::{LeaderSelector, LeadershipContext};
///
/// let selector = LeaderSelector::new(client, "/election/compactor", |ctx: LeadershipContext| async move {
///     // Lead: this future is dropped as soon as leadership is lost.
///     let token = ctx.fencing_token();
/// #   let _ = token;
/// })
/// .with_id("node-1");
/// selector.auto_requeue();
/// selector.start().await?;
/// // ...
/// selector.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LeaderSelector {
    shared: Arc<Shared>,
    tasks: Mutex<Option<Tasks>>,
}

#[derive(Debug)]
struct Tasks {
    worker: JoinHandle<()>,
    states: JoinHandle<()>,
}

/// What the selector's handle and its tasks share.
pub(crate) struct Shared {
    client: Client,
    path: String,
    id: String,
    listener: Box<dyn LeaderSelectorListener>,
    lifecycle: Lifecycle,
    auto_requeue: AtomicBool,
    has_leadership: AtomicBool,
    /// True while a round is queued or running.
    queued: watch::Sender<bool>,
    /// Set once, at close.
    closed: watch::Sender<bool>,
    /// The cancellation of the running round.
    round: Mutex<Option<watch::Sender<bool>>>,
    /// The running round's lock node.
    node: Mutex<Option<String>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("path", &self.path)
            .field("id", &self.id)
            .field("has_leadership", &self.has_leadership)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Ends the running round's leadership: the flag drops at once, before the
    /// callback's future is dropped.
    fn cancel_round(&self) {
        if let Some(round) = lock(&self.round).as_ref() {
            round.send_replace(true);
            self.has_leadership.store(false, Ordering::Release);
        }
    }
}

impl LeaderSelector {
    /// A selector at election path `path` that runs `listener` while it leads.
    /// Its id is empty until [`with_id`](Self::with_id). Nothing happens until
    /// [`start`](Self::start).
    pub fn new(
        client: Client,
        path: impl Into<String>,
        listener: impl LeaderSelectorListener,
    ) -> Self {
        LeaderSelector {
            shared: Arc::new(Shared {
                client,
                path: path.into(),
                id: String::new(),
                listener: Box::new(listener),
                lifecycle: Lifecycle::default(),
                auto_requeue: AtomicBool::new(false),
                has_leadership: AtomicBool::new(false),
                queued: watch::Sender::new(false),
                closed: watch::Sender::new(false),
                round: Mutex::new(None),
                node: Mutex::new(None),
            }),
            tasks: Mutex::new(None),
        }
    }

    /// The participant id, stored (UTF-8) in the lock node. Set it before
    /// [`start`](Self::start); later calls are ignored.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) if !shared.lifecycle.is_started() => shared.id = id.into(),
            _ => warn!("with_id after start is ignored"),
        }
        self
    }

    /// Queue again after every round, so this participant keeps running for
    /// leadership until closed.
    pub fn auto_requeue(&self) {
        self.shared.auto_requeue.store(true, Ordering::Release);
    }

    /// Starts the background work and queues the first round.
    pub async fn start(&self) -> Result<()> {
        validate_path(&self.shared.path, false).map_err(zk_core::Error::from)?;
        self.shared.lifecycle.start()?;
        let states = self.shared.client.connection_states();
        let tasks = Tasks {
            states: tokio::spawn(round::follow_states(self.shared.clone(), states)),
            worker: tokio::spawn(round::work(self.shared.clone())),
        };
        *lock(&self.tasks) = Some(tasks);
        self.shared.queued.send_replace(true);
        Ok(())
    }

    /// Queues another round if none is queued or running; returns whether it did.
    /// A round runs until its lock node is deleted: for a moment after the node is
    /// gone (another participant may already lead), the round still counts as
    /// running, as in Curator. Fails if the selector is not started.
    pub fn requeue(&self) -> Result<bool> {
        if self.shared.lifecycle.is_closed() {
            return Err(crate::leader::LeaderError::Closed);
        }
        if !self.shared.lifecycle.is_started() {
            return Err(crate::leader::LeaderError::NotStarted);
        }
        Ok(self
            .shared
            .queued
            .send_if_modified(|q| !std::mem::replace(q, true)))
    }

    /// Whether this participant leads now (its callback is running).
    pub fn has_leadership(&self) -> bool {
        self.shared.has_leadership.load(Ordering::Acquire)
    }

    /// Ends the current leadership, as if it were lost: the callback is cancelled
    /// and the node released. With auto-requeue the selector queues again.
    pub fn interrupt_leadership(&self) {
        if self.has_leadership() {
            self.shared.cancel_round();
        }
    }

    /// Every participant, in queue order, read from ZooKeeper.
    pub async fn get_participants(&self) -> Result<Vec<Participant>> {
        read_participants(&self.shared.client, &self.shared.path, MUTEX_NAME).await
    }

    /// The current leader, read from ZooKeeper; with no participant, like Curator,
    /// a participant with an empty id that is not leader.
    pub async fn get_leader(&self) -> Result<Participant> {
        read_leader(&self.shared.client, &self.shared.path, MUTEX_NAME).await
    }

    /// This participant's id.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The election path.
    pub fn path(&self) -> &str {
        &self.shared.path
    }

    /// Leaves the election: cancels the callback if it runs, stops the background
    /// tasks and deletes the lock node. Closing twice, or a selector never started,
    /// does nothing. An error means the node could not be deleted now; the client
    /// keeps trying in the background.
    pub async fn close(&self) -> Result<()> {
        if self.shared.lifecycle.close() != Phase::Started {
            return Ok(());
        }
        self.shared.closed.send_replace(true);
        self.shared.cancel_round();
        let tasks = lock(&self.tasks).take();
        if let Some(tasks) = tasks {
            tasks.states.abort();
            // The worker stops at its next wait (a create in flight is let finish so
            // its node is known) and releases its node on the way out.
            if let Err(e) = tasks.worker.await
                && e.is_panic()
            {
                warn!(path = %self.shared.path, "the selector's worker panicked");
            }
        }
        self.shared.has_leadership.store(false, Ordering::Release);
        let node = lock(&self.shared.node).take();
        if let Some(node) = node {
            delete_at_close(&self.shared.client, &node).await?;
        }
        Ok(())
    }
}

impl Drop for LeaderSelector {
    fn drop(&mut self) {
        if self.shared.lifecycle.close() != Phase::Started {
            return;
        }
        self.shared.closed.send_replace(true);
        self.shared.cancel_round();
        self.shared.has_leadership.store(false, Ordering::Release);
        if let Some(tasks) = lock(&self.tasks).take() {
            tasks.states.abort();
            tasks.worker.abort();
        }
        let node = lock(&self.shared.node).take();
        if let Some(node) = node {
            delete_after_drop(&self.shared.client, node, "selector");
        }
    }
}
