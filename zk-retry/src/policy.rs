//! The two traits every other module builds on: an error that knows whether it is
//! worth retrying, and a policy that decides whether (and after how long) to retry.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

/// An error that can say whether the operation that produced it may be tried again.
///
/// zk-core's `Error` implements it: connection loss and operation timeouts are
/// retryable, `NoNode` or `BadVersion` are not. The trait is dyn-compatible so that
/// a [`RetryPolicy`] can inspect any error as `&dyn RetryableError`.
pub trait RetryableError {
    /// `true` when the failure is transient and a new attempt may succeed.
    fn is_retryable(&self) -> bool;

    /// `true` when the error reports that the ZooKeeper session has expired.
    ///
    /// [`SessionFailedRetryPolicy`](crate::SessionFailedRetryPolicy) refuses such
    /// errors. Errors that know nothing about sessions keep the default, `false`.
    fn is_session_expired(&self) -> bool {
        false
    }
}

impl<E: RetryableError + ?Sized> RetryableError for &E {
    fn is_retryable(&self) -> bool {
        (**self).is_retryable()
    }
    fn is_session_expired(&self) -> bool {
        (**self).is_session_expired()
    }
}

impl<E: RetryableError + ?Sized> RetryableError for Box<E> {
    fn is_retryable(&self) -> bool {
        (**self).is_retryable()
    }
    fn is_session_expired(&self) -> bool {
        (**self).is_session_expired()
    }
}

impl<E: RetryableError + ?Sized> RetryableError for Arc<E> {
    fn is_retryable(&self) -> bool {
        (**self).is_retryable()
    }
    fn is_session_expired(&self) -> bool {
        (**self).is_session_expired()
    }
}

/// What a [`RetryPolicy`] answers after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up and hand the last error to the caller.
    Stop,
}

impl RetryDecision {
    /// The delay to wait before the next attempt, or `None` for [`RetryDecision::Stop`].
    pub fn delay(self) -> Option<Duration> {
        match self {
            RetryDecision::RetryAfter(delay) => Some(delay),
            RetryDecision::Stop => None,
        }
    }
}

/// Decides whether a failed operation is tried again, and after how long.
///
/// A policy only decides; the caller sleeps (see [`retry`](crate::retry) and
/// [`RetryLayer`](crate::RetryLayer)). Policies are shared between many operations
/// running at once, so [`allow_retry`](RetryPolicy::allow_retry) takes `&self` and
/// gets everything it needs as arguments. The trait is object-safe: a client keeps
/// its policy as `Arc<dyn RetryPolicy>`, which itself implements `RetryPolicy`.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::{RetryDecision, RetryNTimes, RetryPolicy};
///
/// let policy = RetryNTimes::new(2, Duration::from_millis(50));
/// let delay = Duration::from_millis(50);
/// assert_eq!(policy.allow_retry(0, Duration::ZERO), RetryDecision::RetryAfter(delay));
/// assert_eq!(policy.allow_retry(1, Duration::ZERO), RetryDecision::RetryAfter(delay));
/// assert_eq!(policy.allow_retry(2, Duration::ZERO), RetryDecision::Stop);
/// ```
pub trait RetryPolicy: Send + Sync + Debug + 'static {
    /// Called after a failed attempt whose error [`allows_error`](RetryPolicy::allows_error)
    /// accepted.
    ///
    /// `retry_count` is the number of retries already made: 0 after the first attempt
    /// failed. `elapsed` is the time since the first attempt started.
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision;

    /// Whether this kind of error may be retried at all. Asked before
    /// [`allow_retry`](RetryPolicy::allow_retry); `false` ends the retry loop at once.
    ///
    /// Defaults to [`RetryableError::is_retryable`].
    fn allows_error(&self, err: &dyn RetryableError) -> bool {
        err.is_retryable()
    }
}

impl<P: RetryPolicy + ?Sized> RetryPolicy for Arc<P> {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        (**self).allow_retry(retry_count, elapsed)
    }
    fn allows_error(&self, err: &dyn RetryableError) -> bool {
        (**self).allows_error(err)
    }
}

impl<P: RetryPolicy + ?Sized> RetryPolicy for Box<P> {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        (**self).allow_retry(retry_count, elapsed)
    }
    fn allows_error(&self, err: &dyn RetryableError) -> bool {
        (**self).allows_error(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestError;
    use crate::{RetryForever, RetryNTimes};

    #[test]
    fn default_allows_error_follows_is_retryable() {
        let policy = RetryForever::new(Duration::from_millis(1));
        assert!(policy.allows_error(&TestError::Transient));
        assert!(!policy.allows_error(&TestError::Fatal));
        // The default does not single out session expiry.
        assert!(policy.allows_error(&TestError::SessionExpired));
    }

    #[test]
    fn shared_dyn_policy_delegates_to_the_inner_policy() {
        let policy: Arc<dyn RetryPolicy> = Arc::new(RetryNTimes::new(1, Duration::from_secs(2)));
        let boxed: Box<dyn RetryPolicy> = Box::new(policy.clone());
        for p in [&policy as &dyn RetryPolicy, &boxed] {
            assert_eq!(
                p.allow_retry(0, Duration::ZERO),
                RetryDecision::RetryAfter(Duration::from_secs(2))
            );
            assert_eq!(p.allow_retry(1, Duration::ZERO), RetryDecision::Stop);
            assert!(!p.allows_error(&TestError::Fatal));
        }
    }

    #[test]
    fn wrapped_errors_report_like_the_error_they_wrap() {
        let boxed: Box<dyn RetryableError> = Box::new(TestError::SessionExpired);
        assert!(boxed.is_session_expired());
        assert!(boxed.is_retryable());
        let shared = Arc::new(TestError::Fatal);
        assert!(!shared.is_retryable());
        fn expired<E: RetryableError>(err: E) -> bool {
            err.is_session_expired()
        }
        let (expiry, transient): (&TestError, &TestError) =
            (&TestError::SessionExpired, &TestError::Transient);
        assert!(expired(expiry));
        assert!(!expired(transient));
    }

    #[test]
    fn decision_exposes_its_delay() {
        assert_eq!(
            RetryDecision::RetryAfter(Duration::from_millis(3)).delay(),
            Some(Duration::from_millis(3))
        );
        assert_eq!(RetryDecision::Stop.delay(), None);
    }
}
