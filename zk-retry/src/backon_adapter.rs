//! Bridges to the `backon` crate (cargo feature `backon`): use any backon backoff as
//! a [`RetryPolicy`], or any [`RetryPolicy`] as a backon backoff.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use tokio::time::Instant;

use crate::{RetryDecision, RetryPolicy};

/// A [`RetryPolicy`] whose sleeps come from a backon [`BackoffBuilder`], such as
/// `backon::ExponentialBuilder`.
///
/// A backon backoff is a stateful iterator, while a policy is shared and answers
/// `allow_retry(retry_count, elapsed)` without state. This adapter keeps no state:
/// each call builds a fresh backoff from a clone of the builder and takes its
/// element number `retry_count` (the first delay for `retry_count == 0`). An
/// exhausted iterator means [`RetryDecision::Stop`]. So every retry loop, and every
/// concurrent caller, sees the backoff from its start, and the builder's limits
/// (`with_max_times`, `with_max_delay`, `with_total_delay`) apply per loop as in
/// backon. The cost is `O(retry_count)` per decision, which is small next to the sleep.
///
/// The `elapsed` argument is ignored: backon tracks time by summing its own delays.
/// With jitter enabled each decision draws fresh jitter; use the builder's
/// `with_jitter_seed` for repeatable tests. Which errors are retried is still decided by
/// [`RetryPolicy::allows_error`], that is, by
/// [`RetryableError::is_retryable`](crate::RetryableError::is_retryable).
///
/// ```
/// use std::time::Duration;
/// use backon::ConstantBuilder;
/// use zk_retry::{BackonPolicy, RetryDecision, RetryPolicy};
///
/// let policy = BackonPolicy::new(
///     ConstantBuilder::default().with_delay(Duration::from_millis(20)).with_max_times(2),
/// );
/// let delay = Duration::from_millis(20);
/// assert_eq!(policy.allow_retry(1, Duration::ZERO), RetryDecision::RetryAfter(delay));
/// assert_eq!(policy.allow_retry(2, Duration::ZERO), RetryDecision::Stop);
/// ```
#[derive(Clone)]
pub struct BackonPolicy<B> {
    builder: B,
}

impl<B> BackonPolicy<B>
where
    B: BackoffBuilder + Clone + fmt::Debug + 'static,
{
    /// Wraps `builder`.
    pub fn new(builder: B) -> Self {
        Self { builder }
    }

    /// The wrapped builder.
    pub fn builder(&self) -> &B {
        &self.builder
    }
}

impl<B: fmt::Debug> fmt::Debug for BackonPolicy<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackonPolicy")
            .field("builder", &self.builder)
            .finish()
    }
}

impl<B> RetryPolicy for BackonPolicy<B>
where
    B: BackoffBuilder + Clone + fmt::Debug + 'static,
{
    fn allow_retry(&self, retry_count: u32, _elapsed: Duration) -> RetryDecision {
        let mut backoff = self.builder.clone().build();
        // `nth` takes a usize; a count that does not fit cannot be reached anyway.
        let Ok(index) = usize::try_from(retry_count) else {
            return RetryDecision::Stop;
        };
        match backoff.nth(index) {
            Some(delay) => RetryDecision::RetryAfter(delay),
            None => RetryDecision::Stop,
        }
    }
}

/// A backon backoff (an iterator of delays) driven by one of our policies, for use
/// with backon's `Retryable::retry`.
///
/// Each `next()` asks the policy with the number of delays already given out and the
/// time since this backoff was created (on tokio's clock); `Stop` ends the iterator.
/// Build a new `PolicyBackoff` for every operation. backon does not consult
/// [`RetryPolicy::allows_error`]; pass it to backon's `when` to keep refusing the same
/// errors.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use zk_retry::{PolicyBackoff, RetryNTimes};
///
/// let backoff = PolicyBackoff::new(Arc::new(RetryNTimes::new(2, Duration::from_secs(1))));
/// assert_eq!(backoff.collect::<Vec<_>>(), vec![Duration::from_secs(1); 2]);
/// ```
pub struct PolicyBackoff<P: ?Sized> {
    policy: Arc<P>,
    retry_count: u32,
    start: Instant,
    done: bool,
}

impl<P: RetryPolicy + ?Sized> PolicyBackoff<P> {
    /// A backoff that starts now, with no retries made.
    pub fn new(policy: Arc<P>) -> Self {
        Self {
            policy,
            retry_count: 0,
            start: Instant::now(),
            done: false,
        }
    }
}

impl<P: fmt::Debug + ?Sized> fmt::Debug for PolicyBackoff<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyBackoff")
            .field("policy", &self.policy)
            .field("retry_count", &self.retry_count)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<P: RetryPolicy + ?Sized> Iterator for PolicyBackoff<P> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.done {
            return None;
        }
        match self
            .policy
            .allow_retry(self.retry_count, self.start.elapsed())
        {
            RetryDecision::RetryAfter(delay) => {
                self.retry_count = self.retry_count.saturating_add(1);
                Some(delay)
            }
            RetryDecision::Stop => {
                // Stay stopped, as backon expects of a finished backoff.
                self.done = true;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use backon::{ConstantBuilder, ExponentialBuilder, Retryable};

    use super::*;
    use crate::test_support::TestError;
    use crate::{RetryNTimes, RetryUntilElapsed, SessionFailedRetryPolicy, retry};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backon_policy_follows_the_backoff_sequence_and_stops_when_it_ends() {
        let builder = ExponentialBuilder::default()
            .with_min_delay(ms(10))
            .with_factor(2.0)
            .with_max_times(4);
        let policy = BackonPolicy::new(builder);
        let expected: Vec<_> = builder.build().collect();
        assert_eq!(expected.len(), 4);
        assert!(expected.windows(2).all(|w| w[0] < w[1]), "{expected:?}");
        for (n, delay) in expected.iter().enumerate() {
            assert_eq!(
                policy.allow_retry(n as u32, Duration::ZERO),
                RetryDecision::RetryAfter(*delay)
            );
        }
        assert_eq!(policy.allow_retry(4, Duration::ZERO), RetryDecision::Stop);
    }

    #[test]
    fn backon_policy_is_stateless_between_calls() {
        let policy = BackonPolicy::new(
            ConstantBuilder::default()
                .with_delay(ms(5))
                .with_max_times(1),
        );
        for _ in 0..3 {
            assert_eq!(
                policy.allow_retry(0, Duration::ZERO),
                RetryDecision::RetryAfter(ms(5))
            );
            assert_eq!(policy.allow_retry(1, Duration::ZERO), RetryDecision::Stop);
        }
    }

    #[test]
    fn seeded_jitter_is_repeatable() {
        let builder = ExponentialBuilder::default()
            .with_min_delay(ms(100))
            .with_jitter()
            .with_jitter_seed(17)
            .with_max_times(5);
        let a = BackonPolicy::new(builder);
        let b = BackonPolicy::new(builder);
        for n in 0..6 {
            assert_eq!(
                a.allow_retry(n, Duration::ZERO),
                b.allow_retry(n, Duration::ZERO)
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_loop_with_backon_policy_makes_max_times_plus_one_attempts() {
        let attempts = AtomicU32::new(0);
        let policy = SessionFailedRetryPolicy::new(BackonPolicy::new(
            ConstantBuilder::default()
                .with_delay(ms(50))
                .with_max_times(3),
        ));
        let start = Instant::now();
        let result: Result<(), TestError> = retry(&policy, || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err(TestError::Transient)
        })
        .await;
        assert_eq!(result, Err(TestError::Transient));
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
        assert_eq!(start.elapsed(), ms(150));
    }

    #[test]
    fn policy_backoff_yields_the_policys_delays_then_stays_exhausted() {
        let mut backoff = PolicyBackoff::new(Arc::new(RetryNTimes::new(3, ms(30))));
        assert_eq!(
            backoff.by_ref().take(5).collect::<Vec<_>>(),
            vec![ms(30); 3]
        );
        assert_eq!(backoff.next(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn policy_backoff_measures_elapsed_time_from_creation() {
        let mut backoff = PolicyBackoff::new(Arc::new(RetryUntilElapsed::new(ms(100), ms(60))));
        assert_eq!(backoff.next(), Some(ms(60)));
        tokio::time::advance(ms(60)).await;
        assert_eq!(backoff.next(), Some(ms(60)));
        tokio::time::advance(ms(60)).await;
        assert_eq!(backoff.next(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn backon_retry_runs_with_our_policy() {
        let attempts = AtomicU32::new(0);
        let policy: Arc<dyn RetryPolicy> = Arc::new(RetryNTimes::new(2, ms(10)));
        let op = || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(TestError::Transient)
        };
        let result = op
            .retry(PolicyBackoff::new(policy.clone()))
            .sleep(tokio::time::sleep)
            .when(|e: &TestError| policy.allows_error(e))
            .await;
        assert_eq!(result, Err(TestError::Transient));
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }
}
