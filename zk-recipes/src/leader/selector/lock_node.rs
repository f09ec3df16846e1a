//! The mutex protocol under the selector, as Curator's `InterProcessMutex` runs it
//! (`LockInternals` with `StandardLockInternalsDriver`): a protected
//! ephemeral-sequential `lock-` node per contender, holding its id; the first node
//! holds the lock; every other contender watches the node just before its own.

use zk_core::framework::Watcher;
use zk_core::path;
use zk_core::{Client, Code, CreateMode, Error, EventType};

use crate::leader::order::{Position, position, sequence_number};
use crate::leader::participant::sorted_children;
use crate::leader::queue_wait::{QueueWatch, remove_own_duplicates, watch_queue};
use crate::leader::token::FencingToken;

/// Curator's name for lock nodes.
pub(super) const LOCK_NAME: &str = "lock-";

/// Creates this contender's lock node under `base`; returns its path and token.
pub(super) async fn create(
    client: &Client,
    base: &str,
    id: &str,
) -> Result<(String, FencingToken), Error> {
    let (created, stat) = client
        .create(&path::join(base, LOCK_NAME), id.as_bytes())
        .mode(CreateMode::EphemeralSequential)
        .protected()
        .create_parent_containers()
        .with_stat()
        .await?;
    let sequence = sequence_number(path::node_name(&created), LOCK_NAME).ok_or_else(|| {
        Error::InvalidArgument(format!("lock node {created} has no sequence number"))
    })?;
    Ok((
        created,
        FencingToken {
            sequence,
            czxid: stat.czxid,
        },
    ))
}

/// Waits until `ours` is first under `base`. Fails with NoNode if `ours` is gone
/// (its session ended or someone deleted it), as Curator's driver does, and also
/// while waiting, which Curator's does not notice (`queue_wait`). Not raced with
/// anything here: the caller selects it against its cancellation.
pub(super) async fn wait_for_turn(client: &Client, base: &str, ours: &str) -> Result<(), Error> {
    let name = path::node_name(ours);
    loop {
        let mut children = sorted_children(client, base, LOCK_NAME).await?;
        remove_own_duplicates(client, base, &mut children, name).await?;
        match position(&children, name) {
            Position::First => return Ok(()),
            Position::Missing => {
                return Err(Error::server(Code::NoNode, Some(ours.to_string())));
            }
            Position::After(previous) => {
                let previous = path::join(base, &previous);
                match watch_queue(client, &previous, ours).await? {
                    // Whatever happens to either node (or to the session) calls for
                    // a new look.
                    QueueWatch::Waiting(watches) => {
                        watches.changed().await;
                    }
                    QueueWatch::PreviousGone => {}
                    QueueWatch::OursGone => {
                        return Err(Error::server(Code::NoNode, Some(ours.to_string())));
                    }
                }
            }
        }
    }
}

/// Confirms that `ours` belongs to the current session and sets a watch on it.
/// `Ok(None)` if it is gone or belongs to an old session.
pub(super) async fn confirm_owner(client: &Client, ours: &str) -> Result<Option<Watcher>, Error> {
    match client.get_data(ours).watched().await {
        Ok((_, stat, watcher)) if stat.ephemeral_owner == client.session_id() => Ok(Some(watcher)),
        Ok(_) => Ok(None),
        Err(e) if e.code() == Some(Code::NoNode) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Resolves when `ours` is deleted; stays pending when the watch ends with its
/// session (the connection states report that loss).
pub(super) async fn deleted(client: &Client, ours: &str, mut watcher: Watcher) {
    loop {
        match (&mut watcher).await {
            Ok(event) if event.event_type == EventType::NodeDeleted => return,
            Ok(_) => match client.get_data(ours).watched().await {
                Ok((_, _, w)) => watcher = w,
                Err(e) if e.code() == Some(Code::NoNode) => return,
                Err(_) => return std::future::pending().await,
            },
            Err(_) => return std::future::pending().await,
        }
    }
}
