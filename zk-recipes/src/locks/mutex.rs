//! `InterProcessMutex`: Curator's re-entrant distributed mutex, and the two halves
//! of the read/write lock, which behave as mutexes.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use zk_core::Client;
use zk_core::path;

use crate::locks::acquire::{Attempt, acquire};
use crate::locks::driver::{Driver, MUTEX_NAME};
use crate::locks::error::{LockError, Result};
use crate::locks::guard::LockGuard;
use crate::locks::held::Held;
use crate::locks::node_data::curator_default_data;
use crate::locks::queue::LockQueue;
use crate::locks::revocation::RevocationListener;
use crate::plumbing::lock;

/// A distributed mutex on Curator's `InterProcessMutex` layout: Rust and Java
/// holders on one path exclude each other.
///
/// Each contender creates a protected ephemeral-sequential node
/// `<path>/_c_<uuid>-lock-<seq>` holding Curator's default data (the host's
/// address), and holds when its node is first; a waiter watches only the node just
/// before its own. Acquires are cancellation-safe: dropping an `acquire` future at
/// any point leaves no node behind.
///
/// The mutex is re-entrant per handle (and its clones), as Curator's is per
/// thread: while this handle holds, `acquire` returns another guard at once, and
/// the node goes when the last guard is released. Handles made with `new` are
/// separate contenders, even in one process.
///
/// ```no_run
/// # async fn f(client: zk_core::Client) -> Result<(), zk_recipes::locks::LockError> {
/// use zk_recipes::locks::InterProcessMutex;
/// let mutex = InterProcessMutex::new(client, "/locks/orders");
/// let guard = mutex.acquire().await?;
/// let token = guard.fencing_token();
/// // ... work, handing `token` to what is written ...
/// guard.release().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct InterProcessMutex {
    shared: Arc<Reentrant>,
}

/// The state of one handle.
struct Reentrant {
    client: Client,
    path: String,
    driver: Driver,
    /// What the nodes hold; `None`: Curator's default data.
    data: Option<Bytes>,
    /// For the read half of a read/write lock: the write half, which a holder of
    /// it may downgrade from.
    writer: Option<InterProcessMutex>,
    /// One acquire at a time per handle, so that concurrent ones share a holding.
    acquiring: tokio::sync::Mutex<()>,
    held: Mutex<Weak<Held>>,
    revocation: Mutex<Option<RevocationListener>>,
}

impl InterProcessMutex {
    /// A mutex at `path` (checked when acquiring; an invalid path is a typed error
    /// and sends nothing).
    pub fn new(client: Client, path: impl Into<String>) -> Self {
        Self::with_driver(client, path.into(), Driver::Mutex(MUTEX_NAME), None, None)
    }

    pub(crate) fn with_driver(
        client: Client,
        path: String,
        driver: Driver,
        data: Option<Bytes>,
        writer: Option<InterProcessMutex>,
    ) -> Self {
        InterProcessMutex {
            shared: Arc::new(Reentrant {
                client,
                path,
                driver,
                data,
                writer,
                acquiring: tokio::sync::Mutex::new(()),
                held: Mutex::new(Weak::new()),
                revocation: Mutex::new(None),
            }),
        }
    }

    /// The lock's path.
    pub fn path(&self) -> &str {
        &self.shared.path
    }

    /// Acquires the lock, waiting without bound.
    pub async fn acquire(&self) -> Result<LockGuard> {
        match self.acquire_until(None).await? {
            Some(guard) => Ok(guard),
            // Without a deadline an acquire only ends holding or failing.
            None => Err(LockError::InvalidArgument(
                "an acquire without a deadline ended without the lock".into(),
            )),
        }
    }

    /// Acquires the lock, waiting up to `timeout`; `None` if it timed out (and no
    /// node is left behind).
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<Option<LockGuard>> {
        self.acquire_until(Some(Instant::now() + timeout)).await
    }

    /// Acquires the lock, waiting until `deadline` if one is given.
    pub async fn acquire_until(&self, deadline: Option<Instant>) -> Result<Option<LockGuard>> {
        let shared = &*self.shared;
        let queue = LockQueue::new(shared.client.clone(), &shared.path, shared.driver)?;
        let one_at_a_time = match deadline {
            None => shared.acquiring.lock().await,
            Some(deadline) => {
                match tokio::time::timeout_at(deadline, shared.acquiring.lock()).await {
                    Ok(permit) => permit,
                    Err(_) => return Ok(None),
                }
            }
        };
        if let Some(guard) = self.reenter()? {
            return Ok(Some(guard));
        }
        let revocation = lock(&shared.revocation).clone();
        // Curator writes no data into a revocable lock's node.
        let data = match (&revocation, &shared.data) {
            (Some(_), _) => Bytes::new(),
            (None, Some(data)) => data.clone(),
            (None, None) => curator_default_data().await,
        };
        let fixed_sequence = self.downgrade_sequence();
        let attempt = Attempt {
            queue: &queue,
            data: &data,
            fixed_sequence: fixed_sequence.as_deref(),
            revocation,
        };
        let Some(held) = acquire(attempt, deadline).await? else {
            return Ok(None);
        };
        let held = Arc::new(held);
        *lock(&shared.held) = Arc::downgrade(&held);
        drop(one_at_a_time);
        Ok(Some(LockGuard::new(held)))
    }

    /// Whether this handle holds the lock now (some guard of it is alive and the
    /// lock has not been lost).
    pub fn is_acquired(&self) -> bool {
        lock(&self.shared.held)
            .upgrade()
            .is_some_and(|held| held.is_held())
    }

    /// Makes the lock revocable (Curator's `makeRevocable`): for acquires from now
    /// on, `listener` is called when someone asks this holder to release through
    /// [`Revoker::attempt_revoke`](crate::locks::Revoker::attempt_revoke), also for
    /// a request made while waiting. The listener should not block; it decides
    /// whether and when to release. A revocable lock's node holds no data, as
    /// Curator's does.
    pub fn make_revocable(&self, listener: impl Fn() + Send + Sync + 'static) {
        *lock(&self.shared.revocation) = Some(Arc::new(listener));
    }

    /// The paths of this lock's nodes in queue order: the first holds, the others
    /// wait. Empty if the lock's path does not exist.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        let shared = &*self.shared;
        let queue = LockQueue::new(shared.client.clone(), &shared.path, shared.driver)?;
        Ok(queue.participant_nodes().await?)
    }

    /// Another guard of this handle's current holding, if it holds.
    fn reenter(&self) -> Result<Option<LockGuard>> {
        let Some(held) = lock(&self.shared.held).upgrade() else {
            return Ok(None);
        };
        if held.is_held() {
            Ok(Some(LockGuard::new(held)))
        } else {
            Err(LockError::HeldLockLost {
                node: held.node().to_string(),
            })
        }
    }

    /// For a read half whose write half this handle holds: the write node's
    /// number, which the read node takes so that it sorts with the write node
    /// (Curator 5.5's fix of CURATOR-621: otherwise a writer queued between the
    /// two could take the write lock while the downgraded reader still reads).
    fn downgrade_sequence(&self) -> Option<String> {
        let writer = self.shared.writer.as_ref()?;
        let held = lock(&writer.shared.held).upgrade()?;
        let name = path::node_name(held.node());
        Some(Driver::Writer.key(name).to_string())
    }
}

impl fmt::Debug for InterProcessMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterProcessMutex")
            .field("path", &self.shared.path)
            .field("driver", &self.shared.driver)
            .field("acquired", &self.is_acquired())
            .finish_non_exhaustive()
    }
}
