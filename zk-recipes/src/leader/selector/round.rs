//! The selector's worker: one *round* is contend for the lock, lead (run the
//! listener) until it returns or leadership is lost, release the lock node. Rounds
//! run one at a time, when queued (by `start`, `requeue`, or auto-requeue).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use tokio::sync::watch;
use tracing::{debug, error, info, warn};
use zk_core::{Code, ConnectionStates, Error};

use crate::leader::selector::Shared;
use crate::leader::selector::listener::LeadershipContext;
use crate::locks::driver::{Driver, MUTEX_NAME};
use crate::locks::queue::{LockQueue, Turn, confirm_owner, deleted};
use crate::plumbing::{backoff, lock};

/// Cancels the current round whenever the connection enters an error state
/// (SUSPENDED under the standard policy, LOST), as Curator's
/// `LeaderSelectorListenerAdapter` does by throwing `CancelLeadershipException`.
pub(super) async fn follow_states(shared: Arc<Shared>, mut states: ConnectionStates) {
    let policy = shared.client.error_policy();
    while let Some(state) = states.next().await {
        if policy.is_error_state(state) {
            info!(path = %shared.path, ?state, "connection in error state: the election round is cancelled");
            shared.cancel_round();
        }
    }
}

/// Runs queued rounds until the selector closes.
pub(super) async fn work(shared: Arc<Shared>) {
    let mut closed = shared.closed.subscribe();
    let mut queued = shared.queued.subscribe();
    let mut failures = 0u32;
    loop {
        tokio::select! {
            r = queued.wait_for(|q| *q) => if r.is_err() { return },
            _ = closed.wait_for(|c| *c) => return,
        }
        if shared.lifecycle.is_closed() {
            return;
        }
        match run_round(&shared, &mut closed).await {
            Ok(()) => failures = 0,
            Err(Error::Closed) => {
                debug!(path = %shared.path, "client closed: the selector stops");
                shared.queued.send_replace(false);
                return;
            }
            Err(e) => {
                warn!(path = %shared.path, error = %e, "election round failed");
                failures = failures.saturating_add(1);
            }
        }
        if shared.lifecycle.is_closed() {
            return;
        }
        if shared.auto_requeue.load(Ordering::Acquire) {
            if failures > 0 {
                tokio::select! {
                    _ = tokio::time::sleep(backoff::ELECTION.delay_for(failures)) => {}
                    _ = closed.wait_for(|c| *c) => return,
                }
            }
        } else {
            shared.queued.send_replace(false);
        }
    }
}

/// One round; the lock node is always released at its end.
async fn run_round(shared: &Shared, closed: &mut watch::Receiver<bool>) -> Result<(), Error> {
    let (cancel_tx, cancel_rx) = watch::channel(false);
    *lock(&shared.round) = Some(cancel_tx);
    let result = contend_and_lead(shared, closed, cancel_rx).await;
    shared.has_leadership.store(false, Ordering::Release);
    // Dropping the sender ends `LeadershipContext::cancelled` for any work left.
    lock(&shared.round).take();
    let node = lock(&shared.node).take();
    if let Some(node) = node {
        debug!(%node, "releasing the lock node");
        if let Err(e) = shared.client.delete(&node).guaranteed().quietly().await {
            warn!(%node, error = %e, "could not delete the lock node now; the delete goes on in the background");
        }
    }
    result
}

async fn contend_and_lead(
    shared: &Shared,
    closed: &mut watch::Receiver<bool>,
    cancel_rx: watch::Receiver<bool>,
) -> Result<(), Error> {
    let client = &shared.client;
    let queue = LockQueue::new(client.clone(), &shared.path, Driver::Mutex(MUTEX_NAME))?;
    // Not raced with cancellation, and handed over to the round at once: the round
    // deletes the node when it ends.
    let own = queue.create(&Bytes::from(shared.id.clone()), None).await?;
    let owner = own.owner();
    let (_, node, token) = own.disarm();
    *lock(&shared.node) = Some(node.clone());
    let mut cancel = cancel_rx.clone();
    let turn = tokio::select! {
        r = queue.wait_for_turn(&node, owner) => r,
        _ = cancel.wait_for(|c| *c) => return Ok(()),
        _ = closed.wait_for(|c| *c) => return Ok(()),
    };
    let Turn::Holds { .. } = turn? else {
        return Err(Error::server(Code::NoNode, Some(node)));
    };
    // The watch that ends the leadership if the node is deleted.
    let watcher = tokio::select! {
        r = confirm_owner(client, &node) => r?,
        _ = cancel.wait_for(|c| *c) => return Ok(()),
        _ = closed.wait_for(|c| *c) => return Ok(()),
    };
    let Some(watcher) = watcher else {
        return Err(Error::server(Code::NoNode, Some(node)));
    };
    // A SUSPENDED or LOST that came before this round could be cancelled.
    let policy = client.error_policy();
    if client.state().is_none_or(|s| policy.is_error_state(s)) {
        return Ok(());
    }
    shared.has_leadership.store(true, Ordering::Release);
    if *cancel.borrow() {
        return Ok(());
    }
    info!(path = %shared.path, id = %shared.id, ?token, "leadership taken");
    let ctx = LeadershipContext {
        client: client.clone(),
        id: shared.id.clone(),
        node: node.clone(),
        token,
        cancel: cancel_rx,
    };
    let leading = AssertUnwindSafe(shared.listener.take_leadership(ctx)).catch_unwind();
    tokio::select! {
        r = leading => match r {
            Ok(()) => info!(path = %shared.path, id = %shared.id, "leadership given up"),
            Err(_) => error!(path = %shared.path, id = %shared.id, "take_leadership panicked; leadership given up"),
        },
        _ = cancel.wait_for(|c| *c) => info!(path = %shared.path, id = %shared.id, "leadership lost: the leader's work is cancelled"),
        _ = closed.wait_for(|c| *c) => info!(path = %shared.path, id = %shared.id, "closing: the leader's work is cancelled"),
        _ = deleted(client, &node, watcher) => warn!(%node, "the lock node was deleted: the leader's work is cancelled"),
    }
    shared.has_leadership.store(false, Ordering::Release);
    Ok(())
}
