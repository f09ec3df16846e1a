//! A tower [`Layer`] that applies any [`RetryPolicy`] to any [`Service`] whose error
//! implements [`RetryableError`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

use crate::retry_loop::next_delay;
use crate::{RetryPolicy, RetryableError};

/// Wraps services in [`Retry`], all sharing one policy.
///
/// ```
/// use std::time::Duration;
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
/// use zk_retry::{RetryLayer, RetryNTimes, RetryableError};
///
/// #[derive(Debug)]
/// struct Unavailable;
/// impl RetryableError for Unavailable {
///     fn is_retryable(&self) -> bool { true }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let service = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryNTimes::new(3, Duration::from_millis(1))))
///     .service(service_fn(|name: &'static str| async move {
///         Ok::<_, Unavailable>(format!("hello {name}"))
///     }));
/// assert_eq!(service.oneshot("zk").await.unwrap(), "hello zk");
/// # }
/// ```
pub struct RetryLayer<P: ?Sized> {
    policy: Arc<P>,
}

impl<P: RetryPolicy> RetryLayer<P> {
    /// A layer that retries with `policy`.
    pub fn new(policy: P) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl<P: RetryPolicy + ?Sized> RetryLayer<P> {
    /// A layer that retries with an already shared policy, such as an
    /// `Arc<dyn RetryPolicy>`.
    pub fn from_arc(policy: Arc<P>) -> Self {
        Self { policy }
    }
}

impl<P: ?Sized> Clone for RetryLayer<P> {
    fn clone(&self) -> Self {
        Self {
            policy: Arc::clone(&self.policy),
        }
    }
}

impl<P: fmt::Debug + ?Sized> fmt::Debug for RetryLayer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("policy", &self.policy)
            .finish()
    }
}

impl<S, P: ?Sized> Layer<S> for RetryLayer<P> {
    type Service = Retry<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry {
            inner,
            policy: Arc::clone(&self.policy),
        }
    }
}

/// A service that retries failed calls of its inner service as its policy decides.
///
/// Each call owns a clone of the request (so `Req: Clone`) and the inner service
/// that [`poll_ready`](Service::poll_ready) made ready; this `Retry` keeps a fresh
/// clone of the inner service for later calls, as tower requires. Before each retry
/// the owned service is driven to readiness again; an error from readiness is
/// returned at once, since tower treats a service whose `poll_ready` failed as
/// unusable. Sleeps use [`tokio::time::sleep`]. The returned future is boxed and
/// `Send`.
pub struct Retry<S, P: ?Sized> {
    inner: S,
    policy: Arc<P>,
}

impl<S, P: RetryPolicy> Retry<S, P> {
    /// Wraps `inner` with `policy`.
    pub fn new(inner: S, policy: P) -> Self {
        Self {
            inner,
            policy: Arc::new(policy),
        }
    }
}

impl<S, P: ?Sized> Retry<S, P> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The policy in use.
    pub fn policy(&self) -> &Arc<P> {
        &self.policy
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, P: ?Sized> Clone for Retry<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            policy: Arc::clone(&self.policy),
        }
    }
}

impl<S: fmt::Debug, P: fmt::Debug + ?Sized> fmt::Debug for Retry<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("inner", &self.inner)
            .field("policy", &self.policy)
            .finish()
    }
}

/// The future returned by [`Retry::call`].
pub type RetryFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, P, Req> Service<Req> for Retry<S, P>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
    S::Error: RetryableError + Send,
    P: RetryPolicy + ?Sized,
    Req: Clone + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RetryFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // `self.inner` is the service poll_ready made ready: the call takes it and
        // leaves a fresh clone behind for the next poll_ready.
        let fresh = self.inner.clone();
        let mut service = std::mem::replace(&mut self.inner, fresh);
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let start = Instant::now();
            let mut retry_count: u32 = 0;
            let mut result = service.call(req.clone()).await;
            loop {
                let err = match result {
                    Ok(response) => return Ok(response),
                    Err(err) => err,
                };
                let Some(delay) = next_delay(&*policy, &err, retry_count, start.elapsed()) else {
                    return Err(err);
                };
                tokio::time::sleep(delay).await;
                retry_count = retry_count.saturating_add(1);
                let ready = service.ready().await?;
                result = ready.call(req.clone()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tower::{ServiceBuilder, service_fn};

    use super::*;
    use crate::test_support::TestError;
    use crate::{RetryForever, RetryNTimes, SessionFailedRetryPolicy};

    const SLEEP: std::time::Duration = std::time::Duration::from_millis(100);

    /// A service that records every request it receives and fails the first
    /// `failures` calls with `err`.
    fn flaky(
        calls: Arc<AtomicU32>,
        failures: u32,
        err: TestError,
    ) -> impl Service<u32, Response = u32, Error = TestError, Future: Send> + Clone + Send + 'static
    {
        service_fn(move |req: u32| {
            let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
            std::future::ready(if call <= failures {
                Err(err)
            } else {
                Ok(req * 10)
            })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn layer_retries_until_the_inner_service_succeeds() {
        let calls = Arc::new(AtomicU32::new(0));
        let service = ServiceBuilder::new()
            .layer(RetryLayer::new(RetryNTimes::new(3, SLEEP)))
            .service(flaky(calls.clone(), 2, TestError::Transient));
        let start = Instant::now();
        assert_eq!(service.oneshot(7).await, Ok(70));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), SLEEP * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn layer_stops_after_max_retries_plus_one_calls() {
        let calls = Arc::new(AtomicU32::new(0));
        let service = RetryLayer::new(RetryNTimes::new(2, SLEEP)).layer(flaky(
            calls.clone(),
            u32::MAX,
            TestError::Transient,
        ));
        assert_eq!(service.oneshot(1).await, Err(TestError::Transient));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn layer_returns_refused_errors_after_one_call() {
        let policy: Arc<dyn RetryPolicy> =
            Arc::new(SessionFailedRetryPolicy::new(RetryForever::new(SLEEP)));
        for err in [TestError::Fatal, TestError::SessionExpired] {
            let calls = Arc::new(AtomicU32::new(0));
            let service =
                RetryLayer::from_arc(policy.clone()).layer(flaky(calls.clone(), u32::MAX, err));
            assert_eq!(service.oneshot(1).await, Err(err));
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
    }

    /// A service that, like a concurrency limit, only serves a call after its own
    /// `poll_ready` succeeded, and tracks that per clone.
    struct NeedsReady {
        ready: bool,
        readied: Arc<AtomicU32>,
        calls: Arc<AtomicU32>,
    }

    impl Clone for NeedsReady {
        /// Like a concurrency-limit permit, readiness is not copied to a clone.
        fn clone(&self) -> Self {
            Self {
                ready: false,
                readied: self.readied.clone(),
                calls: self.calls.clone(),
            }
        }
    }

    impl Service<u32> for NeedsReady {
        type Response = u32;
        type Error = TestError;
        type Future = std::future::Ready<Result<u32, TestError>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), TestError>> {
            self.ready = true;
            self.readied.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: u32) -> Self::Future {
            if !std::mem::take(&mut self.ready) {
                // Calling an un-readied service is the bug this test looks for.
                return std::future::ready(Err(TestError::Fatal));
            }
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            std::future::ready(if call < 3 {
                Err(TestError::Transient)
            } else {
                Ok(req)
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn every_attempt_calls_a_readied_service() {
        let readied = Arc::new(AtomicU32::new(0));
        let calls = Arc::new(AtomicU32::new(0));
        let inner = NeedsReady {
            ready: false,
            readied: readied.clone(),
            calls: calls.clone(),
        };
        let mut service = Retry::new(inner, RetryNTimes::new(5, SLEEP));
        let response = service.ready().await.unwrap().call(9).await;
        assert_eq!(response, Ok(9));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(readied.load(Ordering::SeqCst), 3);
        // The service left behind is a fresh, un-readied clone; it serves the next call.
        assert!(!service.get_ref().ready);
        assert_eq!(service.ready().await.unwrap().call(4).await, Ok(4));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_calls_share_one_policy() {
        let calls = Arc::new(AtomicU32::new(0));
        let service = RetryLayer::new(RetryNTimes::new(1, SLEEP)).layer(flaky(
            calls.clone(),
            2,
            TestError::Transient,
        ));
        let (a, b) = tokio::join!(service.clone().oneshot(1), service.clone().oneshot(2));
        assert_eq!((a, b), (Ok(10), Ok(20)));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }
}
