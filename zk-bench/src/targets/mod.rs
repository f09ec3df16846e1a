//! The client libraries measured in Rust, behind one small trait so the phase
//! runner is the same code for both (and monomorphised for each).

pub(crate) mod zk_core;
pub(crate) mod zookeeper_client;

use std::future::Future;
use std::time::Duration;

use crate::workload::Op;

/// What the runner asks of a client for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A measured operation.
    Op(Op),
    /// Create a persistent node with the payload unless it exists (setup).
    Ensure,
    /// Delete a node if it exists (cleanup).
    Delete,
}

/// One connected client of a library under test. Its futures are `Send`, so the
/// whole client runs as a spawned task, as application code usually does.
pub(crate) trait Target: Sized + Send + Sync + 'static {
    /// The name in result lines.
    const NAME: &'static str;

    /// Connects to `addr` (`host:port`), over TLS trusting the CA in `tls_ca` (PEM)
    /// when given, and waits for the session, up to `timeout`.
    fn connect(
        addr: &str,
        tls_ca: Option<&str>,
        timeout: Duration,
    ) -> impl Future<Output = Result<Self, String>> + Send;

    /// Performs `action` on `path`; `data` is the payload for writes.
    fn act(
        &self,
        action: Action,
        path: &str,
        data: &[u8],
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Closes the session.
    fn close(self) -> impl Future<Output = ()> + Send;
}
