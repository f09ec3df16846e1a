//! Helpers shared by the framework's integration tests: servers with a short tick,
//! clients with short timeouts, a recorder that checks connection-state sequences
//! exactly, a retry policy that counts, and event-driven waits.

#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::time::{Instant, timeout};
use zk_core::{Client, ClientBuilder, ConnectionState, ConnectionStates};
use zk_retry::{RetryDecision, RetryNTimes, RetryPolicy, RetryableError};
use zk_testing::{ServerConfig, TestingServer};

/// The servers' tick: short, so that short session timeouts are allowed and expiry
/// is detected within a tenth of a second.
pub(crate) const TICK: Duration = Duration::from_millis(100);
/// The session timeout most tests ask for.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long an operation waits for a connection in most tests.
pub(crate) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// A generous bound for anything that should happen "soon".
pub(crate) const SOON: Duration = Duration::from_secs(15);
/// How long a sequence must stay quiet after its last expected state.
pub(crate) const GRACE: Duration = Duration::from_millis(700);

/// Sends `tracing` output to the test's captured output when `RUST_LOG` is set.
pub(crate) fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A server with a short tick whose session limits allow timeouts from 2 ticks to a minute.
pub(crate) async fn server() -> TestingServer {
    init_tracing();
    TestingServer::start_with(server_config())
        .await
        .expect("ZooKeeper server starts")
}

/// The configuration of [`server`].
pub(crate) fn server_config() -> ServerConfig {
    init_tracing();
    ServerConfig::builder()
        .tick_time(TICK)
        .session_timeouts(TICK * 2, Duration::from_secs(60))
        .build()
        .expect("valid server config")
}

/// A builder for `connect`, with this suite's short timeouts and a quick retry policy.
pub(crate) fn builder(connect: &str) -> ClientBuilder {
    Client::builder()
        .connect_string(connect)
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(CONNECTION_TIMEOUT)
        .retry_policy(RetryNTimes::new(3, Duration::from_millis(100)))
}

/// Builds `b` and waits until it is connected.
pub(crate) async fn connect(b: ClientBuilder) -> Client {
    let client = b.build().expect("valid client settings");
    client
        .block_until_connected(SOON)
        .await
        .expect("client connects");
    client
}

/// A connected client for `connect` with [`builder`]'s settings.
pub(crate) async fn client(connect_string: &str) -> Client {
    connect(builder(connect_string)).await
}

/// Records a client's connection states and checks them against an exact sequence.
pub(crate) struct States {
    rx: ConnectionStates,
    seen: Vec<(ConnectionState, Instant)>,
}

impl States {
    /// Starts recording `client`'s states from now on.
    pub(crate) fn of(client: &Client) -> States {
        States {
            rx: client.connection_states(),
            seen: Vec::new(),
        }
    }

    /// Waits for the next state, which must be `expected`, and returns when it arrived.
    pub(crate) async fn expect(&mut self, expected: ConnectionState, within: Duration) -> Instant {
        match timeout(within, self.rx.next()).await {
            Ok(Some(s)) => {
                let at = Instant::now();
                self.seen.push((s, at));
                assert_eq!(
                    s,
                    expected,
                    "expected {expected:?} next; states so far: {:?}",
                    self.history()
                );
                at
            }
            Ok(None) => panic!(
                "state stream ended while waiting for {expected:?}; states so far: {:?}",
                self.history()
            ),
            Err(_) => panic!(
                "no {expected:?} within {within:?}; states so far: {:?}",
                self.history()
            ),
        }
    }

    /// Waits for each state of `expected` in order.
    pub(crate) async fn expect_seq(&mut self, expected: &[ConnectionState], each_within: Duration) {
        for s in expected {
            self.expect(*s, each_within).await;
        }
    }

    /// Asserts that no state arrives for `grace`.
    pub(crate) async fn expect_quiet(&mut self, grace: Duration) {
        if let Ok(next) = timeout(grace, self.rx.next()).await {
            panic!(
                "unexpected {next:?} after the expected sequence {:?}",
                self.history()
            );
        }
    }

    /// Whether the stream has ended, waiting up to `within` for that.
    pub(crate) async fn ended_within(&mut self, within: Duration) -> bool {
        loop {
            match timeout(within, self.rx.next()).await {
                Ok(None) => return true,
                Ok(Some(s)) => self.seen.push((s, Instant::now())),
                Err(_) => return false,
            }
        }
    }

    /// The states recorded so far.
    pub(crate) fn history(&self) -> Vec<ConnectionState> {
        self.seen.iter().map(|(s, _)| *s).collect()
    }
}

/// Waits, up to `within`, until `path` does not exist as `observer` sees it. Waits on
/// exists watches, not on a timer.
pub(crate) async fn wait_gone(observer: &Client, path: &str, within: Duration) {
    let wait = async {
        loop {
            let (stat, changed) = observer
                .exists(path)
                .watched()
                .await
                .expect("exists on the observer");
            if stat.is_none() {
                return;
            }
            let _ = changed.await;
        }
    };
    timeout(within, wait)
        .await
        .unwrap_or_else(|_| panic!("{path} still exists after {within:?}"));
}

/// Waits, up to `within`, until `path` exists as `observer` sees it.
pub(crate) async fn wait_exists(observer: &Client, path: &str, within: Duration) {
    let wait = async {
        loop {
            let (stat, changed) = observer
                .exists(path)
                .watched()
                .await
                .expect("exists on the observer");
            if stat.is_some() {
                return;
            }
            let _ = changed.await;
        }
    };
    timeout(within, wait)
        .await
        .unwrap_or_else(|_| panic!("{path} still missing after {within:?}"));
}

/// Runs `fut` with a deadline, failing the test with `what` if it passes.
pub(crate) async fn within<T>(
    d: Duration,
    what: &str,
    fut: impl std::future::IntoFuture<Output = T>,
) -> T {
    timeout(d, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {d:?}"))
}

/// What a [`CountingPolicy`] saw.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Failed attempts shown to the policy (`allows_error` calls).
    pub failures: AtomicU32,
    /// Retries the policy granted.
    pub retries: AtomicU32,
    /// Times the policy said stop.
    pub stops: AtomicU32,
}

impl Counts {
    pub(crate) fn failures(&self) -> u32 {
        self.failures.load(Ordering::SeqCst)
    }
    pub(crate) fn retries(&self) -> u32 {
        self.retries.load(Ordering::SeqCst)
    }
    pub(crate) fn stops(&self) -> u32 {
        self.stops.load(Ordering::SeqCst)
    }
}

/// A retry policy that counts what the retry loop asks it and lets `inner` decide.
#[derive(Debug)]
pub(crate) struct CountingPolicy<P> {
    pub inner: P,
    pub counts: Arc<Counts>,
}

impl<P: RetryPolicy> CountingPolicy<P> {
    pub(crate) fn new(inner: P) -> (Self, Arc<Counts>) {
        let counts = Arc::new(Counts::default());
        (
            CountingPolicy {
                inner,
                counts: counts.clone(),
            },
            counts,
        )
    }
}

impl<P: RetryPolicy> RetryPolicy for CountingPolicy<P> {
    fn allow_retry(&self, retry_count: u32, elapsed: Duration) -> RetryDecision {
        let d = self.inner.allow_retry(retry_count, elapsed);
        match d {
            RetryDecision::RetryAfter(_) => self.counts.retries.fetch_add(1, Ordering::SeqCst),
            RetryDecision::Stop => self.counts.stops.fetch_add(1, Ordering::SeqCst),
        };
        d
    }

    fn allows_error(&self, err: &dyn RetryableError) -> bool {
        self.counts.failures.fetch_add(1, Ordering::SeqCst);
        self.inner.allows_error(err)
    }
}

/// A unique path under `/` for one test.
pub(crate) fn unique(prefix: &str) -> String {
    format!("/{prefix}-{}", uuid_like())
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{n:x}")
}
