//! Event fan-out: every cache sends its events to any number of subscribers, each of
//! which sees the events sent after it subscribed, in order, none dropped.
//!
//! Unbounded channels, not a broadcast ring: a cache's events describe changes to its
//! contents, and a subscriber that lagged and missed one would hold a wrong picture.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use crate::plumbing::lock;
use futures::Stream;
use tokio::sync::mpsc;

/// A stream of a cache's events, from the moment of subscription on. It ends when the
/// cache is closed or dropped.
#[derive(Debug)]
pub struct CacheEvents<E> {
    rx: mpsc::UnboundedReceiver<E>,
}

impl<E> Stream for CacheEvents<E> {
    type Item = E;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        self.rx.poll_recv(cx)
    }
}

/// The senders of one cache. `None` once closed: later subscribers get an ended stream.
#[derive(Debug)]
pub(crate) struct EventHub<E> {
    senders: Mutex<Option<Vec<mpsc::UnboundedSender<E>>>>,
}

impl<E: Clone> EventHub<E> {
    pub(super) fn new() -> Self {
        EventHub {
            senders: Mutex::new(Some(Vec::new())),
        }
    }

    pub(super) fn subscribe(&self) -> CacheEvents<E> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(senders) = lock(&self.senders).as_mut() {
            senders.push(tx);
        }
        CacheEvents { rx }
    }

    /// Sends `event` to every live subscriber; forgets those that went away.
    pub(super) fn emit(&self, event: E) {
        if let Some(senders) = lock(&self.senders).as_mut() {
            senders.retain(|tx| tx.send(event.clone()).is_ok());
        }
    }

    /// Ends every subscriber's stream; nothing is sent afterwards.
    pub(super) fn close(&self) {
        lock(&self.senders).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn each_subscriber_sees_events_from_its_subscription_on_until_close() {
        let hub = EventHub::new();
        let mut early = hub.subscribe();
        hub.emit(1);
        let mut late = hub.subscribe();
        hub.emit(2);
        hub.close();
        hub.emit(3);
        assert_eq!(early.by_ref().collect::<Vec<_>>().await, [1, 2]);
        assert_eq!(late.by_ref().collect::<Vec<_>>().await, [2]);
        assert_eq!(hub.subscribe().next().await, None);
    }
}
