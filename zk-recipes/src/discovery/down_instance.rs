//! Down instances: instances a caller reported errors for, hidden from providers for a while.
//!
//! Mirrors Curator's `DownInstanceManager`: each reported instance (compared by value) gets an
//! error count and the time of its first error. It counts as down once the count reaches the
//! policy's threshold. Entries are purged lazily, at most once per half timeout, when an entry's
//! first error is at least a timeout old; so an instance comes back between one and one and a
//! half timeouts after its first error, and its count starts again from zero.
//!
//! Every method has an `_at` form that takes the current time, so tests and callers with their
//! own clock are deterministic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{InstanceFilter, ServiceInstance};

/// When an instance counts as down, as Curator's `DownInstancePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownInstancePolicy {
    timeout: Duration,
    error_threshold: u32,
}

impl DownInstancePolicy {
    /// Curator's default time window: 30 seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Curator's default error threshold: 2 errors.
    pub const DEFAULT_ERROR_THRESHOLD: u32 = 2;

    /// An instance is down after `error_threshold` reported errors, until `timeout` after its
    /// first error has passed (checked at most every `timeout / 2`).
    pub fn new(timeout: Duration, error_threshold: u32) -> Self {
        DownInstancePolicy {
            timeout,
            error_threshold,
        }
    }

    /// How long an instance's errors count.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many errors make an instance down.
    pub fn error_threshold(&self) -> u32 {
        self.error_threshold
    }
}

impl Default for DownInstancePolicy {
    fn default() -> Self {
        DownInstancePolicy::new(Self::DEFAULT_TIMEOUT, Self::DEFAULT_ERROR_THRESHOLD)
    }
}

/// Counts errors per instance and hides instances that reached the policy's threshold.
///
/// A provider calls [`note_error`](Self::note_error) when a call to an instance fails, and
/// filters its list through [`is_down`](Self::is_down) (or uses this as an [`InstanceFilter`]).
/// Safe to share between threads.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zk_recipes::{DownInstanceManager, DownInstancePolicy, ServiceInstance};
///
/// let start = Instant::now();
/// let down = DownInstanceManager::new_at(DownInstancePolicy::new(Duration::from_secs(10), 2), start);
/// let instance = ServiceInstance::builder().name("s").build()?;
/// down.note_error_at(&instance, start);
/// assert!(!down.is_down_at(&instance, start));
/// down.note_error_at(&instance, start);
/// assert!(down.is_down_at(&instance, start));
/// assert!(!down.is_down_at(&instance, start + Duration::from_secs(10)));
/// # Ok::<(), zk_recipes::ServiceInstanceError>(())
/// ```
pub struct DownInstanceManager<T> {
    policy: DownInstancePolicy,
    state: Mutex<State<T>>,
    /// Whether any error is tracked: read without the lock, so that a provider
    /// whose instances never failed pays nothing for the down-instance check.
    tracking: AtomicBool,
}

struct State<T> {
    /// Entries by instance id; an id holds more than one entry only when differing versions of
    /// the same instance were reported.
    entries: HashMap<String, Vec<ErrorEntry<T>>>,
    last_purge: Instant,
}

struct ErrorEntry<T> {
    instance: Arc<ServiceInstance<T>>,
    first_error: Instant,
    errors: u32,
}

impl<T> DownInstanceManager<T> {
    /// A manager with the given policy, starting its purge clock now.
    pub fn new(policy: DownInstancePolicy) -> Self {
        Self::new_at(policy, Instant::now())
    }

    /// A manager with the given policy, starting its purge clock at `now`.
    pub fn new_at(policy: DownInstancePolicy, now: Instant) -> Self {
        DownInstanceManager {
            policy,
            state: Mutex::new(State {
                entries: HashMap::new(),
                last_purge: now,
            }),
            tracking: AtomicBool::new(false),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> DownInstancePolicy {
        self.policy
    }

    /// How many instances currently have errors counted (down or not).
    pub fn tracked_count(&self) -> usize {
        self.lock().entries.values().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // No code path panics while holding the lock, and the state stays consistent even if
        // one did (every update is a single assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Curator's lazy purge: at most once per half timeout, drop entries whose first error is
    /// at least a timeout old.
    fn purge(&self, state: &mut State<T>, now: Instant) {
        if now.saturating_duration_since(state.last_purge) < self.policy.timeout / 2 {
            return;
        }
        state.last_purge = now;
        let timeout = self.policy.timeout;
        state.entries.retain(|_, versions| {
            versions.retain(|e| now.saturating_duration_since(e.first_error) < timeout);
            !versions.is_empty()
        });
        self.tracking
            .store(!state.entries.is_empty(), Ordering::Release);
    }

    /// Whether any error is tracked now: while none is, no instance is down, and
    /// this answers without taking the lock.
    pub fn is_tracking(&self) -> bool {
        self.tracking.load(Ordering::Acquire)
    }
}

impl<T: PartialEq> DownInstanceManager<T> {
    /// Records one error for `instance`, now.
    pub fn note_error(&self, instance: &ServiceInstance<T>)
    where
        T: Clone,
    {
        self.note_error_at(instance, Instant::now());
    }

    /// Records one error for `instance` at `now`.
    pub fn note_error_at(&self, instance: &ServiceInstance<T>, now: Instant)
    where
        T: Clone,
    {
        let mut state = self.lock();
        self.purge(&mut state, now);
        let versions = state.entries.entry(instance.id().to_owned()).or_default();
        match versions.iter_mut().find(|e| *e.instance == *instance) {
            Some(entry) => entry.errors = entry.errors.saturating_add(1),
            None => versions.push(ErrorEntry {
                instance: Arc::new(instance.clone()),
                first_error: now,
                errors: 1,
            }),
        }
        self.tracking.store(true, Ordering::Release);
    }

    /// Whether `instance` is down now.
    pub fn is_down(&self, instance: &ServiceInstance<T>) -> bool {
        self.is_down_at(instance, Instant::now())
    }

    /// Whether `instance` is down at `now`: it has at least the threshold of errors counted.
    pub fn is_down_at(&self, instance: &ServiceInstance<T>, now: Instant) -> bool {
        let mut state = self.lock();
        self.purge(&mut state, now);
        state.entries.get(instance.id()).is_some_and(|versions| {
            versions
                .iter()
                .any(|e| *e.instance == *instance && e.errors >= self.policy.error_threshold)
        })
    }
}

impl<T: PartialEq + Send + Sync> InstanceFilter<T> for DownInstanceManager<T> {
    fn accepts(&self, instance: &ServiceInstance<T>) -> bool {
        !self.is_down(instance)
    }
}

impl<T> std::fmt::Debug for DownInstanceManager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownInstanceManager")
            .field("policy", &self.policy)
            .field("tracked", &self.tracked_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str) -> ServiceInstance {
        ServiceInstance::builder()
            .name("hey")
            .id(id)
            .address("h")
            .registration_time_utc(1)
            .build()
            .unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn default_policy_is_curators() {
        let policy = DownInstancePolicy::default();
        assert_eq!(policy.timeout(), secs(30));
        assert_eq!(policy.error_threshold(), 2);
    }

    #[test]
    fn threshold_one_marks_down_at_the_first_error_and_only_that_instance() {
        let t0 = Instant::now();
        let down = DownInstanceManager::new_at(DownInstancePolicy::new(secs(1), 1), t0);
        let (one, two) = (instance("1"), instance("2"));
        assert!(!down.is_down_at(&one, t0));
        down.note_error_at(&one, t0);
        assert!(down.is_down_at(&one, t0));
        assert!(!down.is_down_at(&two, t0));
        assert!(!down.accepts(&one));
        assert!(down.accepts(&two));
    }

    #[test]
    fn counts_errors_up_to_the_threshold() {
        let t0 = Instant::now();
        let down = DownInstanceManager::new_at(DownInstancePolicy::new(secs(10), 3), t0);
        let one = instance("1");
        for n in 1..=2 {
            down.note_error_at(&one, t0 + secs(n));
            assert!(!down.is_down_at(&one, t0 + secs(n)), "after {n} errors");
        }
        down.note_error_at(&one, t0 + secs(3));
        assert!(down.is_down_at(&one, t0 + secs(3)));
        assert_eq!(down.tracked_count(), 1);
    }

    #[test]
    fn tracking_is_on_from_the_first_error_until_a_purge_empties_it() {
        let t0 = Instant::now();
        let down = DownInstanceManager::new_at(DownInstancePolicy::new(secs(10), 2), t0);
        assert!(!down.is_tracking());
        down.note_error_at(&instance("1"), t0 + secs(1));
        assert!(
            down.is_tracking(),
            "one error, below the threshold, is tracked"
        );
        // The purge at 12 s finds the error 11 s old: nothing is tracked any more.
        assert!(!down.is_down_at(&instance("1"), t0 + secs(12)));
        assert!(!down.is_tracking());
    }

    #[test]
    fn comes_back_once_a_purge_finds_the_first_error_a_timeout_old() {
        let t0 = Instant::now();
        let down = DownInstanceManager::new_at(DownInstancePolicy::new(secs(10), 1), t0);
        let one = instance("1");
        down.note_error_at(&one, t0 + secs(1));
        // Purge at 5 s (half a timeout after the start): the error is 4 s old, kept.
        assert!(down.is_down_at(&one, t0 + secs(5)));
        // Purge at 10 s: 9 s old, kept.
        assert!(down.is_down_at(&one, t0 + secs(10)));
        // At 11 s it is a timeout old, but the next purge is not due before 15 s.
        assert!(down.is_down_at(&one, t0 + secs(11)));
        assert!(down.is_down_at(&one, t0 + Duration::from_millis(14_999)));
        // Purge at 15 s drops it.
        assert!(!down.is_down_at(&one, t0 + secs(15)));
        assert_eq!(down.tracked_count(), 0);
    }

    #[test]
    fn errors_within_the_window_keep_the_first_error_time() {
        let t0 = Instant::now();
        let down = DownInstanceManager::new_at(DownInstancePolicy::new(secs(10), 2), t0);
        let one = instance("1");
        down.note_error_at(&one, t0);
        down.note_error_at(&one, t0 + secs(9));
        assert!(down.is_down_at(&one, t0 + secs(9)));
        // The purge at 14 s (5 s after the one at 9 s) finds the first error (t0) a timeout
        // old and drops the entry, although the last error is only 5 s old.
        assert!(!down.is_down_at(&one, t0 + secs(14)));
        // The count restarted: one new error is below the threshold of two.
        down.note_error_at(&one, t0 + secs(15));
        assert!(!down.is_down_at(&one, t0 + secs(15)));
    }

    #[test]
    fn a_changed_instance_with_the_same_id_is_tracked_apart() {
        let t0 = Instant::now();
        let down = DownInstanceManager::new_at(DownInstancePolicy::new(secs(10), 1), t0);
        let old = instance("1");
        let new = old.to_builder().port(9).build().unwrap();
        down.note_error_at(&old, t0);
        assert!(down.is_down_at(&old, t0));
        assert!(!down.is_down_at(&new, t0));
        down.note_error_at(&new, t0);
        assert!(down.is_down_at(&new, t0));
        assert_eq!(down.tracked_count(), 2);
    }
}
