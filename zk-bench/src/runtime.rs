//! What every command of the benchmark builds the same way: its tokio runtime, and
//! a framework client connected the way Curator's `newClient` connects.

use std::time::Duration;

use zk_core::Client;
use zk_retry::RetryOneTime;

/// A current-thread runtime with I/O and timers, as every driver and most clients run.
pub(crate) fn current_thread() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

/// Connects to `addr` as Curator's `newClient(addr, session_timeout, 15000, new
/// RetryOneTime(100))` would (the Java sides of the recipe benchmarks do exactly
/// that), with `max_frame_len` when given, and waits up to 15 s for the session.
pub(crate) async fn curator_like_client(
    addr: &str,
    session_timeout: Duration,
    max_frame_len: Option<usize>,
) -> Result<Client, String> {
    let mut builder = Client::builder()
        .connect_string(addr.to_string())
        .session_timeout(session_timeout)
        .connection_timeout(Duration::from_secs(15))
        .retry_policy(RetryOneTime::new(Duration::from_millis(100)));
    if let Some(len) = max_frame_len {
        builder = builder.max_frame_len(len);
    }
    let client = builder.build().map_err(|e| format!("client: {e}"))?;
    client
        .block_until_connected(Duration::from_secs(15))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(client)
}
