//! Bounded waits: every one fails the test, naming what it waited for, once
//! [`DEADLINE`] passes. Tests wait on events and conditions, never on fixed sleeps.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::time::Instant;
use zk_core::ConnectionState;

/// How long any awaited outcome may take before the test fails: generous, as the
/// machine is small and shared.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// The next item of `stream`, failing the test if none comes within [`DEADLINE`].
pub(crate) async fn next<S>(stream: &mut S) -> S::Item
where
    S: Stream + Unpin,
    S::Item: Debug,
{
    match tokio::time::timeout(DEADLINE, stream.next()).await {
        Ok(Some(item)) => item,
        Ok(None) => panic!("the stream ended while an item was expected"),
        Err(_) => panic!("no item within {DEADLINE:?}"),
    }
}

/// The next `n` items of `stream`, each within [`DEADLINE`].
pub(crate) async fn take<S>(stream: &mut S, n: usize) -> Vec<S::Item>
where
    S: Stream + Unpin,
    S::Item: Debug,
{
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(next(stream).await);
    }
    items
}

/// Skips connection states until `want` comes (a client's `connection_states()`).
pub(crate) async fn wait_for_state(
    states: &mut (impl Stream<Item = ConnectionState> + Unpin),
    want: ConnectionState,
) {
    tokio::time::timeout(DEADLINE, async {
        while let Some(s) = states.next().await {
            if s == want {
                return;
            }
        }
        panic!("the client closed before reaching {want:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {want:?} within {DEADLINE:?}"));
}

/// Polls `probe` every 50 ms until it returns `Some` (for conditions that need a round
/// trip to the server).
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks `cond` every 10 ms until it holds (for conditions on local state).
pub(crate) async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
