//! The one event loop of the caches that hold a watch per node (path children,
//! node, tree): each cache's worker says what it does with a state, a fired watch and
//! a full re-read; [`follow`] decides when each happens.

use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;

use tracing::{debug, warn};
use zk_core::{ConnectionState, WatchedEvent};

use super::driver::{Driver, Step};

/// What one watch-based cache does at each step of [`follow`].
pub(crate) trait CacheWorker: Send {
    /// What the cache's watches are held under.
    type Key: Eq + Hash + Clone + Send + Debug + 'static;

    /// The worker's connection states, watches and re-read schedule.
    fn driver(&mut self) -> &mut Driver<Self::Key>;

    /// What the cache adds to a connection state, after the driver noted it.
    fn on_state(&mut self, _state: ConnectionState) {}

    /// Answers one fired watch that the driver says must be read now. A failed
    /// answer is tried again later (after a pause, or on reconnection).
    fn on_watch(
        &mut self,
        key: Self::Key,
        event: WatchedEvent,
    ) -> impl Future<Output = zk_core::Result<()>> + Send;

    /// Called once the watches that fired together were handled, `answered` of them
    /// by [`CacheWorker::on_watch`].
    fn after_watches(&mut self, _answered: usize) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Reads everything again and reports the differences; tells the driver's
    /// re-read schedule whether it succeeded.
    fn full_refresh(&mut self) -> impl Future<Output = ()> + Send;
}

/// The body of a watch-based cache's task: a full read first if `read_first`, then
/// one step at a time until the client is closed. Every watch that has already fired
/// is handled in the same step, in the order they resolve; a full re-read that is
/// owed follows the step, once the connection is up.
pub(crate) async fn follow<W: CacheWorker>(mut worker: W, read_first: bool) {
    if read_first {
        worker.full_refresh().await;
    }
    loop {
        match worker.driver().next().await {
            Step::ClientClosed => {
                debug!("client closed: the cache stops following it");
                return;
            }
            Step::State(state) => {
                worker.driver().note_state(state);
                worker.on_state(state);
            }
            Step::Watch(fired) => {
                let mut answered = 0;
                let mut next = Some(fired);
                while let Some(fired) = next {
                    if let Some((key, event)) = worker.driver().take_event(fired) {
                        answer(&mut worker, key, event).await;
                        answered += 1;
                    }
                    // Polled after the answer: a watch the answer set that has
                    // already fired belongs to this step too.
                    next = worker.driver().ready();
                }
                worker.after_watches(answered).await;
            }
            Step::Retry => {}
        }
        if worker.driver().should_resync() {
            worker.full_refresh().await;
        }
        let deferred = worker.driver().take_deferred();
        if !deferred.is_empty() {
            debug!(count = deferred.len(), "answering the watches that waited");
            let answered = deferred.len();
            for (key, event) in deferred {
                answer(&mut worker, key, event).await;
            }
            worker.after_watches(answered).await;
        }
    }
}

/// Answers one watch; a failed answer waits (a pause, or the reconnection).
async fn answer<W: CacheWorker>(worker: &mut W, key: W::Key, event: WatchedEvent) {
    if let Err(e) = worker.on_watch(key.clone(), event.clone()).await {
        warn!(error = %e, ?key, "reading after a watch failed; will try again");
        worker.driver().defer(key, event, true);
    }
}
