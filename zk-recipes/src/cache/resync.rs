//! When a cache must read everything again: after its session ended (a watch failed
//! with the session's end, or the client reported LOST), after a reconnect, or after a
//! read that failed. A failed read is retried with a growing delay, and at once when
//! the client reports RECONNECTED.

use std::time::Duration;

use tokio::time::Instant;

const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Whether a full re-read is owed, and when to try it if the last one failed.
#[derive(Debug)]
pub(crate) struct Resync {
    needed: bool,
    retry_at: Option<Instant>,
    delay: Duration,
}

impl Resync {
    pub(super) fn new() -> Self {
        Resync {
            needed: false,
            retry_at: None,
            delay: FIRST_RETRY,
        }
    }

    /// A full re-read is owed.
    pub(super) fn mark(&mut self) {
        self.needed = true;
    }

    pub(super) fn is_needed(&self) -> bool {
        self.needed
    }

    /// The re-read failed: try again later (sooner if the connection comes back).
    pub(super) fn failed(&mut self) {
        self.needed = true;
        self.retry_at = Some(Instant::now() + self.delay);
        self.delay = (self.delay * 2).min(MAX_RETRY);
    }

    /// The re-read succeeded.
    pub(super) fn done(&mut self) {
        self.needed = false;
        self.retry_at = None;
        self.delay = FIRST_RETRY;
    }

    /// Resolves when a retry is due; never while none is scheduled.
    pub(super) async fn due(&self) {
        match self.retry_at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    /// Called when [`Resync::due`] resolved: the retry is now being made.
    pub(super) fn take_due(&mut self) {
        self.retry_at = None;
    }
}
