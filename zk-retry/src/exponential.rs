//! Exponential backoff with random spread: Curator's `ExponentialBackoffRetry` and
//! `BoundedExponentialBackoffRetry`.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tracing::{debug, warn};

use crate::{RetryDecision, RetryPolicy};

/// The largest `max_retries` an exponential policy accepts; larger values are lowered
/// to it. With 29 retries the random multiplier stays below `2^30`.
pub const MAX_RETRIES_LIMIT: u32 = 29;

/// The cap on one sleep when none is given: `i32::MAX` milliseconds (about 24.8 days),
/// as in Curator.
pub const DEFAULT_MAX_SLEEP: Duration = Duration::from_millis(i32::MAX as u64);

/// Retries up to `max_retries` times, sleeping longer (on average) after each failure.
///
/// Before retry number `retry_count` (0 for the first retry) it sleeps
/// `base × max(1, r)` where `r` is drawn uniformly from `[0, 2^(retry_count + 1))`,
/// capped at `max_sleep`. So the first retry always waits exactly `base`, the second
/// waits `base` to `3 × base`, the third `base` to `7 × base`, and so on.
///
/// `max_retries` is capped at [`MAX_RETRIES_LIMIT`] (a warning is logged).
/// The random draws come from a [`StdRng`] seeded from the operating system;
/// [`with_seed`](ExponentialBackoffRetry::with_seed) makes them repeatable.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::{ExponentialBackoffRetry, RetryDecision, RetryPolicy};
///
/// let policy = ExponentialBackoffRetry::new(Duration::from_millis(100), 3);
/// assert_eq!(
///     policy.allow_retry(0, Duration::ZERO),
///     RetryDecision::RetryAfter(Duration::from_millis(100))
/// );
/// assert_eq!(policy.allow_retry(3, Duration::ZERO), RetryDecision::Stop);
/// ```
pub struct ExponentialBackoffRetry {
    base_sleep: Duration,
    max_retries: u32,
    max_sleep: Duration,
    rng: Mutex<StdRng>,
}

impl ExponentialBackoffRetry {
    /// Sleeps start at `base_sleep`; at most `max_retries` retries (capped at 29);
    /// one sleep is capped at [`DEFAULT_MAX_SLEEP`].
    pub fn new(base_sleep: Duration, max_retries: u32) -> Self {
        Self::with_max_sleep(base_sleep, max_retries, DEFAULT_MAX_SLEEP)
    }

    /// Like [`new`](ExponentialBackoffRetry::new), with one sleep capped at `max_sleep`.
    pub fn with_max_sleep(base_sleep: Duration, max_retries: u32, max_sleep: Duration) -> Self {
        Self {
            base_sleep,
            max_retries: limit_max_retries(max_retries),
            max_sleep,
            rng: Mutex::new(StdRng::from_os_rng()),
        }
    }

    /// Draws the random multipliers from a generator seeded with `seed`, so the
    /// same seed always gives the same sequence of sleeps (for tests).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Mutex::new(StdRng::seed_from_u64(seed));
        self
    }

    /// The sleep before the first retry.
    pub fn base_sleep(&self) -> Duration {
        self.base_sleep
    }

    /// The number of retries allowed, after the cap of [`MAX_RETRIES_LIMIT`].
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The cap on one sleep.
    pub fn max_sleep(&self) -> Duration {
        self.max_sleep
    }

    fn sleep_for(&self, retry_count: u32) -> Duration {
        // The caller checked retry_count < max_retries <= 29, so the shift cannot overflow.
        let upper = 1u32 << (retry_count + 1);
        // A poisoned lock only means another thread panicked mid-draw; the generator
        // state is still a valid generator state.
        let drawn = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .random_range(0..upper);
        let sleep = self.base_sleep.saturating_mul(drawn.max(1));
        if sleep > self.max_sleep {
            debug!(?sleep, max_sleep = ?self.max_sleep, "exponential backoff sleep capped");
            self.max_sleep
        } else {
            sleep
        }
    }
}

fn limit_max_retries(max_retries: u32) -> u32 {
    if max_retries > MAX_RETRIES_LIMIT {
        warn!(
            max_retries,
            limit = MAX_RETRIES_LIMIT,
            "max_retries too large for exponential backoff; using the limit"
        );
        MAX_RETRIES_LIMIT
    } else {
        max_retries
    }
}

impl RetryPolicy for ExponentialBackoffRetry {
    fn allow_retry(&self, retry_count: u32, _elapsed: Duration) -> RetryDecision {
        if retry_count < self.max_retries {
            RetryDecision::RetryAfter(self.sleep_for(retry_count))
        } else {
            RetryDecision::Stop
        }
    }
}

impl fmt::Debug for ExponentialBackoffRetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExponentialBackoffRetry")
            .field("base_sleep", &self.base_sleep)
            .field("max_retries", &self.max_retries)
            .field("max_sleep", &self.max_sleep)
            .finish_non_exhaustive()
    }
}

/// [`ExponentialBackoffRetry`] with an explicit cap on each sleep: Curator's
/// `BoundedExponentialBackoffRetry`. Note the argument order, which follows Curator:
/// base sleep, maximum sleep, then maximum retries.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::{BoundedExponentialBackoffRetry, RetryPolicy};
///
/// let policy = BoundedExponentialBackoffRetry::new(
///     Duration::from_millis(100),
///     Duration::from_secs(1),
///     10,
/// );
/// let sleep = policy.allow_retry(9, Duration::ZERO).delay().unwrap();
/// assert!(sleep <= Duration::from_secs(1));
/// ```
#[derive(Debug)]
pub struct BoundedExponentialBackoffRetry {
    inner: ExponentialBackoffRetry,
}

impl BoundedExponentialBackoffRetry {
    /// Sleeps start at `base_sleep`, never exceed `max_sleep`; at most `max_retries`
    /// retries (capped at 29).
    pub fn new(base_sleep: Duration, max_sleep: Duration, max_retries: u32) -> Self {
        Self {
            inner: ExponentialBackoffRetry::with_max_sleep(base_sleep, max_retries, max_sleep),
        }
    }

    /// Seeds the random draws; see [`ExponentialBackoffRetry::with_seed`].
    pub fn with_seed(self, seed: u64) -> Self {
        Self {
            inner: self.inner.with_seed(seed),
        }
    }

    /// The sleep before the first retry.
    pub fn base_sleep(&self) -> Duration {
        self.inner.base_sleep()
    }

    /// The cap on one sleep.
    pub fn max_sleep(&self) -> Duration {
        self.inner.max_sleep()
    }

    /// The number of retries allowed, after the cap of [`MAX_RETRIES_LIMIT`].
    pub fn max_retries(&self) -> u32 {
        self.inner.max_retries()
    }
}

impl RetryPolicy for BoundedExponentialBackoffRetry {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        self.inner.allow_retry(retry_count, elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(10);

    fn delays(policy: &dyn RetryPolicy, retries: u32) -> Vec<Duration> {
        (0..retries)
            .map(|n| match policy.allow_retry(n, Duration::ZERO) {
                RetryDecision::RetryAfter(d) => d,
                RetryDecision::Stop => panic!("retry {n} was refused"),
            })
            .collect()
    }

    #[test]
    fn first_retry_sleeps_exactly_the_base() {
        for seed in 0..50 {
            let policy = ExponentialBackoffRetry::new(BASE, 5).with_seed(seed);
            assert_eq!(
                policy.allow_retry(0, Duration::ZERO),
                RetryDecision::RetryAfter(BASE)
            );
        }
    }

    #[test]
    fn each_sleep_is_a_base_multiple_within_the_doubling_window() {
        // 3 ms × 2^29 stays under the default cap, so no sleep here is capped.
        let base = Duration::from_millis(3);
        for seed in 0..20 {
            let policy = ExponentialBackoffRetry::new(base, MAX_RETRIES_LIMIT).with_seed(seed);
            for (n, delay) in delays(&policy, MAX_RETRIES_LIMIT).into_iter().enumerate() {
                let factor = delay.as_nanos() / base.as_nanos();
                assert_eq!(
                    delay.as_nanos() % base.as_nanos(),
                    0,
                    "retry {n}: {delay:?}"
                );
                assert!(factor >= 1, "retry {n}: factor {factor}");
                assert!(factor < 1u128 << (n + 1), "retry {n}: factor {factor}");
            }
        }
    }

    #[test]
    fn later_retries_reach_beyond_the_early_window() {
        // With 2^20 possible factors at retry 19, a draw below 4 is vanishingly rare;
        // this guards against the window not growing at all.
        let policy = ExponentialBackoffRetry::new(BASE, 20).with_seed(7);
        let late = delays(&policy, 20)[19];
        assert!(late > BASE * 4, "late sleep {late:?}");
    }

    #[test]
    fn stops_after_max_retries() {
        let policy = ExponentialBackoffRetry::new(BASE, 3).with_seed(1);
        assert!(policy.allow_retry(2, Duration::ZERO).delay().is_some());
        assert_eq!(policy.allow_retry(3, Duration::ZERO), RetryDecision::Stop);
        assert_eq!(
            policy.allow_retry(u32::MAX, Duration::ZERO),
            RetryDecision::Stop
        );
    }

    #[test]
    fn zero_max_retries_never_retries() {
        let policy = ExponentialBackoffRetry::new(BASE, 0);
        assert_eq!(policy.allow_retry(0, Duration::ZERO), RetryDecision::Stop);
    }

    #[test]
    fn max_retries_is_capped_at_29() {
        let policy = ExponentialBackoffRetry::new(BASE, 1000).with_seed(3);
        assert_eq!(policy.max_retries(), MAX_RETRIES_LIMIT);
        assert!(policy.allow_retry(28, Duration::ZERO).delay().is_some());
        assert_eq!(policy.allow_retry(29, Duration::ZERO), RetryDecision::Stop);
        assert_eq!(
            BoundedExponentialBackoffRetry::new(BASE, BASE, 30).max_retries(),
            MAX_RETRIES_LIMIT
        );
    }

    #[test]
    fn elapsed_time_does_not_matter() {
        let policy = ExponentialBackoffRetry::new(BASE, 2).with_seed(1);
        assert_eq!(
            policy.allow_retry(0, Duration::from_secs(86_400 * 365)),
            RetryDecision::RetryAfter(BASE)
        );
    }

    #[test]
    fn max_sleep_caps_every_sleep() {
        let cap = Duration::from_millis(35);
        let policy = ExponentialBackoffRetry::with_max_sleep(BASE, 29, cap).with_seed(11);
        let all = delays(&policy, 29);
        assert!(all.iter().all(|d| *d <= cap), "{all:?}");
        assert!(
            all.contains(&cap),
            "late retries should hit the cap: {all:?}"
        );
    }

    #[test]
    fn huge_base_saturates_instead_of_overflowing() {
        let policy = ExponentialBackoffRetry::new(Duration::MAX, 29).with_seed(5);
        for delay in delays(&policy, 29) {
            assert_eq!(delay, DEFAULT_MAX_SLEEP);
        }
    }

    #[test]
    fn bounded_policy_caps_sleeps_and_keeps_curator_argument_order() {
        let max = Duration::from_millis(50);
        let policy = BoundedExponentialBackoffRetry::new(BASE, max, 12).with_seed(2);
        assert_eq!(policy.base_sleep(), BASE);
        assert_eq!(policy.max_sleep(), max);
        assert_eq!(policy.max_retries(), 12);
        let all = delays(&policy, 12);
        assert_eq!(all[0], BASE);
        assert!(all.iter().all(|d| *d >= BASE && *d <= max), "{all:?}");
        assert_eq!(policy.allow_retry(12, Duration::ZERO), RetryDecision::Stop);
    }

    #[test]
    fn same_seed_gives_same_sleeps_and_different_seeds_differ() {
        let run = |seed| delays(&ExponentialBackoffRetry::new(BASE, 29).with_seed(seed), 29);
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
        // The bounded policy draws the same factors and only lowers the result.
        let cap = Duration::from_secs(3600);
        let bounded = delays(
            &BoundedExponentialBackoffRetry::new(BASE, cap, 29).with_seed(42),
            29,
        );
        let capped: Vec<_> = run(42).into_iter().map(|d| d.min(cap)).collect();
        assert_eq!(bounded, capped);
    }

    #[test]
    fn debug_output_names_the_settings() {
        let text = format!("{:?}", ExponentialBackoffRetry::new(BASE, 3));
        assert!(text.contains("max_retries: 3"), "{text}");
    }
}
