//! When a cache must read everything again: after its session ended (a watch failed
//! with the session's end, or the client reported LOST), or after a full read that
//! failed. A failed read (full, or the answer to one watch) is retried with a growing
//! delay, and at once when the client reports RECONNECTED.

use tokio::time::Instant;

use crate::plumbing::backoff;

/// Whether a full re-read is owed, and when to try it if the last one failed.
#[derive(Debug)]
pub(crate) struct Resync {
    needed: bool,
    retry_at: Option<Instant>,
    /// Failed re-reads in a row.
    failures: u32,
}

impl Resync {
    pub(super) fn new() -> Self {
        Resync {
            needed: false,
            retry_at: None,
            failures: 0,
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
        self.retry_at = Some(Instant::now() + backoff::CACHE_RESYNC.delay_for(self.failures));
        self.failures = self.failures.saturating_add(1);
    }

    /// Something other than a full re-read failed and waits for a pause before it
    /// is tried again (at once if the connection comes back).
    pub(super) fn pause(&mut self) {
        if self.retry_at.is_none() {
            self.retry_at = Some(Instant::now() + backoff::CACHE_RESYNC.delay_for(self.failures));
            self.failures = self.failures.saturating_add(1);
        }
    }

    /// Whether a pause (after a failure) is still running.
    pub(super) fn is_paused(&self) -> bool {
        self.retry_at.is_some()
    }

    /// The re-read succeeded.
    pub(super) fn done(&mut self) {
        self.needed = false;
        self.retry_at = None;
        self.failures = 0;
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
