//! What a [`LeaderSelector`](super::LeaderSelector) runs while it leads, and what that
//! code is told about its leadership.

use std::future::Future;

use async_trait::async_trait;
use tokio::sync::watch;
use zk_core::Client;

use crate::plumbing::FencingToken;

/// The work a [`LeaderSelector`](super::LeaderSelector) does while it leads.
///
/// [`take_leadership`](Self::take_leadership) is called when this participant
/// becomes leader; leadership is held until it returns. When leadership is lost
/// first (SUSPENDED under the standard error policy, LOST, the lock node deleted,
/// [`interrupt_leadership`](super::LeaderSelector::interrupt_leadership) or close),
/// the future is dropped at its next `.await`, and
/// [`LeadershipContext::cancelled`] resolves for any work it handed elsewhere.
///
/// Closures work too: `|ctx: LeadershipContext| async move { ... }`.
#[async_trait]
pub trait LeaderSelectorListener: Send + Sync + 'static {
    /// Leads until this returns (or is cancelled).
    async fn take_leadership(&self, ctx: LeadershipContext);
}

#[async_trait]
impl<F, Fut> LeaderSelectorListener for F
where
    F: Fn(LeadershipContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    async fn take_leadership(&self, ctx: LeadershipContext) {
        (self)(ctx).await
    }
}

/// One leadership, as handed to [`LeaderSelectorListener::take_leadership`].
#[derive(Debug, Clone)]
pub struct LeadershipContext {
    pub(super) client: Client,
    pub(super) id: String,
    pub(super) node: String,
    pub(super) token: FencingToken,
    pub(super) cancel: watch::Receiver<bool>,
}

impl LeadershipContext {
    /// The client of the selector.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The selector's participant id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The full path of the lock node that holds this leadership.
    pub fn node_path(&self) -> &str {
        &self.node
    }

    /// The token of this leadership: larger than that of every earlier one.
    pub fn fencing_token(&self) -> FencingToken {
        self.token
    }

    /// Whether this leadership has ended.
    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow() || self.cancel.has_changed().is_err()
    }

    /// Resolves when this leadership ends.
    pub async fn cancelled(&self) {
        let mut rx = self.cancel.clone();
        // An error means the round is over: leadership has ended too.
        let _ = rx.wait_for(|c| *c).await;
    }
}
