//! Helpers shared by the integration tests: deadlines, sessions on real servers,
//! unique paths, and waiting for session events.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use zk_core::{Acl, Code, CreateMode, Error, Session, SessionConfig, SessionEvent, SessionEvents};
use zk_testing::{RunningServer, SharedServer, TestingServer};

/// The bound on any single wait that should be quick on a healthy machine.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// The session timeout most tests use: long enough not to expire on a busy machine,
/// short enough that a reconnect is quick.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The server the tests of one binary share.
static SHARED: SharedServer = SharedServer::new();

/// The standalone server (zk-testing's defaults) this binary's tests share, started by the
/// first: for tests that leave it alone and keep to paths of their own.
pub(crate) async fn server() -> &'static RunningServer {
    SHARED.get().await.expect("ZooKeeper starts")
}

/// A standalone server of the test's own, for a test that stops, restarts or pauses it.
pub(crate) async fn own_server() -> TestingServer {
    TestingServer::start().await.expect("ZooKeeper starts")
}

/// The ACL that lets anyone do anything (`world:anyone`, all permissions).
pub(crate) fn open() -> Vec<Acl> {
    vec![Acl::open_unsafe()]
}

/// The server's error code of `e`, `None` for a local error.
pub(crate) fn server_code(e: &Error) -> Option<Code> {
    match e {
        Error::Server { code, .. } => Some(*code),
        _ => None,
    }
}

/// Sends the crate's tracing to the test output when `RUST_LOG` asks for it.
pub(crate) fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Awaits `fut`, failing the test with `what` if it takes longer than `limit`.
pub(crate) async fn within<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// Awaits `fut` within [`DEADLINE`].
pub(crate) async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    within(DEADLINE, what, fut).await
}

/// A session on `connect_string` with `timeout`, connected.
pub(crate) async fn connect_with(connect_string: &str, timeout: Duration) -> Session {
    init_tracing();
    let session = Session::connect(connect_string, timeout).expect("valid connect string");
    session
        .wait_connected(DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("connecting to {connect_string}: {e}"));
    session
}

/// A session on `connect_string` with [`SESSION_TIMEOUT`], connected.
pub(crate) async fn connect(connect_string: &str) -> Session {
    connect_with(connect_string, SESSION_TIMEOUT).await
}

/// A session started from `config` with its event stream, connected (the first
/// SyncConnected already taken from the stream).
pub(crate) async fn start_with_events(config: SessionConfig) -> (Session, SessionEvents) {
    let (session, mut events) = Session::start_with_events(config);
    match next_event(&mut events).await {
        SessionEvent::SyncConnected => {}
        other => panic!("expected the first event to be SyncConnected, got {other:?}"),
    }
    (session, events)
}

/// A config for `connect_string` with `timeout` and otherwise defaults.
pub(crate) fn config(connect_string: &str, timeout: Duration) -> SessionConfig {
    init_tracing();
    SessionConfig::new(
        connect_string.parse().expect("valid connect string"),
        timeout,
    )
}

/// The next session event, within [`DEADLINE`].
pub(crate) async fn next_event(events: &mut SessionEvents) -> SessionEvent {
    bounded("the next session event", events.next())
        .await
        .expect("the session event stream ended early")
}

/// Skips events until one matches `pred`, within `limit`; returns it and the ones
/// skipped before it.
pub(crate) async fn wait_event(
    events: &mut SessionEvents,
    limit: Duration,
    what: &str,
    pred: impl Fn(&SessionEvent) -> bool,
) -> (SessionEvent, Vec<SessionEvent>) {
    within(limit, what, async {
        let mut skipped = Vec::new();
        while let Some(ev) = events.next().await {
            if pred(&ev) {
                return (ev, skipped);
            }
            skipped.push(ev);
        }
        panic!("the event stream ended while waiting for {what}; saw {skipped:?}")
    })
    .await
}

/// A unique absolute path for one test: `/<name>-<random>`.
pub(crate) fn unique(name: &str) -> String {
    format!(
        "/{name}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Creates a persistent node with open ACLs and `data`; returns its path.
pub(crate) async fn mk(session: &Session, path: &str, data: &[u8]) -> String {
    bounded(
        "create",
        session.create(path, data, &[Acl::open_unsafe()], CreateMode::Persistent),
    )
    .await
    .unwrap_or_else(|e| panic!("create {path}: {e}"))
    .0
}

/// Whether `haystack` lists the session id in the hex form ZooKeeper prints
/// (`0x...` without leading zeros).
pub(crate) fn mentions_session(haystack: &str, session_id: i64) -> bool {
    haystack.contains(&format!("0x{session_id:x}"))
}
