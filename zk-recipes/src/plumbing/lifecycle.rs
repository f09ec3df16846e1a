//! The one lifecycle of every recipe: LATENT, then STARTED once, then CLOSED for
//! good, as Curator's recipes have it; with a STARTING phase for recipes whose
//! `start()` does work that may fail (a failed start can be tried again), and the
//! slot for a recipe's background task.

use std::future::Future;
use std::sync::Mutex;

use tokio::task::JoinHandle;

use super::{FanOut, lock};

/// Where a recipe is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Made, not started.
    Latent,
    /// `start()` is under way.
    Starting,
    /// Started.
    Started,
    /// Closed; it cannot start again.
    Closed,
}

/// Why a recipe could not start. Every family's error converts from it, so each says
/// `AlreadyStarted` and `Closed` the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LifecycleError {
    /// Started (or starting) already.
    AlreadyStarted,
    /// Closed.
    Closed,
}

/// A recipe's phase and its background task.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phase: Mutex<Phase>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// A start under way: [`commit`](StartGuard::commit) finishes it; dropped
/// uncommitted, the recipe is latent again.
#[derive(Debug)]
#[must_use = "a start guard dropped uncommitted undoes the start"]
pub(crate) struct StartGuard<'a> {
    life: &'a Lifecycle,
    committed: bool,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            phase: Mutex::new(Phase::Latent),
            task: Mutex::new(None),
        }
    }
}

impl Lifecycle {
    /// A latent lifecycle.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The phase now.
    pub(crate) fn phase(&self) -> Phase {
        *lock(&self.phase)
    }

    /// Whether the recipe is started (and not closed).
    pub(crate) fn is_started(&self) -> bool {
        self.phase() == Phase::Started
    }

    /// Whether the recipe is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.phase() == Phase::Closed
    }

    /// Starts at once: LATENT to STARTED.
    pub(crate) fn start(&self) -> Result<(), LifecycleError> {
        self.begin_start()?.commit()
    }

    /// Begins a start that may still fail: LATENT to STARTING.
    pub(crate) fn begin_start(&self) -> Result<StartGuard<'_>, LifecycleError> {
        let mut phase = lock(&self.phase);
        match *phase {
            Phase::Latent => {
                *phase = Phase::Starting;
                Ok(StartGuard {
                    life: self,
                    committed: false,
                })
            }
            Phase::Starting | Phase::Started => Err(LifecycleError::AlreadyStarted),
            Phase::Closed => Err(LifecycleError::Closed),
        }
    }

    /// Marks the recipe closed; returns the phase it was in (closing twice returns
    /// `Closed` the second time, so only the first close cleans up).
    pub(crate) fn close(&self) -> Phase {
        std::mem::replace(&mut *lock(&self.phase), Phase::Closed)
    }

    /// Closes the recipe, ends its subscribers' streams, and stops its task, in that
    /// order, so nothing is emitted after the streams end.
    pub(crate) async fn shut_down<E: Clone>(&self, fan_out: &FanOut<E>) {
        self.close();
        fan_out.close();
        self.stop_task().await;
    }

    /// Aborts the background task, if any, and waits until it no longer runs.
    pub(crate) async fn stop_task(&self) {
        let task = lock(&self.task).take();
        if let Some(task) = task {
            task.abort();
            // Aborted or panicked, it ends with an error; either way it no longer runs,
            // which is all that is awaited here.
            let _ = task.await;
        }
    }

    /// Waits up to `grace` for the background task to end by itself (after its recipe
    /// told it to stop), then aborts it; false if it had to be aborted.
    pub(crate) async fn wait_for_task(&self, grace: std::time::Duration) -> bool {
        let task = lock(&self.task).take();
        let Some(mut task) = task else { return true };
        if tokio::time::timeout(grace, &mut task).await.is_ok() {
            return true;
        }
        task.abort();
        let _ = task.await;
        false
    }

    /// Aborts the background task without waiting (for `Drop`).
    pub(crate) fn abort_task(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }

    /// Whether the background task is running.
    pub(crate) fn is_running(&self) -> bool {
        lock(&self.task).as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl StartGuard<'_> {
    /// Finishes the start, unless the recipe was closed meanwhile.
    pub(crate) fn commit(self) -> Result<(), LifecycleError> {
        self.commit_with(None::<std::future::Ready<()>>)
    }

    /// Finishes the start and spawns the recipe's background task, unless the recipe
    /// was closed meanwhile (then the task is not spawned).
    pub(crate) fn commit_spawning<F>(self, task: F) -> Result<(), LifecycleError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.commit_with(Some(task))
    }

    fn commit_with<F>(mut self, task: Option<F>) -> Result<(), LifecycleError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.committed = true;
        let mut phase = lock(&self.life.phase);
        if *phase != Phase::Starting {
            return Err(LifecycleError::Closed);
        }
        *phase = Phase::Started;
        if let Some(task) = task {
            *lock(&self.life.task) = Some(tokio::spawn(task));
        }
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
        self.abort_task();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifecycle_moves_forward_only() {
        let l = Lifecycle::new();
        assert!(!l.is_started() && !l.is_closed());
        l.start().unwrap();
        assert_eq!(l.start(), Err(LifecycleError::AlreadyStarted));
        assert!(l.is_started());
        assert_eq!(l.close(), Phase::Started);
        assert_eq!(
            l.close(),
            Phase::Closed,
            "a second close has nothing to clean up"
        );
        assert!(l.is_closed());
        assert_eq!(l.start(), Err(LifecycleError::Closed));
    }

    #[test]
    fn closing_a_latent_recipe_cleans_nothing_and_it_cannot_start() {
        let l = Lifecycle::new();
        assert_eq!(l.close(), Phase::Latent);
        assert_eq!(l.start(), Err(LifecycleError::Closed));
    }

    #[tokio::test]
    async fn a_failed_start_can_be_retried_and_a_close_during_start_wins() {
        let l = Lifecycle::new();
        let guard = l.begin_start().unwrap();
        assert_eq!(l.begin_start().unwrap_err(), LifecycleError::AlreadyStarted);
        drop(guard);
        assert_eq!(l.phase(), Phase::Latent);

        let guard = l.begin_start().unwrap();
        l.close();
        assert_eq!(guard.commit_spawning(async {}), Err(LifecycleError::Closed));
        assert!(!l.is_running(), "no task is spawned for a closed recipe");
    }

    #[tokio::test]
    async fn the_task_runs_until_it_is_stopped() {
        let l = Lifecycle::new();
        l.begin_start()
            .unwrap()
            .commit_spawning(std::future::pending())
            .unwrap();
        assert!(l.is_running());
        l.stop_task().await;
        assert!(!l.is_running());
    }
}
