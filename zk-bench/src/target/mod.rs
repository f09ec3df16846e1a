//! The client libraries measured in Rust, behind one small trait so the phase
//! runner is the same code for both (and monomorphised for each).

pub mod zk_core;
pub mod zookeeper_client;

use std::time::Duration;

use crate::workload::Op;

/// What the runner asks of a client for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A measured operation.
    Op(Op),
    /// Create a persistent node with the payload unless it exists (setup).
    Ensure,
    /// Delete a node if it exists (cleanup).
    Delete,
}

/// One connected client of a library under test.
pub trait Target: Sized {
    /// The name in result lines.
    const NAME: &'static str;

    /// Connects to `addr` (`host:port`) and waits for the session, up to `timeout`.
    async fn connect(addr: &str, timeout: Duration) -> Result<Self, String>;

    /// Performs `action` on `path`; `data` is the payload for writes.
    async fn act(&self, action: Action, path: &str, data: &[u8]) -> Result<(), String>;

    /// Closes the session.
    async fn close(self);
}
