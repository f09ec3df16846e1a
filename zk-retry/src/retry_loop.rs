//! The async retry loop: runs an operation, asks the policy after each failure, and
//! sleeps with tokio between attempts.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tracing::debug;

use crate::{RetryDecision, RetryPolicy, RetryableError};

/// What the loop is about to do after a failed attempt; passed to the observer of
/// [`retry_notify`] before the sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryEvent {
    /// Retries made before this one: 0 when the first attempt has just failed.
    pub retry_count: u32,
    /// How long the loop sleeps before the next attempt.
    pub delay: Duration,
    /// Time since the first attempt started.
    pub elapsed: Duration,
}

/// Runs `op` until it succeeds or `policy` gives up, and returns the last result.
///
/// After a failed attempt the error is handed to [`RetryPolicy::allows_error`]; if it
/// is refused, it is returned at once. Otherwise [`RetryPolicy::allow_retry`] decides:
/// on [`RetryDecision::Stop`] the error is returned, on
/// [`RetryDecision::RetryAfter`] the loop sleeps (with [`tokio::time::sleep`]) and
/// calls `op` again. `op` is called once per attempt, so it must build a fresh
/// future each time. The elapsed time is measured with tokio's clock, so it follows
/// paused time in tests.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use zk_retry::{retry, RetryNTimes, RetryableError};
///
/// #[derive(Debug)]
/// struct Busy;
/// impl RetryableError for Busy {
///     fn is_retryable(&self) -> bool { true }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let policy = RetryNTimes::new(5, Duration::from_millis(1));
/// let attempts = AtomicU32::new(0);
/// let value = retry(&policy, || async {
///     if attempts.fetch_add(1, Ordering::SeqCst) < 2 { Err(Busy) } else { Ok(42) }
/// })
/// .await
/// .unwrap();
/// assert_eq!((value, attempts.load(Ordering::SeqCst)), (42, 3));
/// # }
/// ```
pub async fn retry<P, F, Fut, T, E>(policy: &P, op: F) -> Result<T, E>
where
    P: RetryPolicy + ?Sized,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: RetryableError,
{
    retry_notify(policy, op, |_: &E, _: RetryEvent| {}).await
}

/// Like [`retry`], and calls `notify` with the error and a [`RetryEvent`] before
/// each sleep (not for the final error, which is returned).
pub async fn retry_notify<P, F, Fut, T, E, N>(policy: &P, mut op: F, mut notify: N) -> Result<T, E>
where
    P: RetryPolicy + ?Sized,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: RetryableError,
    N: FnMut(&E, RetryEvent),
{
    let start = Instant::now();
    let mut retry_count: u32 = 0;
    loop {
        let err = match op().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let elapsed = start.elapsed();
        let Some(delay) = next_delay(policy, &err, retry_count, elapsed) else {
            return Err(err);
        };
        notify(
            &err,
            RetryEvent {
                retry_count,
                delay,
                elapsed,
            },
        );
        tokio::time::sleep(delay).await;
        retry_count = retry_count.saturating_add(1);
    }
}

/// The one decision shared by the loop and the tower service: `Some(delay)` to
/// retry after `delay`, `None` to return `err` to the caller.
pub(crate) fn next_delay<P, E>(
    policy: &P,
    err: &E,
    retry_count: u32,
    elapsed: Duration,
) -> Option<Duration>
where
    P: RetryPolicy + ?Sized,
    E: RetryableError,
{
    if !policy.allows_error(err) {
        debug!(
            retry_count,
            retryable = err.is_retryable(),
            session_expired = err.is_session_expired(),
            "error not retried"
        );
        return None;
    }
    match policy.allow_retry(retry_count, elapsed) {
        RetryDecision::RetryAfter(delay) => {
            debug!(retry_count, ?delay, ?elapsed, "operation failed; retrying");
            Some(delay)
        }
        RetryDecision::Stop => {
            debug!(retry_count, ?elapsed, "retry policy gave up");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::test_support::TestError;
    use crate::{
        ExponentialBackoffRetry, RetryForever, RetryNTimes, RetryUntilElapsed,
        SessionFailedRetryPolicy,
    };

    const SLEEP: Duration = Duration::from_millis(100);

    /// An operation that fails with `err` for its first `failures` attempts, then
    /// returns the attempt number.
    fn failing(
        attempts: &AtomicU32,
        failures: u32,
        err: TestError,
    ) -> impl FnMut() -> std::future::Ready<Result<u32, TestError>> + '_ {
        move || {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            std::future::ready(if attempt <= failures {
                Err(err)
            } else {
                Ok(attempt)
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn success_on_first_attempt_does_not_sleep() {
        let attempts = AtomicU32::new(0);
        let start = Instant::now();
        let result = retry(
            &RetryNTimes::new(3, SLEEP),
            failing(&attempts, 0, TestError::Transient),
        )
        .await;
        assert_eq!(result, Ok(1));
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_success() {
        let attempts = AtomicU32::new(0);
        let start = Instant::now();
        let result = retry(
            &RetryNTimes::new(5, SLEEP),
            failing(&attempts, 3, TestError::Transient),
        )
        .await;
        assert_eq!(result, Ok(4));
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
        assert_eq!(start.elapsed(), SLEEP * 3);
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_error_returns_after_exactly_one_attempt() {
        let attempts = AtomicU32::new(0);
        let start = Instant::now();
        let result = retry(
            &RetryForever::new(SLEEP),
            failing(&attempts, u32::MAX, TestError::Fatal),
        )
        .await;
        assert_eq!(result, Err(TestError::Fatal));
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_retries_plus_one_attempts() {
        for max_retries in [0, 1, 4] {
            let attempts = AtomicU32::new(0);
            let policy = RetryNTimes::new(max_retries, SLEEP);
            let result = retry(&policy, failing(&attempts, u32::MAX, TestError::Transient)).await;
            assert_eq!(result, Err(TestError::Transient));
            assert_eq!(attempts.load(Ordering::SeqCst), max_retries + 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn exponential_policy_stops_after_max_retries_plus_one_attempts() {
        let attempts = AtomicU32::new(0);
        let policy = ExponentialBackoffRetry::new(Duration::from_millis(10), 6).with_seed(9);
        let result = retry(&policy, failing(&attempts, u32::MAX, TestError::Transient)).await;
        assert_eq!(result, Err(TestError::Transient));
        assert_eq!(attempts.load(Ordering::SeqCst), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn session_failed_policy_returns_expiry_without_retrying() {
        let attempts = AtomicU32::new(0);
        let policy = SessionFailedRetryPolicy::new(RetryForever::new(SLEEP));
        let result = retry(
            &policy,
            failing(&attempts, u32::MAX, TestError::SessionExpired),
        )
        .await;
        assert_eq!(result, Err(TestError::SessionExpired));
        assert_eq!(attempts.load(Ordering::SeqCst), 1);

        // Without the wrapper the same error is retried.
        let attempts = AtomicU32::new(0);
        let result = retry(
            &RetryNTimes::new(2, SLEEP),
            failing(&attempts, 1, TestError::SessionExpired),
        )
        .await;
        assert_eq!(result, Ok(2));
    }

    #[tokio::test(start_paused = true)]
    async fn until_elapsed_stops_by_time_measured_from_the_first_attempt() {
        let attempts = AtomicU32::new(0);
        let policy = RetryUntilElapsed::new(Duration::from_secs(1), Duration::from_millis(300));
        let start = Instant::now();
        let result = retry(&policy, failing(&attempts, u32::MAX, TestError::Transient)).await;
        assert_eq!(result, Err(TestError::Transient));
        // Failures at 0, 300, 600, 900 ms are retried; the one at 1200 ms is not.
        assert_eq!(attempts.load(Ordering::SeqCst), 5);
        assert_eq!(start.elapsed(), Duration::from_millis(1200));
    }

    #[tokio::test(start_paused = true)]
    async fn until_elapsed_counts_time_spent_inside_attempts() {
        let attempts = AtomicU32::new(0);
        let policy = RetryUntilElapsed::new(Duration::from_secs(1), Duration::from_millis(100));
        let result: Result<(), TestError> = retry(&policy, || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(400)).await;
            Err(TestError::Transient)
        })
        .await;
        assert_eq!(result, Err(TestError::Transient));
        // Attempts end at 400, 900 and 1400 ms; only the first two are under budget.
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn observer_sees_every_retry_with_count_delay_and_elapsed() {
        let attempts = AtomicU32::new(0);
        let mut events = Vec::new();
        let result = retry_notify(
            &RetryNTimes::new(2, SLEEP),
            failing(&attempts, u32::MAX, TestError::Transient),
            |err: &TestError, event| events.push((*err, event)),
        )
        .await;
        assert_eq!(result, Err(TestError::Transient));
        let expected: Vec<_> = (0..2)
            .map(|n| {
                let event = RetryEvent {
                    retry_count: n,
                    delay: SLEEP,
                    elapsed: SLEEP * n,
                };
                (TestError::Transient, event)
            })
            .collect();
        assert_eq!(events, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn works_with_a_shared_dyn_policy() {
        let policy: std::sync::Arc<dyn RetryPolicy> =
            std::sync::Arc::new(RetryNTimes::new(1, SLEEP));
        let attempts = AtomicU32::new(0);
        let result = retry(&*policy, failing(&attempts, u32::MAX, TestError::Transient)).await;
        assert_eq!(result, Err(TestError::Transient));
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
    }
}
