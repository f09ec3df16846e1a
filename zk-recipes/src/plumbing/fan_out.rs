//! Event fan-out, one for every recipe: each subscriber sees the events sent after it
//! subscribed, in order, none dropped, until the recipe closes.
//!
//! Unbounded channels, not a broadcast ring: a recipe's events describe changes (to
//! a cache's contents, to leadership), and a subscriber that lagged and missed one
//! would hold a wrong picture.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use super::lock;

/// A stream of a recipe's events from the moment of subscription on. It ends when the
/// recipe is closed or dropped.
#[derive(Debug)]
pub struct Events<E> {
    rx: mpsc::UnboundedReceiver<E>,
}

impl<E> Stream for Events<E> {
    type Item = E;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        self.rx.poll_recv(cx)
    }
}

/// The subscribers of one recipe. `None` once closed: later subscribers get an
/// ended stream.
#[derive(Debug)]
pub(crate) struct FanOut<E> {
    senders: Mutex<Option<Vec<mpsc::UnboundedSender<E>>>>,
}

impl<E> Default for FanOut<E> {
    fn default() -> Self {
        FanOut {
            senders: Mutex::new(Some(Vec::new())),
        }
    }
}

impl<E: Clone> FanOut<E> {
    /// A fan-out with no subscriber yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A new subscriber's stream (already ended if the fan-out is closed).
    pub(crate) fn subscribe(&self) -> Events<E> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(senders) = lock(&self.senders).as_mut() {
            senders.push(tx);
        }
        Events { rx }
    }

    /// Sends `event` to every live subscriber; forgets those that went away.
    pub(crate) fn emit(&self, event: E) {
        if let Some(senders) = lock(&self.senders).as_mut() {
            senders.retain(|tx| tx.send(event.clone()).is_ok());
        }
    }

    /// Ends every subscriber's stream; nothing is sent afterwards.
    pub(crate) fn close(&self) {
        lock(&self.senders).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn each_subscriber_sees_events_from_its_subscription_on_until_close() {
        let hub = FanOut::new();
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
