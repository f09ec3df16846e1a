//! The latch's background work, following Curator 5's `LeaderLatch` (with
//! CURATOR-696 and CURATOR-724):
//!
//! - *reset*: give up leadership, delete the old node, create a new protected
//!   ephemeral-sequential `latch-` node holding the id, then *check*;
//! - *check*: read the children in queue order. Our node missing (or the latch path
//!   gone) means reset. First in the queue: read our node; if its owner is not the
//!   current session it is a leftover of an old session, so reset; otherwise lead.
//!   Behind another node: give up leadership and watch the node just before ours
//!   (a read with a watch, so no watch is left on a missing node); if it is already
//!   gone, check again at once;
//! - every (re)connection checks again; SUSPENDED (under the standard error policy)
//!   and LOST give up leadership at once, from a task of their own, so no slow
//!   operation can delay it.
//!
//! Beyond Curator: every participant watches its own node too, the leader and the
//! waiters alike, and a waiter checks that its node belongs to the current session.
//! A node deleted by hand, or one left by an older session of the client that the
//! server expires later, then makes the participant re-queue at once instead of
//! leaving it out of the election (`queue_wait`). The first check after a
//! reconnection syncs the latch path first. A failed step is retried after a short
//! pause instead of being only logged.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::watch;
use tracing::{debug, info, warn};
use zk_core::framework::Watcher;
use zk_core::path;
use zk_core::{Code, ConnectionState, ConnectionStates, CreateMode, Error};

use crate::leader::latch::state::{OurNode, Shared};
use crate::plumbing::FencingToken;
use crate::plumbing::queue_order::{Position, position, sequence_number, sort_children};
use crate::plumbing::queue_wait::{QueueWatch, Wake, remove_own_duplicates, watch_queue};
use crate::plumbing::{backoff, sync_quietly};

/// Curator's name for latch nodes.
pub(super) const LOCK_NAME: &str = "latch-";

/// What the election task does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Reset,
    Check,
    /// Wait for the next (re)connection, then check.
    AwaitReconnect,
}

/// Turns connection states into leadership changes and rechecks.
pub(super) async fn follow_states(shared: Arc<Shared>, mut states: ConnectionStates) {
    let policy = shared.client.error_policy();
    while let Some(state) = states.next().await {
        match state {
            ConnectionState::Connected | ConnectionState::Reconnected => {
                shared.recheck.send_modify(|n| *n = n.wrapping_add(1));
            }
            s if policy.is_error_state(s) => {
                info!(path = %shared.latch_path, state = ?s, "connection in error state: leadership dropped");
                shared.clear_leader();
            }
            _ => {}
        }
    }
}

/// Runs the election until the latch closes.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut closed = shared.closed.subscribe();
    let mut recheck = shared.recheck.subscribe();
    let mut step = Step::Reset;
    let mut failures = 0u32;
    loop {
        if shared.lifecycle.is_closed() {
            return;
        }
        let result = match step {
            // Not raced with close: a create cut off halfway could leave a node
            // nobody knows of at the head of the queue.
            Step::Reset => reset(&shared).await,
            Step::Check => tokio::select! {
                r = check(&shared, &mut recheck) => r,
                _ = closed.wait_for(|c| *c) => return,
            },
            Step::AwaitReconnect => tokio::select! {
                r = recheck.changed() => match r {
                    Ok(()) => Ok(Step::Check),
                    Err(_) => return,
                },
                _ = closed.wait_for(|c| *c) => return,
            },
        };
        step = match result {
            Ok(next) => {
                failures = 0;
                next
            }
            Err(Error::Closed) => {
                debug!(path = %shared.latch_path, "client closed: the election stops");
                shared.clear_leader();
                return;
            }
            Err(e) => {
                warn!(path = %shared.latch_path, error = %e, "election step failed; trying again");
                failures = failures.saturating_add(1);
                tokio::select! {
                    _ = tokio::time::sleep(backoff::ELECTION.delay_for(failures)) => {}
                    _ = recheck.changed() => {}
                    _ = closed.wait_for(|c| *c) => return,
                }
                Step::Check
            }
        };
    }
}

/// Gives up leadership, replaces our node with a new one.
async fn reset(shared: &Shared) -> Result<Step, Error> {
    shared.clear_leader();
    if let Some(old) = shared.take_node() {
        debug!(path = %old.path, "deleting our old latch node");
        if let Err(e) = shared.client.delete(&old.path).guaranteed().quietly().await {
            warn!(path = %old.path, error = %e, "could not delete the old latch node now; the delete goes on in the background");
        }
    }
    if shared.lifecycle.is_closed() {
        return Ok(Step::Check);
    }
    let (created, stat) = shared
        .client
        .create(
            &path::join(&shared.latch_path, LOCK_NAME),
            shared.id.as_bytes(),
        )
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .create_parent_containers()
        .with_stat()
        .await?;
    let name = path::node_name(&created);
    let sequence = sequence_number(name, LOCK_NAME).ok_or_else(|| {
        Error::InvalidArgument(format!("latch node {created} has no sequence number"))
    })?;
    let token = FencingToken {
        sequence,
        czxid: stat.czxid,
    };
    debug!(path = %created, ?token, "latch node created");
    shared.set_node(OurNode {
        path: created,
        token,
    });
    Ok(Step::Check)
}

/// Finds our place in the queue and acts on it; returns after waiting for what can
/// change it.
async fn check(shared: &Shared, recheck: &mut watch::Receiver<u64>) -> Result<Step, Error> {
    let Some(node) = shared.node() else {
        return Ok(Step::Reset);
    };
    let client = &shared.client;
    if recheck.has_changed().unwrap_or(false) {
        // The server we reconnected to may not yet have applied writes whose
        // replies we never saw (our own node's, or a deletion of it): let it catch
        // up before it tells us where we stand. A failed sync leaves the
        // reconnection unseen, so the next check syncs again.
        sync_quietly(client, &shared.latch_path).await?;
    }
    // Reconnections before this read are covered by it.
    recheck.borrow_and_update();
    let mut children = match client.get_children(&shared.latch_path).await {
        Ok(c) => c,
        Err(e) if e.code() == Some(Code::NoNode) => {
            info!(path = %shared.latch_path, "latch path is gone; resetting");
            return Ok(Step::Reset);
        }
        Err(e) => return Err(e),
    };
    sort_children(&mut children, LOCK_NAME);
    remove_own_duplicates(
        client,
        &shared.latch_path,
        &mut children,
        path::node_name(&node.path),
    )
    .await?;
    match position(&children, path::node_name(&node.path)) {
        Position::Missing => {
            info!(path = %node.path, "our latch node is gone; resetting");
            Ok(Step::Reset)
        }
        Position::First => {
            let (_, stat, watcher) = match client.get_data(&node.path).watched().await {
                Ok(found) => found,
                Err(e) if e.code() == Some(Code::NoNode) => return Ok(Step::Reset),
                Err(e) => return Err(e),
            };
            if stat.ephemeral_owner != client.session_id() {
                info!(path = %node.path, owner = stat.ephemeral_owner, "our latch node belongs to an old session; resetting");
                return Ok(Step::Reset);
            }
            if !shared.set_leader(node.token) {
                return Ok(Step::AwaitReconnect);
            }
            Ok(wait(watcher, recheck).await)
        }
        Position::After(previous) => {
            shared.clear_leader();
            let previous = path::join(&shared.latch_path, &previous);
            match watch_queue(client, &previous, &node.path).await? {
                QueueWatch::Waiting(watches) => {
                    debug!(%previous, "waiting for the node before ours");
                    Ok(wait_for(watches.changed(), recheck).await)
                }
                QueueWatch::PreviousGone => Ok(Step::Check),
                QueueWatch::OursGone => Ok(Step::Reset),
            }
        }
    }
}

/// Waits for the watched node to change or for a reconnection.
async fn wait(watcher: Watcher, recheck: &mut watch::Receiver<u64>) -> Step {
    let changed = async {
        match watcher.await {
            Ok(_) => Wake::Changed,
            Err(_) => Wake::SessionEnded,
        }
    };
    wait_for(changed, recheck).await
}

/// Waits for `changed` (a watch) or for a reconnection.
async fn wait_for(
    changed: impl std::future::Future<Output = Wake>,
    recheck: &mut watch::Receiver<u64>,
) -> Step {
    tokio::select! {
        wake = changed => match wake {
            Wake::Changed => Step::Check,
            // The session that held the watch ended: the next connection rechecks.
            Wake::SessionEnded => Step::AwaitReconnect,
        },
        r = recheck.changed() => match r {
            Ok(()) => Step::Check,
            Err(_) => Step::AwaitReconnect,
        },
    }
}
