//! Start-once/close-once bookkeeping and the cache's one background task.
//!
//! Every cache is started at most once and closed at most once, like Curator's
//! (LATENT, STARTED, CLOSED). The task that keeps a cache in sync is owned here: it is
//! aborted by `close()` and when the cache is dropped, so none outlives its cache.

use std::sync::Mutex;

use tokio::task::JoinHandle;

use super::error::CacheError;
use crate::plumbing::FanOut;
use crate::plumbing::lock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Latent,
    Starting,
    Started,
    Closed,
}

/// A cache's phase and background task.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phase: Mutex<Phase>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// Held while `start()` runs; dropping it without [`StartGuard::commit`] (an error,
/// or the caller giving up on the future) returns the cache to its unstarted phase.
#[derive(Debug)]
pub(crate) struct StartGuard<'a> {
    life: &'a Lifecycle,
    committed: bool,
}

impl Lifecycle {
    pub(super) fn new() -> Self {
        Lifecycle {
            phase: Mutex::new(Phase::Latent),
            task: Mutex::new(None),
        }
    }

    /// Moves from unstarted to starting, or says why not.
    pub(super) fn begin_start(&self) -> Result<StartGuard<'_>, CacheError> {
        let mut phase = lock(&self.phase);
        match *phase {
            Phase::Latent => {
                *phase = Phase::Starting;
                Ok(StartGuard {
                    life: self,
                    committed: false,
                })
            }
            Phase::Starting | Phase::Started => Err(CacheError::AlreadyStarted),
            Phase::Closed => Err(CacheError::Closed),
        }
    }

    /// Marks the cache closed; returns false if it already was.
    pub(super) fn close(&self) -> bool {
        let mut phase = lock(&self.phase);
        let was_open = *phase != Phase::Closed;
        *phase = Phase::Closed;
        was_open
    }

    /// What every cache's `close()` does, in this order: mark the cache closed (so a
    /// `start()` still running spawns nothing), end its event streams (so nothing is
    /// sent after close), then stop its task and wait until it is gone.
    pub(super) async fn shut_down<E: Clone>(&self, hub: &FanOut<E>) {
        self.close();
        hub.close();
        self.stop_task().await;
    }

    /// Aborts the background task and waits until it is gone.
    pub(super) async fn stop_task(&self) {
        let task = lock(&self.task).take();
        if let Some(task) = task {
            task.abort();
            // A task that was aborted (or that panicked) ends with an error; either way
            // it no longer runs, which is all that is awaited here.
            let _ = task.await;
        }
    }

    /// Whether the background task is running.
    pub(super) fn is_running(&self) -> bool {
        lock(&self.task).as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl StartGuard<'_> {
    /// Spawns the background task and marks the cache started, unless the cache was
    /// closed while starting (then the task is not spawned).
    pub(super) fn commit<F>(mut self, task: F) -> Result<(), CacheError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.committed = true;
        let mut phase = lock(&self.life.phase);
        if *phase != Phase::Starting {
            return Err(CacheError::Closed);
        }
        *phase = Phase::Started;
        *lock(&self.life.task) = Some(tokio::spawn(task));
        Ok(())
    }
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let mut phase = lock(&self.life.phase);
            if *phase == Phase::Starting {
                *phase = Phase::Latent;
            }
        }
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_once_and_a_failed_start_can_be_retried() {
        let life = Lifecycle::new();
        let guard = life.begin_start().unwrap();
        assert!(matches!(
            life.begin_start(),
            Err(CacheError::AlreadyStarted)
        ));
        drop(guard);
        let guard = life.begin_start().unwrap();
        guard.commit(std::future::pending()).unwrap();
        assert!(life.is_running());
        assert!(matches!(
            life.begin_start(),
            Err(CacheError::AlreadyStarted)
        ));
        assert!(life.close());
        life.stop_task().await;
        assert!(!life.is_running());
        assert!(!life.close());
        assert!(matches!(life.begin_start(), Err(CacheError::Closed)));
    }

    #[tokio::test]
    async fn closing_while_starting_spawns_nothing() {
        let life = Lifecycle::new();
        let guard = life.begin_start().unwrap();
        life.close();
        assert!(matches!(
            guard.commit(std::future::pending()),
            Err(CacheError::Closed)
        ));
        assert!(!life.is_running());
    }
}
