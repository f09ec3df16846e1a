//! Distributed locks and semaphores on Apache Curator 5's `locks` layout, so that
//! Java holders on Curator and Rust holders here exclude each other on one path.
//!
//! - [`InterProcessMutex`]: a re-entrant mutex (`lock-` nodes).
//! - [`InterProcessSemaphoreMutex`]: a mutex that is not re-entrant (a semaphore
//!   of one lease).
//! - [`InterProcessReadWriteLock`]: shared readers, exclusive writers (`__READ__`
//!   and `__WRIT__` nodes under one path), with downgrade.
//! - [`InterProcessSemaphoreV2`]: `max_leases` leases (`<path>/leases`, guarded by
//!   the mutex at `<path>/locks`).
//! - [`InterProcessMultiLock`]: several locks, all or nothing.
//! - [`Revoker`]: asks a holder of a revocable lock to release.
//!
//! Past Curator: every acquire is cancellation-safe (a dropped or timed-out acquire
//! leaves no node), a [`LockGuard`] says when it stops being safe
//! ([`lost`](LockGuard::lost), [`is_held`](LockGuard::is_held)), carries a
//! [`FencingToken`], and gates writes on still holding
//! ([`transaction`](LockGuard::transaction)); a waiter also watches its own node, so
//! a node lost while waiting is replaced at once.

mod acquire;
pub(crate) mod driver;
mod error;
mod guard;
mod held;
mod multi;
mod mutex;
mod node_data;
pub(crate) mod queue;
mod read_write;
mod revocation;
mod semaphore;
mod semaphore_mutex;

pub use crate::plumbing::FencingToken;
pub use error::{LockError, Result};
pub use guard::{Lease, LockGuard};
pub use multi::{InterProcessLock, InterProcessMultiLock, MultiLockGuard};
pub use mutex::InterProcessMutex;
pub use read_write::InterProcessReadWriteLock;
pub use revocation::Revoker;
pub use semaphore::InterProcessSemaphoreV2;
pub use semaphore_mutex::InterProcessSemaphoreMutex;
