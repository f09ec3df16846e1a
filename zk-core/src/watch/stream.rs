//! The handles a caller holds for its watches: a future for a one-shot watch and a
//! stream for a persistent one.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::{mpsc, oneshot};

use crate::proto::KeeperState;
use crate::watch::WatchedEvent;

/// A one-shot watch: resolves once, with the node's change or the session's end.
#[derive(Debug)]
#[must_use = "a watch does nothing unless awaited"]
pub struct OneshotWatch {
    rx: oneshot::Receiver<WatchedEvent>,
    path: String,
}

impl OneshotWatch {
    pub(crate) fn new(rx: oneshot::Receiver<WatchedEvent>, path: String) -> Self {
        OneshotWatch { rx, path }
    }

    /// The watched path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Future for OneshotWatch {
    type Output = WatchedEvent;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WatchedEvent> {
        let this = &mut *self;
        Pin::new(&mut this.rx).poll(cx).map(|r| {
            // The session task ends every watch before it exits; a dropped sender
            // without an event can only mean the task is gone, which is a close.
            r.unwrap_or_else(|_| WatchedEvent::session_end(KeeperState::Closed, &this.path))
        })
    }
}

/// A persistent (optionally recursive) watch: a stream of events that lasts until the
/// watch is removed or the session ends. The session's end is delivered as a last
/// event for which [`WatchedEvent::is_session_end`] is true.
#[derive(Debug)]
pub struct PersistentWatch {
    rx: mpsc::UnboundedReceiver<WatchedEvent>,
    path: String,
    done: bool,
}

impl PersistentWatch {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<WatchedEvent>, path: String) -> Self {
        PersistentWatch {
            rx,
            path,
            done: false,
        }
    }

    /// The watched path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Stream for PersistentWatch {
    type Item = WatchedEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<WatchedEvent>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(ev)) => {
                if ev.is_session_end()
                    || ev.event_type == crate::proto::EventType::PersistentWatchRemoved
                {
                    self.done = true;
                }
                Poll::Ready(Some(ev))
            }
            Poll::Ready(None) => {
                self.done = true;
                let path = self.path.clone();
                Poll::Ready(Some(WatchedEvent::session_end(KeeperState::Closed, &path)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
