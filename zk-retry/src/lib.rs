//! zk-retry: retry policies and the retry loop, independent of ZooKeeper.
//!
//! A [`RetryPolicy`] decides; it never sleeps. After a failed attempt it is asked
//! two things: whether this error may be retried at all
//! ([`RetryPolicy::allows_error`], by default [`RetryableError::is_retryable`]),
//! and, given the retry count and the time since the first attempt, whether to try
//! again and after how long ([`RetryPolicy::allow_retry`], answering a
//! [`RetryDecision`]). Errors describe themselves through [`RetryableError`], which
//! zk-core's error implements; this crate knows nothing else about ZooKeeper.
//!
//! The map of the crate:
//!
//! | module | what it holds |
//! | --- | --- |
//! | `policy` | [`RetryableError`], [`RetryPolicy`], [`RetryDecision`] |
//! | `exponential` | [`ExponentialBackoffRetry`], [`BoundedExponentialBackoffRetry`] |
//! | `fixed` | [`RetryNTimes`], [`RetryOneTime`], [`RetryUntilElapsed`], [`RetryForever`] |
//! | `session_failed` | [`SessionFailedRetryPolicy`]: never retries an expired session |
//! | `retry_loop` | [`retry`] and [`retry_notify`]: the async loop that sleeps with tokio |
//! | `tower_layer` | [`RetryLayer`] and its service [`Retry`], for any tower `Service` |
//! | `backon_adapter` | (feature `backon`) `BackonPolicy` and `PolicyBackoff` |
//!
//! The policies follow Apache Curator 5's formulas and limits: for instance
//! `ExponentialBackoffRetry` sleeps `base × max(1, random in [0, 2^(retry_count+1)))`
//! and allows at most 29 retries. Their random draws can be seeded for tests.
//!
//! ```
//! use std::time::Duration;
//! use zk_retry::{retry, ExponentialBackoffRetry, RetryableError};
//!
//! #[derive(Debug, PartialEq)]
//! enum Error {
//!     ConnectionLoss,
//!     NoNode,
//! }
//!
//! impl RetryableError for Error {
//!     fn is_retryable(&self) -> bool {
//!         matches!(self, Error::ConnectionLoss)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let policy = ExponentialBackoffRetry::new(Duration::from_millis(1), 3);
//! // NoNode is not retryable: the loop returns it after one attempt.
//! let result: Result<(), Error> = retry(&policy, || async { Err(Error::NoNode) }).await;
//! assert_eq!(result, Err(Error::NoNode));
//! # }
//! ```

mod backoff_forever;
mod exponential;
mod fixed;
mod policy;
mod retry_loop;
mod session_failed;
mod tower_layer;

#[cfg(feature = "backon")]
mod backon_adapter;

#[cfg(test)]
mod test_support;

pub use backoff_forever::ExponentialBackoffForever;
#[cfg(feature = "backon")]
pub use backon_adapter::{BackonPolicy, PolicyBackoff};
pub use exponential::{
    BoundedExponentialBackoffRetry, DEFAULT_MAX_SLEEP, ExponentialBackoffRetry, MAX_RETRIES_LIMIT,
};
pub use fixed::{RetryForever, RetryNTimes, RetryOneTime, RetryUntilElapsed};
pub use policy::{RetryDecision, RetryPolicy, RetryableError};
pub use retry_loop::{RetryEvent, retry, retry_notify};
pub use session_failed::SessionFailedRetryPolicy;
pub use tower_layer::{Retry, RetryFuture, RetryLayer};
