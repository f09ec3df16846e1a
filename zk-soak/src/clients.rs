//! How the soak's clients are built, and the waits on their connection states.

use std::time::Duration;

use futures::StreamExt;
use tokio::time::{Instant, timeout_at};
use zk_core::{Client, ConnectionState, ConnectionStates};
use zk_retry::ExponentialBackoffRetry;

use crate::error::{SoakError, SoakResult};

/// How long an operation of a soak client waits for a connection before it fails.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for `connect_string` with the soak's settings: `session_timeout`, a 10 s connection
/// timeout and Curator's usual exponential backoff (100 ms base, 5 retries).
pub fn build_client(connect_string: &str, session_timeout: Duration) -> SoakResult<Client> {
    Client::builder()
        .connect_string(connect_string)
        .session_timeout(session_timeout)
        .connection_timeout(CONNECTION_TIMEOUT)
        .retry_policy(ExponentialBackoffRetry::new(Duration::from_millis(100), 5))
        .build()
        .map_err(|e| SoakError::setup("building a client", e))
}

/// A client built by [`build_client`], once it is connected (bounded by `within`).
pub async fn connected_client(
    connect_string: &str,
    session_timeout: Duration,
    within: Duration,
) -> SoakResult<Client> {
    let client = build_client(connect_string, session_timeout)?;
    client
        .block_until_connected(within)
        .await
        .map_err(|e| SoakError::setup("connecting a client", e))?;
    Ok(client)
}

/// Waits on `states` until `wanted` arrives, up to `deadline`; any other state on the way is
/// returned with the error, so a run that fails says what it saw instead.
pub async fn wait_for_state(
    states: &mut ConnectionStates,
    wanted: ConnectionState,
    deadline: Instant,
) -> SoakResult<()> {
    let mut seen = Vec::new();
    loop {
        match timeout_at(deadline, states.next()).await {
            Ok(Some(state)) if state == wanted => return Ok(()),
            Ok(Some(state)) => seen.push(state),
            Ok(None) => {
                return Err(SoakError::Stuck(format!(
                    "the client closed while waiting for {wanted:?} (saw {seen:?})"
                )));
            }
            Err(_) => {
                return Err(SoakError::Stuck(format!(
                    "no {wanted:?} in time (saw {seen:?})"
                )));
            }
        }
    }
}
