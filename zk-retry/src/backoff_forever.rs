//! [`ExponentialBackoffForever`]: the pause schedule of background work that must
//! never give up while its owner lives (a guaranteed delete, a recipe's election or
//! node keeper, a cache's re-read): doubling from a base up to a cap, with no limit
//! on the number of retries.
//!
//! Curator's exponential policies stop after at most 29 retries and draw a random
//! factor; background loops need neither. The schedule is deterministic, so what a
//! recipe waits after its n-th failure in a row can be stated and tested.

use std::time::Duration;

use crate::policy::{RetryDecision, RetryPolicy};

/// Retries for ever: `base` before the first retry, doubling each time, never more
/// than `max`.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::ExponentialBackoffForever;
///
/// let policy = ExponentialBackoffForever::new(Duration::from_millis(100), Duration::from_secs(5));
/// assert_eq!(policy.delay_for(0), Duration::from_millis(100));
/// assert_eq!(policy.delay_for(3), Duration::from_millis(800));
/// assert_eq!(policy.delay_for(u32::MAX), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExponentialBackoffForever {
    base: Duration,
    max: Duration,
}

impl ExponentialBackoffForever {
    /// A schedule from `base` doubling up to `max` (`max` is raised to `base` if lower).
    pub const fn new(base: Duration, max: Duration) -> Self {
        let max = if max.as_nanos() < base.as_nanos() {
            base
        } else {
            max
        };
        ExponentialBackoffForever { base, max }
    }

    /// The pause before retry number `retry_count` (0-based): `base * 2^retry_count`,
    /// capped at `max`.
    pub fn delay_for(&self, retry_count: u32) -> Duration {
        // 2^31 is far past any cap; beyond it the multiplication would only overflow.
        let factor = 1u32.checked_shl(retry_count.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The first pause.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The longest pause.
    pub fn max(&self) -> Duration {
        self.max
    }
}

impl RetryPolicy for ExponentialBackoffForever {
    fn allow_retry(&self, retry_count: u32, _elapsed: Duration) -> RetryDecision {
        RetryDecision::RetryAfter(self.delay_for(retry_count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_base_to_the_cap_and_never_stops() {
        let p = ExponentialBackoffForever::new(Duration::from_millis(100), Duration::from_secs(10));
        let ms = |n| p.delay_for(n).as_millis();
        assert_eq!((ms(0), ms(1), ms(6), ms(7)), (100, 200, 6400, 10_000));
        for n in [8, 31, 32, 1000, u32::MAX] {
            assert_eq!(p.delay_for(n), Duration::from_secs(10), "retry {n}");
            assert_eq!(
                p.allow_retry(n, Duration::MAX),
                RetryDecision::RetryAfter(Duration::from_secs(10))
            );
        }
    }

    #[test]
    fn a_cap_below_the_base_is_the_base() {
        let p = ExponentialBackoffForever::new(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(p.delay_for(0), Duration::from_secs(2));
        assert_eq!(p.delay_for(5), Duration::from_secs(2));
    }
}
