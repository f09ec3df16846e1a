//! What a latch's handle and its background tasks share: the latch's node, whether
//! it leads (with the token of that leadership), and who listens.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;
use tracing::info;
use zk_core::Client;

use crate::leader::events::LeadershipEvent;
use crate::plumbing::FanOut;
use crate::plumbing::FencingToken;
use crate::plumbing::Lifecycle;
use crate::plumbing::lock;

/// The latch's node: its full path and the token it carries when it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OurNode {
    pub(super) path: String,
    pub(super) token: FencingToken,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) client: Client,
    pub(super) latch_path: String,
    pub(super) id: String,
    pub(super) lifecycle: Lifecycle,
    pub(super) subscribers: FanOut<LeadershipEvent>,
    /// Bumped at every (re)connection: the election task checks its place again.
    pub(super) recheck: watch::Sender<u64>,
    /// Set once, at close: the election task stops at its next wait.
    pub(super) closed: watch::Sender<bool>,
    node: Mutex<Option<OurNode>>,
    /// The leadership held now; changed only under this lock so that events go out
    /// in the order the changes were made.
    leadership: Mutex<Option<FencingToken>>,
    /// A copy of `leadership.is_some()` for a lock-free `has_leadership()`.
    is_leader: AtomicBool,
    /// The same, for awaiting.
    leadership_watch: watch::Sender<Option<FencingToken>>,
}

impl Shared {
    pub(super) fn new(client: Client, latch_path: String, id: String) -> Self {
        Shared {
            client,
            latch_path,
            id,
            lifecycle: Lifecycle::default(),
            subscribers: FanOut::new(),
            recheck: watch::Sender::new(0),
            closed: watch::Sender::new(false),
            node: Mutex::new(None),
            leadership: Mutex::new(None),
            is_leader: AtomicBool::new(false),
            leadership_watch: watch::Sender::new(None),
        }
    }

    pub(super) fn node(&self) -> Option<OurNode> {
        lock(&self.node).clone()
    }

    pub(super) fn set_node(&self, node: OurNode) {
        *lock(&self.node) = Some(node);
    }

    pub(super) fn take_node(&self) -> Option<OurNode> {
        lock(&self.node).take()
    }

    pub(super) fn is_leader(&self) -> bool {
        self.is_leader.load(Ordering::Acquire)
    }

    pub(super) fn token(&self) -> Option<FencingToken> {
        *lock(&self.leadership)
    }

    pub(super) fn leadership_watch(&self) -> watch::Receiver<Option<FencingToken>> {
        self.leadership_watch.subscribe()
    }

    /// Declares leadership with `token`, unless the latch is no longer started or
    /// the connection is in an error state now (a SUSPENDED or LOST that raced with
    /// the check). Returns whether the latch leads afterwards.
    pub(super) fn set_leader(&self, token: FencingToken) -> bool {
        let mut held = lock(&self.leadership);
        if !self.lifecycle.is_started() {
            return false;
        }
        let policy = self.client.error_policy();
        match self.client.state() {
            Some(s) if !policy.is_error_state(s) => {}
            _ => return false,
        }
        if *held == Some(token) {
            return true;
        }
        *held = Some(token);
        self.is_leader.store(true, Ordering::Release);
        self.leadership_watch.send_replace(Some(token));
        info!(path = %self.latch_path, id = %self.id, ?token, "leadership taken");
        self.subscribers.emit(LeadershipEvent::IsLeader(token));
        true
    }

    /// Gives up leadership if held; subscribers hear `NotLeader`.
    pub(super) fn clear_leader(&self) {
        let mut held = lock(&self.leadership);
        if held.take().is_some() {
            self.is_leader.store(false, Ordering::Release);
            self.leadership_watch.send_replace(None);
            info!(path = %self.latch_path, id = %self.id, "leadership given up");
            self.subscribers.emit(LeadershipEvent::NotLeader);
        }
    }
}
