//! Watches at the framework level: a one-shot [`Watcher`] that resolves to the
//! node's change or to an error when its session ended, and persistent watches.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{Error, Result};
use crate::framework::Client;
use crate::framework::ops::OpFuture;
use crate::proto::{AddWatchMode, KeeperState};
use crate::watch::{OneshotWatch, PersistentWatch, WatchedEvent};

/// A one-shot watch set by a `.watched()` read. Resolves to the event that
/// triggered it, or to [`Error::SessionExpired`] (or [`Error::Closed`]) when the
/// session that held it ended first: after that the caller must read again (on the
/// client's new session) and set a new watch.
#[derive(Debug)]
#[must_use = "a watch does nothing unless awaited"]
pub struct Watcher {
    inner: OneshotWatch,
    namespace_len: usize,
}

impl Watcher {
    pub(crate) fn new(inner: OneshotWatch, namespace_len: usize) -> Self {
        Watcher {
            inner,
            namespace_len,
        }
    }
}

impl Future for Watcher {
    type Output = Result<WatchedEvent>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let ns = self.namespace_len;
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|ev| session_end_as_error(ev, ns))
    }
}

/// Maps a watch event to the framework's form: node events keep their path (the
/// namespace removed); session ends become errors.
pub(crate) fn session_end_as_error(
    mut ev: WatchedEvent,
    namespace_len: usize,
) -> Result<WatchedEvent> {
    if ev.is_session_end() {
        return Err(match ev.keeper_state {
            KeeperState::Expired => Error::SessionExpired,
            KeeperState::AuthFailed => Error::AuthFailed,
            _ => Error::Closed,
        });
    }
    if namespace_len > 0 {
        ev.path = strip_len(&ev.path, namespace_len);
    }
    Ok(ev)
}

fn strip_len(path: &str, n: usize) -> String {
    match path.get(n..) {
        Some("") => "/".to_string(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => path.to_string(),
    }
}

/// A persistent watch at the framework level: events with the namespace removed;
/// the stream ends after an `Err` when its session ends.
#[derive(Debug)]
pub struct WatchStream {
    inner: PersistentWatch,
    namespace_len: usize,
    done: bool,
}

impl futures::Stream for WatchStream {
    type Item = Result<WatchedEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let ns = self.namespace_len;
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(ev)) => {
                let r = session_end_as_error(ev, ns);
                self.done = r.is_err();
                Poll::Ready(Some(r))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// `client.watch(path, mode)`: adds a persistent (recursive) watch.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct AddWatchBuilder<'a> {
    client: &'a Client,
    path: &'a str,
    mode: AddWatchMode,
}

impl<'a> AddWatchBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str, mode: AddWatchMode) -> Self {
        AddWatchBuilder { client, path, mode }
    }
}

impl<'a> IntoFuture for AddWatchBuilder<'a> {
    type Output = Result<WatchStream>;
    type IntoFuture = OpFuture<'a, WatchStream>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let full = self.client.inner.namespace.apply(self.path, false)?;
            let ns = self.client.inner.namespace.len();
            let mode = self.mode;
            let full = &full;
            let inner = self
                .client
                .with_retry(|s| async move { s.add_watch(full, mode).await })
                .await?;
            Ok(WatchStream {
                inner,
                namespace_len: ns,
                done: false,
            })
        })
    }
}

impl Client {
    /// Sets a data watch on every node of `paths` in a few SetWatches requests,
    /// relative to `since_zxid`: the watch of a node changed after that zxid, or gone,
    /// fires at once; the others stay set, as if each node had been read with
    /// `.watched()`. Read the data first (unwatched, e.g. with
    /// [`multi_read`](Client::multi_read)), taking `since_zxid` from
    /// [`last_zxid`](Client::last_zxid) before those reads are sent; then no change
    /// after the read can be missed. See [`Session::watch_data_since`](crate::Session::watch_data_since).
    ///
    /// Runs inside the retry policy: a retried attempt sets every watch again, on
    /// the session of the moment (a change since `since_zxid` still fires).
    pub async fn watch_data_since(
        &self,
        paths: &[String],
        since_zxid: i64,
    ) -> Result<Vec<Watcher>> {
        let ns = &self.inner.namespace;
        let full = paths
            .iter()
            .map(|p| ns.apply(p, false))
            .collect::<Result<Vec<_>>>()?;
        let full: Vec<&str> = full.iter().map(|p| p.as_ref()).collect();
        let full = &full;
        let watches = self
            .with_retry(|s| async move { s.watch_data_since(full, since_zxid).await })
            .await?;
        Ok(watches
            .into_iter()
            .map(|w| Watcher::new(w, ns.len()))
            .collect())
    }

    /// The last zxid the client's current session has seen in a reply; 0 before
    /// the first.
    pub fn last_zxid(&self) -> i64 {
        self.session().last_zxid()
    }
}
