//! The handles a caller holds for its watches: a future for a one-shot watch and a
//! stream for a persistent one. Dropping either before it is done tells the
//! session task, which forgets the watch and removes the server's watch once no
//! other local watch needs it.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc::WeakUnboundedSender;
use tokio::sync::oneshot::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use crate::proto::KeeperState;
use crate::session::packet::Command;
use crate::watch::WatchedEvent;

/// Tells the session task that a watch's receiver was dropped. Holds the command
/// channel weakly: a watch does not keep its session alive.
#[derive(Debug, Clone)]
pub(crate) struct DropNotice(WeakUnboundedSender<Command>);

impl DropNotice {
    pub(crate) fn new(tx: &mpsc::UnboundedSender<Command>) -> Self {
        DropNotice(tx.downgrade())
    }

    /// Sends the notice for `path`; nothing if the session is gone.
    fn send(&self, path: &str) {
        if let Some(tx) = self.0.upgrade() {
            let _ = tx.send(Command::Unwatch {
                path: path.to_string(),
            });
        }
    }
}

/// A one-shot watch: resolves once, with the node's change or the session's end.
#[derive(Debug)]
#[must_use = "a watch does nothing unless awaited"]
pub struct OneshotWatch {
    rx: oneshot::Receiver<WatchedEvent>,
    path: String,
    notice: DropNotice,
}

impl OneshotWatch {
    pub(crate) fn new(
        rx: oneshot::Receiver<WatchedEvent>,
        path: String,
        notice: DropNotice,
    ) -> Self {
        OneshotWatch { rx, path, notice }
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

impl Drop for OneshotWatch {
    /// A watch dropped before it fired: the task forgets it, and removes the server's
    /// watch if no other local watch on the path needs it.
    fn drop(&mut self) {
        if let Err(TryRecvError::Empty) = self.rx.try_recv() {
            // Closed before the notice goes, so the task sees it closed (the field
            // itself is dropped only after this).
            self.rx.close();
            self.notice.send(&self.path);
        }
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
    notice: DropNotice,
}

impl PersistentWatch {
    pub(crate) fn new(
        rx: mpsc::UnboundedReceiver<WatchedEvent>,
        path: String,
        notice: DropNotice,
    ) -> Self {
        PersistentWatch {
            rx,
            path,
            done: false,
            notice,
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

impl Drop for PersistentWatch {
    /// A stream dropped while its watch lives: the task forgets it, and removes the
    /// server's watch if no other local watch on the path needs it.
    fn drop(&mut self) {
        if !self.done {
            // Closed before the notice goes, as for a one-shot watch.
            self.rx.close();
            self.notice.send(&self.path);
        }
    }
}
