//! One acquisition in a lock queue, bounded by an optional deadline and safe to
//! cancel: create a node, wait for its turn, hand the node on as held.
//!
//! - A deadline that passes while waiting deletes the node before returning.
//! - A node that goes while waiting (its session expired, an administrator deleted
//!   it) is replaced by a new one, as Curator retries on its NoNode.
//! - Dropped at any point, the future leaves no node: zk-core cleans up a protected
//!   create cancelled in flight, and an [`OwnNode`] deletes itself when dropped.

use bytes::Bytes;
use tokio::time::{Instant, timeout_at};
use tracing::info;
use zk_core::framework::ConnectionStates;

use crate::locks::error::Result;
use crate::locks::held::Held;
use crate::locks::queue::{LockQueue, OwnNode, Turn};
use crate::locks::revocation::RevocationListener;

/// What to create and how it holds.
pub(crate) struct Attempt<'a> {
    pub(crate) queue: &'a LockQueue,
    pub(crate) data: &'a Bytes,
    /// The sequence number to name the node with, for a node that holds by
    /// construction (a downgrade's read node); it does not wait.
    pub(crate) fixed_sequence: Option<&'a str>,
    pub(crate) revocation: Option<RevocationListener>,
}

/// Acquires, waiting until `deadline` (without bound if `None`). `Ok(None)`:
/// timed out, and no node is left.
pub(crate) async fn acquire(
    attempt: Attempt<'_>,
    deadline: Option<Instant>,
) -> Result<Option<Held>> {
    Ok(hold(&attempt, deadline)
        .await?
        .map(|(own, states)| Held::start(own, states, attempt.revocation)))
}

/// Creates nodes until one holds; `None` on the deadline. The node is returned
/// with the connection states since it was seen to hold.
pub(crate) async fn hold(
    attempt: &Attempt<'_>,
    deadline: Option<Instant>,
) -> Result<Option<(OwnNode, ConnectionStates)>> {
    let queue = attempt.queue;
    loop {
        let Some(own) = bounded(deadline, queue.create(attempt.data, attempt.fixed_sequence)).await
        else {
            return Ok(None);
        };
        let own = own?;
        let turn = match attempt.fixed_sequence {
            Some(_) => Some(Ok(queue.hold_at_once(&own))),
            None => bounded(deadline, queue.wait_for_turn(own.path(), own.owner())).await,
        };
        match turn {
            None => {
                own.delete().await;
                return Ok(None);
            }
            Some(Err(e)) => {
                own.delete().await;
                return Err(e.into());
            }
            Some(Ok(Turn::OursGone)) => {
                info!(
                    node = own.path(),
                    "our lock node went while we waited; making a new one"
                );
                own.delete().await;
            }
            Some(Ok(Turn::Holds { states })) => return Ok(Some((own, states))),
        }
    }
}

/// `fut`, cut off at `deadline`; `None` when cut off.
pub(crate) async fn bounded<T>(
    deadline: Option<Instant>,
    fut: impl Future<Output = T>,
) -> Option<T> {
    match deadline {
        None => Some(fut.await),
        Some(deadline) => timeout_at(deadline, fut).await.ok(),
    }
}
