//! Policies that sleep the same time before every retry: Curator's `RetryNTimes`,
//! `RetryOneTime`, `RetryUntilElapsed` and `RetryForever`.

use std::time::Duration;

use tracing::warn;

use crate::{RetryDecision, RetryPolicy};

/// Retries at most `n` times, sleeping the same time before each retry.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::{RetryDecision, RetryNTimes, RetryPolicy};
///
/// let policy = RetryNTimes::new(3, Duration::from_millis(100));
/// assert_eq!(policy.allow_retry(3, Duration::ZERO), RetryDecision::Stop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryNTimes {
    n: u32,
    sleep: Duration,
}

impl RetryNTimes {
    /// At most `n` retries, `sleep` before each.
    pub fn new(n: u32, sleep: Duration) -> Self {
        Self { n, sleep }
    }

    /// The number of retries allowed.
    pub fn max_retries(&self) -> u32 {
        self.n
    }

    /// The sleep before each retry.
    pub fn sleep(&self) -> Duration {
        self.sleep
    }
}

impl RetryPolicy for RetryNTimes {
    fn allow_retry(&self, retry_count: u32, _elapsed: Duration) -> RetryDecision {
        if retry_count < self.n {
            RetryDecision::RetryAfter(self.sleep)
        } else {
            RetryDecision::Stop
        }
    }
}

/// Retries exactly once, after `sleep`. The same as `RetryNTimes::new(1, sleep)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryOneTime {
    inner: RetryNTimes,
}

impl RetryOneTime {
    /// One retry, `sleep` before it.
    pub fn new(sleep: Duration) -> Self {
        Self {
            inner: RetryNTimes::new(1, sleep),
        }
    }

    /// The sleep before the retry.
    pub fn sleep(&self) -> Duration {
        self.inner.sleep()
    }
}

impl RetryPolicy for RetryOneTime {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        self.inner.allow_retry(retry_count, elapsed)
    }
}

/// Retries, sleeping the same time before each retry, as long as less than
/// `max_elapsed` has passed since the first attempt started.
///
/// The check happens when an attempt fails; the sleep is not shortened to fit the
/// remaining time, so the whole loop may run up to one `sleep` (plus one attempt)
/// past `max_elapsed`. As in Curator, the number of retries is also bounded by
/// `i32::MAX`.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::{RetryDecision, RetryPolicy, RetryUntilElapsed};
///
/// let policy = RetryUntilElapsed::new(Duration::from_secs(10), Duration::from_secs(1));
/// assert!(policy.allow_retry(5, Duration::from_secs(9)).delay().is_some());
/// assert_eq!(policy.allow_retry(6, Duration::from_secs(10)), RetryDecision::Stop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryUntilElapsed {
    max_elapsed: Duration,
    sleep: Duration,
}

/// Curator counts retries in a Java `int`; keep the same bound.
const UNTIL_ELAPSED_MAX_RETRIES: u32 = i32::MAX as u32;

impl RetryUntilElapsed {
    /// Retries while less than `max_elapsed` has passed, `sleep` before each retry.
    pub fn new(max_elapsed: Duration, sleep: Duration) -> Self {
        Self { max_elapsed, sleep }
    }

    /// The time after which no new retry starts.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// The sleep before each retry.
    pub fn sleep(&self) -> Duration {
        self.sleep
    }
}

impl RetryPolicy for RetryUntilElapsed {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        if retry_count < UNTIL_ELAPSED_MAX_RETRIES && elapsed < self.max_elapsed {
            RetryDecision::RetryAfter(self.sleep)
        } else {
            RetryDecision::Stop
        }
    }
}

/// Retries forever, sleeping `interval` before each retry.
///
/// Only errors the policy refuses (see [`RetryPolicy::allows_error`]) end the loop.
/// A zero interval would spin against the server, so it is raised to
/// [`RetryForever::MIN_INTERVAL`] with a warning (Curator refuses it outright).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryForever {
    interval: Duration,
}

impl RetryForever {
    /// The smallest interval accepted.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

    /// Retries forever, `interval` before each retry (at least [`Self::MIN_INTERVAL`]).
    pub fn new(interval: Duration) -> Self {
        let interval = if interval < Self::MIN_INTERVAL {
            warn!(
                ?interval,
                min = ?Self::MIN_INTERVAL,
                "RetryForever interval too small; using the minimum"
            );
            Self::MIN_INTERVAL
        } else {
            interval
        };
        Self { interval }
    }

    /// The sleep before each retry.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl RetryPolicy for RetryForever {
    fn allow_retry(&self, _retry_count: u32, _elapsed: Duration) -> RetryDecision {
        RetryDecision::RetryAfter(self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLEEP: Duration = Duration::from_millis(250);

    #[test]
    fn n_times_retries_n_times_with_a_fixed_sleep() {
        let policy = RetryNTimes::new(3, SLEEP);
        for n in 0..3 {
            assert_eq!(
                policy.allow_retry(n, Duration::from_secs(1000)),
                RetryDecision::RetryAfter(SLEEP)
            );
        }
        assert_eq!(policy.allow_retry(3, Duration::ZERO), RetryDecision::Stop);
        assert_eq!(
            policy.allow_retry(u32::MAX, Duration::ZERO),
            RetryDecision::Stop
        );
        assert_eq!((policy.max_retries(), policy.sleep()), (3, SLEEP));
    }

    #[test]
    fn zero_times_never_retries() {
        let policy = RetryNTimes::new(0, SLEEP);
        assert_eq!(policy.allow_retry(0, Duration::ZERO), RetryDecision::Stop);
    }

    #[test]
    fn one_time_retries_once() {
        let policy = RetryOneTime::new(SLEEP);
        assert_eq!(
            policy.allow_retry(0, Duration::ZERO),
            RetryDecision::RetryAfter(SLEEP)
        );
        assert_eq!(policy.allow_retry(1, Duration::ZERO), RetryDecision::Stop);
        assert_eq!(policy.sleep(), SLEEP);
    }

    #[test]
    fn until_elapsed_stops_once_the_budget_is_spent() {
        let budget = Duration::from_secs(5);
        let policy = RetryUntilElapsed::new(budget, SLEEP);
        assert_eq!(
            policy.allow_retry(0, Duration::ZERO),
            RetryDecision::RetryAfter(SLEEP)
        );
        assert_eq!(
            policy.allow_retry(1000, budget - Duration::from_nanos(1)),
            RetryDecision::RetryAfter(SLEEP)
        );
        assert_eq!(policy.allow_retry(1, budget), RetryDecision::Stop);
        assert_eq!(policy.allow_retry(1, budget * 2), RetryDecision::Stop);
        assert_eq!((policy.max_elapsed(), policy.sleep()), (budget, SLEEP));
    }

    #[test]
    fn until_elapsed_also_bounds_the_retry_count_like_curator() {
        let policy = RetryUntilElapsed::new(Duration::MAX, SLEEP);
        assert!(
            policy
                .allow_retry(i32::MAX as u32 - 1, Duration::ZERO)
                .delay()
                .is_some()
        );
        assert_eq!(
            policy.allow_retry(i32::MAX as u32, Duration::ZERO),
            RetryDecision::Stop
        );
    }

    #[test]
    fn forever_always_retries() {
        let policy = RetryForever::new(SLEEP);
        for (count, elapsed) in [(0, Duration::ZERO), (u32::MAX, Duration::MAX)] {
            assert_eq!(
                policy.allow_retry(count, elapsed),
                RetryDecision::RetryAfter(SLEEP)
            );
        }
    }

    #[test]
    fn forever_raises_a_zero_interval_to_the_minimum() {
        let policy = RetryForever::new(Duration::ZERO);
        assert_eq!(policy.interval(), RetryForever::MIN_INTERVAL);
        assert_eq!(
            policy.allow_retry(0, Duration::ZERO),
            RetryDecision::RetryAfter(RetryForever::MIN_INTERVAL)
        );
    }
}
