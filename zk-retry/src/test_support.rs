//! Errors used by the unit tests of this crate.

use crate::RetryableError;

/// A stand-in for zk-core's error with the three behaviours a policy can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestError {
    /// Like `ConnectionLoss`: retryable.
    Transient,
    /// Like `NoNode`: never retryable.
    Fatal,
    /// Like `SessionExpired`: retryable in general, refused by SessionFailedRetryPolicy.
    SessionExpired,
}

impl RetryableError for TestError {
    fn is_retryable(&self) -> bool {
        !matches!(self, TestError::Fatal)
    }

    fn is_session_expired(&self) -> bool {
        matches!(self, TestError::SessionExpired)
    }
}
