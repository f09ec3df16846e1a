//! Leadership events and the fan-out that delivers them to every subscriber.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use crate::leader::token::FencingToken;
use crate::plumbing::lock;

/// A change of leadership for one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadershipEvent {
    /// This participant is now the leader; the token identifies this leadership.
    IsLeader(FencingToken),
    /// This participant is no longer the leader.
    NotLeader,
}

/// A stream of [`LeadershipEvent`]s from the moment it was asked for. It ends when
/// the recipe closes.
#[derive(Debug)]
pub struct LeadershipEvents {
    rx: mpsc::UnboundedReceiver<LeadershipEvent>,
}

impl Stream for LeadershipEvents {
    type Item = LeadershipEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<LeadershipEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// The subscribers of one recipe.
#[derive(Debug, Default)]
pub(crate) struct Subscribers {
    senders: Mutex<Vec<mpsc::UnboundedSender<LeadershipEvent>>>,
}

impl Subscribers {
    /// A new subscriber's stream.
    pub(crate) fn subscribe(&self) -> LeadershipEvents {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.senders).push(tx);
        LeadershipEvents { rx }
    }

    /// Sends `event` to every subscriber still listening.
    pub(crate) fn send(&self, event: LeadershipEvent) {
        lock(&self.senders).retain(|tx| tx.send(event).is_ok());
    }

    /// Drops every subscriber: their streams end.
    pub(crate) fn clear(&self) {
        lock(&self.senders).clear();
    }
}
