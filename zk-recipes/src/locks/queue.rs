//! One lock queue: the node a contender creates under the lock's path, and the
//! wait for its turn (Curator's `LockInternals`). Every lock family, and the
//! leader selector, stand in it.
//!
//! - The node is protected and ephemeral-sequential (`_c_<uuid>-<name><seq>`), its
//!   parents made as containers, as Curator makes them. A create retried after
//!   ConnectionLoss finds its node by the protection prefix, and one cancelled in
//!   flight is cleaned up by zk-core.
//! - Once created, the node is an [`OwnNode`]: dropped before it is handed on, it
//!   is deleted in the background, so a cancelled acquire leaves nothing behind.
//! - Waiting, a contender watches the node ahead of it (the driver says which) and
//!   its own node, and checks that the client's current session owns it; a second
//!   node of its own protected create is deleted (see `queue_wait`).

use bytes::Bytes;
use futures::StreamExt;
use zk_core::framework::{ConnectionStates, Watcher};
use zk_core::path;
use zk_core::{Client, Code, CreateMode, Error, EventType};

use crate::locks::driver::Driver;
use crate::plumbing::FencingToken;
use crate::plumbing::queue_order::{Position, queue_children, sequence_number};
use crate::plumbing::queue_wait::{QueueWatch, remove_own_duplicates, watch_queue};

/// A lock's queue: the lock's path and the driver that decides who holds.
#[derive(Debug, Clone)]
pub(crate) struct LockQueue {
    pub(crate) client: Client,
    /// The lock's path, under which the nodes are created.
    pub(crate) base: String,
    pub(crate) driver: Driver,
}

/// A contender's node, deleted in the background if dropped while armed.
#[derive(Debug)]
pub(crate) struct OwnNode {
    client: Client,
    path: String,
    token: FencingToken,
    /// The session that owns the node, from the create's stat.
    owner: i64,
    armed: bool,
}

/// How a wait for the lock ended.
#[derive(Debug)]
pub(crate) enum Turn {
    /// Our node holds. The states are those seen since just before the check that
    /// decided it. Nothing watches the node yet: the holder sets that watch (and
    /// confirms the node once more) off the acquire's path.
    Holds { states: ConnectionStates },
    /// Our node is gone or belongs to an older session: make a new one.
    OursGone,
}

impl LockQueue {
    /// A queue at `base`, which must be a valid path.
    pub(crate) fn new(client: Client, base: &str, driver: Driver) -> Result<Self, Error> {
        path::validate_path(base, false).map_err(Error::from)?;
        Ok(LockQueue {
            client,
            base: base.to_string(),
            driver,
        })
    }

    /// Creates our node, holding `data`. With `fixed_sequence`, the node is
    /// ephemeral and named with that number instead of a new one (the read node of
    /// a downgrade, which must sort with its write node).
    pub(crate) async fn create(
        &self,
        data: &Bytes,
        fixed_sequence: Option<&str>,
    ) -> Result<OwnNode, Error> {
        let name = self.driver.lock_name();
        let (target, mode) = match fixed_sequence {
            Some(seq) => (
                path::join(&self.base, &format!("{name}{seq}")),
                CreateMode::Ephemeral,
            ),
            None => (
                path::join(&self.base, name),
                CreateMode::EphemeralSequential,
            ),
        };
        let (created, stat) = self
            .client
            .create(&target, data)
            .mode(mode)
            .protected()
            .create_parent_containers()
            .with_stat()
            .await?;
        let mut own = OwnNode {
            client: self.client.clone(),
            path: created,
            token: FencingToken {
                sequence: 0,
                czxid: stat.czxid,
            },
            owner: stat.ephemeral_owner,
            armed: true,
        };
        own.token.sequence =
            sequence_number(path::node_name(&own.path), name).ok_or_else(|| {
                Error::InvalidArgument(format!("lock node {} has no sequence number", own.path))
            })?;
        Ok(own)
    }

    /// The children of the lock's path in queue order; none if it does not exist.
    pub(crate) async fn sorted_children(&self) -> Result<Vec<String>, Error> {
        let mut children = queue_children(&self.client, &self.base).await?;
        self.driver.sort(&mut children);
        Ok(children)
    }

    /// The full paths of this driver's nodes, in queue order (Curator's
    /// `getParticipantNodes`): the first ones hold.
    pub(crate) async fn participant_nodes(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .sorted_children()
            .await?
            .into_iter()
            .filter(|c| self.driver.owns(c))
            .map(|c| path::join(&self.base, &c))
            .collect())
    }

    /// Waits until our node `own` (a path, created by session `owner`) holds, or is
    /// gone. Not bounded here: the caller races it against its deadline or
    /// cancellation.
    ///
    /// Holding costs one read when nothing is ahead (the children list), as
    /// Curator's does: the create's stat already said which session owns the node,
    /// and a node of a session the client has since left is not ours. Waiting
    /// watches the node ahead and our own, and checks our node's owner then.
    pub(crate) async fn wait_for_turn(&self, own: &str, owner: i64) -> Result<Turn, Error> {
        let name = path::node_name(own);
        loop {
            let states = self.client.connection_states();
            let mut children = self.sorted_children().await?;
            remove_own_duplicates(&self.client, &self.base, &mut children, name).await?;
            match self.driver.position(&children, name) {
                Position::First if self.client.session_id() == owner => {
                    return Ok(Turn::Holds { states });
                }
                // Left by an older session of this client: it goes when the server
                // expires that session.
                Position::First | Position::Missing => return Ok(Turn::OursGone),
                Position::After(previous) => {
                    let previous = path::join(&self.base, &previous);
                    match watch_queue(&self.client, &previous, own).await? {
                        // Whatever happens to either node, or to the session, calls
                        // for a new look.
                        QueueWatch::Waiting(watches) => {
                            watches.changed().await;
                        }
                        QueueWatch::PreviousGone => {}
                        QueueWatch::OursGone => return Ok(Turn::OursGone),
                    }
                }
            }
        }
    }

    /// Our node, held without waiting: for a node that holds by construction (a
    /// downgrade's read node).
    pub(crate) fn hold_at_once(&self, own: &OwnNode) -> Turn {
        if self.client.session_id() == own.owner {
            Turn::Holds {
                states: self.client.connection_states(),
            }
        } else {
            Turn::OursGone
        }
    }
}

impl OwnNode {
    /// The node's path.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Deletes the node now (a guaranteed delete: after ConnectionLoss it goes on
    /// in the background). Gone already is fine.
    pub(crate) async fn delete(mut self) {
        self.armed = false;
        match self.client.delete(&self.path).guaranteed().await {
            Ok(()) => {}
            Err(e) if e.code() == Some(Code::NoNode) => {}
            Err(e) => {
                tracing::info!(node = %self.path, error = %e, "lock node delete goes on in the background")
            }
        }
    }

    /// The session that owns the node.
    pub(crate) fn owner(&self) -> i64 {
        self.owner
    }

    /// Hands the node on: whoever takes it deletes it.
    pub(crate) fn disarm(mut self) -> (Client, String, FencingToken) {
        self.armed = false;
        (
            self.client.clone(),
            std::mem::take(&mut self.path),
            self.token,
        )
    }
}

impl Drop for OwnNode {
    fn drop(&mut self) {
        if self.armed {
            tracing::debug!(node = %self.path, "lock node abandoned; deleting it in the background");
            if let Err(e) = self.client.delete(&self.path).in_background() {
                tracing::warn!(node = %self.path, error = %e, "cannot delete an abandoned lock node");
            }
        }
    }
}

/// Confirms that `node` belongs to the current session and sets a watch on it.
/// `Ok(None)` if it is gone or belongs to an old session.
pub(crate) async fn confirm_owner(client: &Client, node: &str) -> Result<Option<Watcher>, Error> {
    match client.get_data(node).watched().await {
        Ok((_, stat, watcher)) if stat.ephemeral_owner == client.session_id() => Ok(Some(watcher)),
        Ok(_) => Ok(None),
        Err(e) if e.code() == Some(Code::NoNode) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Resolves when `node` is deleted; stays pending when the watch ends with its
/// session (the connection states report that loss).
pub(crate) async fn deleted(client: &Client, node: &str, mut watcher: Watcher) {
    loop {
        match (&mut watcher).await {
            Ok(event) if event.event_type == EventType::NodeDeleted => return,
            Ok(_) => match client.get_data(node).watched().await {
                Ok((_, _, w)) => watcher = w,
                Err(e) if e.code() == Some(Code::NoNode) => return,
                Err(_) => return std::future::pending().await,
            },
            Err(_) => return std::future::pending().await,
        }
    }
}

/// The next state in `states` that `policy` counts as an error; `None` if the
/// client closed first.
pub(crate) async fn next_error_state(
    client: &Client,
    states: &mut ConnectionStates,
) -> Option<zk_core::framework::ConnectionState> {
    let policy = client.error_policy();
    while let Some(state) = states.next().await {
        if policy.is_error_state(state) {
            return Some(state);
        }
    }
    None
}
