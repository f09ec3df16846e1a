//! `InterProcessSemaphoreV2`: Curator's counting semaphore, `max_leases` leases
//! shared by every holder of one path.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use zk_core::path;
use zk_core::{Client, Code};

use crate::locks::acquire::{Attempt, bounded, hold};
use crate::locks::driver::{Driver, MUTEX_NAME};
use crate::locks::error::{LockError, Result};
use crate::locks::guard::{Lease, LockGuard};
use crate::locks::held::Held;
use crate::locks::node_data::curator_default_data;
use crate::locks::queue::{LockQueue, OwnNode, confirm_owner};
use crate::plumbing::lock;
use crate::plumbing::queue_wait::remove_own_duplicates;

/// Curator's parent of the semaphore's mutex.
const LOCK_PARENT: &str = "locks";
/// Curator's parent of the lease nodes.
const LEASE_PARENT: &str = "leases";
/// Curator's name of lease nodes.
const LEASE_NAME: &str = "lease-";

/// A distributed counting semaphore on Curator's `InterProcessSemaphoreV2` layout:
/// at most `max_leases` leases are held at once, by Rust and Java holders alike.
///
/// To take a lease, a contender holds the semaphore's mutex (`<path>/locks`),
/// creates a protected ephemeral-sequential `<path>/leases/_c_<uuid>-lease-<seq>`
/// node, waits until there are no more than `max_leases` lease nodes, and releases
/// the mutex. Every holder must agree on `max_leases`, as with Curator. Not
/// re-entrant: each acquire takes leases of its own.
#[derive(Debug)]
pub struct InterProcessSemaphoreV2 {
    client: Client,
    path: String,
    max_leases: usize,
    data: Mutex<Option<Bytes>>,
}

/// How one lease attempt under the semaphore's mutex ended.
enum LeaseTurn {
    Held(Held),
    TimedOut,
    /// The lease node went (its session ended): try again.
    OursGone,
}

impl InterProcessSemaphoreV2 {
    /// A semaphore at `path` with `max_leases` leases (checked when acquiring: zero
    /// is a typed error, as is an invalid path).
    pub fn new(client: Client, path: impl Into<String>, max_leases: usize) -> Self {
        InterProcessSemaphoreV2 {
            client,
            path: path.into(),
            max_leases,
            data: Mutex::new(None),
        }
    }

    /// Sets what new lease nodes hold (Curator's `setNodeData`); by default
    /// Curator's default data, the host's address.
    pub fn set_node_data(&self, data: impl Into<Bytes>) {
        *lock(&self.data) = Some(data.into());
    }

    /// The semaphore's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// How many leases the semaphore has.
    pub fn max_leases(&self) -> usize {
        self.max_leases
    }

    /// Takes one lease, waiting without bound.
    pub async fn acquire(&self) -> Result<Lease> {
        let mut leases = self.acquire_leases(1, None).await?.unwrap_or_default();
        leases.pop().ok_or_else(|| {
            LockError::InvalidArgument("an acquire without a deadline ended without a lease".into())
        })
    }

    /// Takes one lease, waiting up to `timeout`; `None` if it timed out.
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<Option<Lease>> {
        Ok(self
            .acquire_leases(1, Some(Instant::now() + timeout))
            .await?
            .and_then(|mut leases| leases.pop()))
    }

    /// Takes `n` leases, all or none, waiting up to `timeout` for all of them;
    /// `None` if it timed out (the leases taken meanwhile are returned).
    pub async fn acquire_many(&self, n: usize, timeout: Duration) -> Result<Option<Vec<Lease>>> {
        self.acquire_leases(n, Some(Instant::now() + timeout)).await
    }

    /// The names of the lease nodes (Curator's `getParticipantNodes`).
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        path::validate_path(&self.path, false).map_err(zk_core::Error::from)?;
        match self.client.get_children(&self.leases_path()).await {
            Ok(children) => Ok(children),
            Err(e) if e.code() == Some(Code::NoNode) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes `n` leases one after another, until `deadline`.
    pub(crate) async fn acquire_leases(
        &self,
        n: usize,
        deadline: Option<Instant>,
    ) -> Result<Option<Vec<Lease>>> {
        self.check(n)?;
        let mutex = LockQueue::new(
            self.client.clone(),
            &path::join(&self.path, LOCK_PARENT),
            Driver::Mutex(MUTEX_NAME),
        )?;
        let leases = LockQueue::new(
            self.client.clone(),
            &self.leases_path(),
            Driver::Mutex(LEASE_NAME),
        )?;
        let chosen = lock(&self.data).clone();
        let data = match chosen {
            Some(data) => data,
            None => curator_default_data().await,
        };
        let mutex_data = curator_default_data().await;
        let mut taken = Vec::with_capacity(n);
        while taken.len() < n {
            let attempt = Attempt {
                queue: &mutex,
                data: &mutex_data,
                fixed_sequence: None,
                revocation: None,
            };
            // An error drops what was taken, which releases it in the background; a
            // timeout gives it back before returning.
            let Some((mutex_node, _, _)) = hold(&attempt, deadline).await? else {
                give_back(taken).await;
                return Ok(None);
            };
            let turn = self.lease_under_mutex(&leases, &data, deadline).await;
            mutex_node.delete().await;
            match turn? {
                LeaseTurn::Held(held) => taken.push(LockGuard::new(held.into())),
                LeaseTurn::TimedOut => {
                    give_back(taken).await;
                    return Ok(None);
                }
                LeaseTurn::OursGone => {
                    tracing::info!(path = %self.path, "our lease node went; taking a new one");
                }
            }
        }
        Ok(Some(taken))
    }

    /// With the semaphore's mutex held: creates a lease node and waits until it
    /// is among at most `max_leases`.
    async fn lease_under_mutex(
        &self,
        leases: &LockQueue,
        data: &Bytes,
        deadline: Option<Instant>,
    ) -> Result<LeaseTurn> {
        let Some(own) = bounded(deadline, leases.create(data, None)).await else {
            return Ok(LeaseTurn::TimedOut);
        };
        let own = own?;
        match bounded(deadline, self.wait_for_room(leases, &own)).await {
            None => {
                own.delete().await;
                Ok(LeaseTurn::TimedOut)
            }
            Some(Err(e)) => {
                own.delete().await;
                Err(e)
            }
            Some(Ok(None)) => {
                own.delete().await;
                Ok(LeaseTurn::OursGone)
            }
            Some(Ok(Some((watcher, states)))) => {
                Ok(LeaseTurn::Held(Held::start(own, watcher, states, None)))
            }
        }
    }

    /// Waits until our lease node is among at most `max_leases`; `None` if it is
    /// gone. Returns the watch on our node and the states since it was confirmed.
    async fn wait_for_room(
        &self,
        leases: &LockQueue,
        own: &OwnNode,
    ) -> Result<
        Option<(
            zk_core::framework::Watcher,
            zk_core::framework::ConnectionStates,
        )>,
    > {
        let name = path::node_name(own.path());
        loop {
            let states = self.client.connection_states();
            let (mut children, _, changed) =
                self.client.get_children(&leases.base).watched().await?;
            if !children.iter().any(|c| c == name) {
                return Ok(None);
            }
            remove_own_duplicates(&self.client, &leases.base, &mut children, name).await?;
            if children.len() <= self.max_leases {
                return Ok(confirm_owner(&self.client, own.path())
                    .await?
                    .map(|watcher| (watcher, states)));
            }
            // A lease returned (or a session ended): count again.
            let _ = changed.await;
        }
    }

    fn leases_path(&self) -> String {
        path::join(&self.path, LEASE_PARENT)
    }

    /// Refuses what cannot work, before anything is sent.
    fn check(&self, n: usize) -> Result<()> {
        path::validate_path(&self.path, false).map_err(zk_core::Error::from)?;
        if self.max_leases == 0 {
            return Err(LockError::InvalidArgument(format!(
                "the semaphore at {} has no leases (max_leases is 0)",
                self.path
            )));
        }
        if n == 0 {
            return Err(LockError::InvalidArgument("asked for 0 leases".into()));
        }
        if n > self.max_leases {
            return Err(LockError::InvalidArgument(format!(
                "asked for {n} leases of a semaphore that has {}",
                self.max_leases
            )));
        }
        Ok(())
    }
}

/// Returns leases taken by an acquire that did not get them all, waiting for their
/// nodes to go (a delete that fails goes on in the background).
async fn give_back(leases: Vec<Lease>) {
    for lease in leases {
        if let Err(e) = lease.release().await {
            tracing::debug!(error = %e, "returning a lease of an acquire that timed out");
        }
    }
}
