//! A held lock node, shared by every guard (or the one lease) that stands for it.
//!
//! While held, a monitor task watches the client's connection states and the node
//! itself. The node stops being safe, for good, at the first error state of the
//! client's policy (SUSPENDED or LOST under the standard policy, LOST only under
//! the session-only one), when the node is deleted, or when the watch on it ends
//! with its session. The monitor also hears revocation requests.
//!
//! Dropped without a release, the node is deleted in the background.
//!
//! A release deletes the node while the monitor still watches it: the deletion
//! fires the monitor's watch, so nothing is left on the server to remove. Stopping
//! the monitor first would drop a live watch, and dropping one costs a
//! removeWatches request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};
use zk_core::framework::ConnectionStates;
use zk_core::framework::ops::transaction::TransactionBuilder;
use zk_core::{Client, Code, EventType};

use crate::locks::error::{LockError, Result};
use crate::locks::queue::{OwnNode, next_error_state};
use crate::locks::revocation::{REVOKE_MESSAGE, RevocationListener};
use crate::plumbing::FencingToken;

/// The pause before reading a held node again after a failed read.
const REREAD_PAUSE: Duration = Duration::from_millis(200);

/// A node this client holds.
#[derive(Debug)]
pub(crate) struct Held {
    client: Client,
    node: String,
    token: FencingToken,
    lost: watch::Receiver<bool>,
    monitor: JoinHandle<()>,
    /// Set before this client deletes the node itself: the monitor then ends
    /// quietly, as the deletion is no loss.
    releasing: Arc<AtomicBool>,
    armed: bool,
}

impl Held {
    /// Starts holding `own`: `states` are the connection states since just before
    /// the node was seen to hold. The monitor's first read sets the watch on the
    /// node and confirms it is still there and ours.
    pub(crate) fn start(
        own: OwnNode,
        states: ConnectionStates,
        revocation: Option<RevocationListener>,
    ) -> Held {
        let owner = own.owner();
        let (client, node, token) = own.disarm();
        let (lost_tx, lost) = watch::channel(false);
        let releasing = Arc::new(AtomicBool::new(false));
        let monitor = tokio::spawn(monitor(
            client.clone(),
            node.clone(),
            owner,
            states,
            lost_tx,
            revocation,
            releasing.clone(),
        ));
        Held {
            client,
            node,
            token,
            lost,
            monitor,
            releasing,
            armed: true,
        }
    }

    /// The held node's path.
    pub(crate) fn node(&self) -> &str {
        &self.node
    }

    /// The held node's fencing token.
    pub(crate) fn token(&self) -> FencingToken {
        self.token
    }

    /// Whether the node can still be trusted.
    pub(crate) fn is_held(&self) -> bool {
        !*self.lost.borrow()
    }

    /// Resolves once the node can no longer be trusted.
    pub(crate) async fn lost(&self) {
        let mut lost = self.lost.clone();
        // The monitor only ends after saying so, or when the holding is dropped.
        let _ = lost.wait_for(|l| *l).await;
    }

    /// A transaction that first checks that the node still exists: it commits
    /// only while the node is held.
    pub(crate) fn transaction(&self) -> TransactionBuilder<'_> {
        self.client.transaction().check(self.node.clone(), -1)
    }

    /// Deletes the node. `LostBeforeRelease` if it was already gone.
    pub(crate) async fn release(mut self) -> Result<()> {
        self.armed = false;
        self.releasing.store(true, Ordering::Release);
        let deleted = self.client.delete(&self.node).guaranteed().await;
        // The deletion has fired the monitor's watch (the server sends the event
        // before the reply); whatever the monitor still waits on goes with it.
        self.monitor.abort();
        match deleted {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some(Code::NoNode) => Err(LockError::LostBeforeRelease {
                node: std::mem::take(&mut self.node),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.armed {
            self.monitor.abort();
            return;
        }
        self.releasing.store(true, Ordering::Release);
        // The monitor ends when the background delete fires its watch, or at the
        // session's end or the first error state, whichever comes first.
        if let Err(e) = self.client.delete(&self.node).in_background() {
            warn!(node = %self.node, error = %e, "cannot delete a dropped lock node");
            self.monitor.abort();
        }
    }
}

/// Watches a held node until it can no longer be trusted, then says so.
async fn monitor(
    client: Client,
    node: String,
    owner: i64,
    mut states: ConnectionStates,
    lost: watch::Sender<bool>,
    revocation: Option<RevocationListener>,
    releasing: Arc<AtomicBool>,
) {
    let reason = tokio::select! {
        state = next_error_state(&client, &mut states) => match state {
            Some(state) => format!("the connection is {state:?}"),
            None => "the client closed".to_string(),
        },
        reason = watch_node(&client, &node, owner, revocation.as_ref()) => reason,
    };
    if !releasing.load(Ordering::Acquire) {
        info!(%node, %reason, "lock no longer held");
    }
    lost.send_replace(true);
}

/// Follows the held node with a data watch: returns why the node is no longer
/// safe, and calls the revocation listener when the node's data asks for a
/// release. The first read also confirms the node is still there and owned by
/// `owner`, and sees a revocation asked for while the holder waited.
async fn watch_node(
    client: &Client,
    node: &str,
    owner: i64,
    revocation: Option<&RevocationListener>,
) -> String {
    loop {
        let mut watcher = match client.get_data(node).watched().await {
            Ok((_, stat, _)) if stat.ephemeral_owner != owner => {
                return "the node belongs to another session".into();
            }
            Ok((data, _, w)) => {
                if data.as_ref() == REVOKE_MESSAGE
                    && let Some(listener) = revocation
                {
                    info!(%node, "revocation requested");
                    listener();
                }
                w
            }
            Err(e) if e.code() == Some(Code::NoNode) => return "the node was deleted".into(),
            Err(e) if !e.is_retryable() => return format!("the node cannot be read: {e}"),
            Err(e) => {
                // The connection states decide whether this is a loss.
                warn!(%node, error = %e, "cannot read the held lock node");
                tokio::time::sleep(REREAD_PAUSE).await;
                continue;
            }
        };
        match (&mut watcher).await {
            Ok(event) if event.event_type == EventType::NodeDeleted => {
                return "the node was deleted".into();
            }
            // A data change may be a revocation request; any event also calls for
            // a new watch.
            Ok(_) => {}
            Err(_) => return "the session that held the node ended".into(),
        }
    }
}
