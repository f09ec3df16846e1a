//! Cache events as `(kind, path, data)` summaries, so a test can assert an exact
//! sequence in one `assert_eq!`, and the check every cache test ends with: a marker
//! node created last must be the very next event (nothing unexpected came before it).

use std::fmt::Debug;

use bytes::Bytes;
use zk_core::Client;
use zk_recipes::cache::CacheEvents;

use super::nodes::create;
use super::wait::{next, take};

/// `(kind, path, data)` of an event; connection events and `initialized` have an
/// empty path and no data.
pub(crate) type Summary = (&'static str, String, Option<Bytes>);

/// A cache's event type, as its test file summarises it.
pub(crate) trait Summarize: Debug {
    /// The kind of the event a new node is reported with (`"added"`, `"created"`).
    const ADDED: &'static str;

    /// This event's summary.
    fn summary(&self) -> Summary;
}

/// The summary of a node event carrying `data`.
pub(crate) fn ev(kind: &'static str, path: &str, data: &'static [u8]) -> Summary {
    (kind, path.to_string(), Some(Bytes::from_static(data)))
}

/// The summary of an event about no node (a connection state, `initialized`).
pub(crate) fn conn(kind: &'static str) -> Summary {
    (kind, String::new(), None)
}

/// The next `n` events of `events`, summarised.
pub(crate) async fn next_summaries<E: Summarize>(
    events: &mut CacheEvents<E>,
    n: usize,
) -> Vec<Summary> {
    take(events, n).await.iter().map(E::summary).collect()
}

/// Creates `<base>/zz-marker` holding `m` and asserts that the next event is its
/// addition.
pub(crate) async fn assert_quiet_until_marker<E: Summarize>(
    client: &Client,
    base: &str,
    events: &mut CacheEvents<E>,
) {
    let marker = format!("{base}/zz-marker");
    create(client, &marker, b"m").await;
    assert_eq!(
        next(events).await.summary(),
        ev(E::ADDED, &marker, b"m"),
        "an unexpected event came before the marker"
    );
}
