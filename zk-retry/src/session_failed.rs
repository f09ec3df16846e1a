//! A wrapper policy that never retries an expired session: Curator's
//! `SessionFailedRetryPolicy`.

use std::time::Duration;

use crate::{RetryDecision, RetryPolicy, RetryableError};

/// Wraps another policy and refuses every error whose
/// [`is_session_expired`](RetryableError::is_session_expired) is `true`.
///
/// By default an expired session is retryable: the client opens a new session and
/// the operation runs again. Code whose correctness depends on the old session
/// (ephemeral nodes, locks) uses this wrapper to see the expiry instead.
/// Everything else is left to the wrapped policy.
///
/// ```
/// use std::time::Duration;
/// use zk_retry::{RetryNTimes, RetryPolicy, RetryableError, SessionFailedRetryPolicy};
///
/// struct Expired;
/// impl RetryableError for Expired {
///     fn is_retryable(&self) -> bool { true }
///     fn is_session_expired(&self) -> bool { true }
/// }
///
/// let policy = SessionFailedRetryPolicy::new(RetryNTimes::new(3, Duration::from_millis(10)));
/// assert!(!policy.allows_error(&Expired));
/// ```
#[derive(Debug, Clone)]
pub struct SessionFailedRetryPolicy<P> {
    inner: P,
}

impl<P: RetryPolicy> SessionFailedRetryPolicy<P> {
    /// Wraps `inner`.
    pub fn new(inner: P) -> Self {
        Self { inner }
    }

    /// The wrapped policy.
    pub fn inner(&self) -> &P {
        &self.inner
    }
}

impl<P: RetryPolicy> RetryPolicy for SessionFailedRetryPolicy<P> {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        self.inner.allow_retry(retry_count, elapsed)
    }

    fn allows_error(&self, err: &dyn RetryableError) -> bool {
        !err.is_session_expired() && self.inner.allows_error(err)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::test_support::TestError;
    use crate::{RetryForever, RetryNTimes};

    #[test]
    fn refuses_session_expiry_and_delegates_other_errors() {
        let policy = SessionFailedRetryPolicy::new(RetryForever::new(Duration::from_millis(5)));
        assert!(!policy.allows_error(&TestError::SessionExpired));
        assert!(policy.allows_error(&TestError::Transient));
        assert!(!policy.allows_error(&TestError::Fatal));
        // The bare policy would have retried the expiry.
        assert!(policy.inner().allows_error(&TestError::SessionExpired));
    }

    #[test]
    fn timing_decisions_come_from_the_wrapped_policy() {
        let inner = RetryNTimes::new(2, Duration::from_millis(7));
        let policy = SessionFailedRetryPolicy::new(inner);
        for count in 0..4 {
            assert_eq!(
                policy.allow_retry(count, Duration::ZERO),
                inner.allow_retry(count, Duration::ZERO)
            );
        }
    }

    #[derive(Debug)]
    struct RefuseEverything;

    impl RetryPolicy for RefuseEverything {
        fn allow_retry(&self, _: u32, _: Duration) -> RetryDecision {
            RetryDecision::RetryAfter(Duration::ZERO)
        }
        fn allows_error(&self, _: &dyn RetryableError) -> bool {
            false
        }
    }

    #[test]
    fn keeps_the_wrapped_policys_own_refusals() {
        let policy = SessionFailedRetryPolicy::new(RefuseEverything);
        assert!(!policy.allows_error(&TestError::Transient));
    }

    #[test]
    fn wraps_a_shared_dyn_policy() {
        let shared: Arc<dyn RetryPolicy> = Arc::new(RetryNTimes::new(1, Duration::ZERO));
        let policy = SessionFailedRetryPolicy::new(shared);
        assert!(!policy.allows_error(&TestError::SessionExpired));
        assert_eq!(policy.allow_retry(1, Duration::ZERO), RetryDecision::Stop);
    }
}
