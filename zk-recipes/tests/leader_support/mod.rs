//! Test support for the leader-election tests: a real ZooKeeper server and a proxy
//! that can cut a client off (zk-testing), session expiry, and clients with short
//! timeouts.

#![allow(dead_code)]

use std::time::Duration;

use zk_core::{Client, ConnectionStateErrorPolicy, SessionConfig};
use zk_retry::RetryNTimes;
pub use zk_testing::{Proxy, TestingServer};

/// The session timeout the tests' clients ask for.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(3);
/// A generous bound for anything the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A real standalone ZooKeeper on loopback (zk-testing's defaults: 100 ms tick,
/// session timeouts of 0.2–60 s).
pub async fn server() -> TestingServer {
    TestingServer::start().await.expect("ZooKeeper starts")
}

/// A proxy in front of `server`, for one client to be cut off.
pub async fn proxy(server: &TestingServer) -> Proxy {
    Proxy::start(server.addr()).await.expect("proxy starts")
}

/// A connected client with the tests' short timeouts.
pub async fn client(connect_string: &str) -> Client {
    client_with(
        connect_string,
        SESSION_TIMEOUT,
        ConnectionStateErrorPolicy::Standard,
    )
    .await
}

/// A connected client with this session timeout and error policy.
pub async fn client_with(
    connect_string: &str,
    session_timeout: Duration,
    policy: ConnectionStateErrorPolicy,
) -> Client {
    let client = Client::builder()
        .connect_string(connect_string)
        .session_timeout(session_timeout)
        .connection_state_error_policy(policy)
        .connection_timeout(Duration::from_secs(2))
        .retry_policy(RetryNTimes::new(3, Duration::from_millis(200)))
        .build()
        .expect("client config");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("client connects");
    client
}

/// Expires `client`'s session on the server: another connection resumes the same
/// session and closes it, as Curator's test utilities do.
pub async fn expire_session(connect_string: &str, client: &Client) {
    let session = client.session();
    let mut config = SessionConfig::new(
        connect_string.parse().expect("connect string"),
        SESSION_TIMEOUT,
    );
    config.resume = Some((session.session_id(), session.session_password()));
    let other = zk_core::Session::start(config);
    other
        .wait_connected(DEADLINE)
        .await
        .expect("resumed the session");
    assert_eq!(other.session_id(), session.session_id());
    other.close().await;
}

/// Polls `cond` every 10 ms until it holds, up to `DEADLINE`.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Serializes the tests of one binary: each starts a JVM, and two cores are few.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Whether `name` is a protected sequential node name: `_c_<uuid>-<lock_name><10 digits>`.
pub fn is_protected_sequential(name: &str, lock_name: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    if rest.len() < 37 {
        return false;
    }
    let (uuid, rest) = rest.split_at(36);
    let uuid_ok = uuid
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
        && uuid.matches('-').count() == 4;
    let Some(seq) = rest
        .strip_prefix('-')
        .and_then(|r| r.strip_prefix(lock_name))
    else {
        return false;
    };
    uuid_ok && seq.len() == 10 && seq.chars().all(|c| c.is_ascii_digit())
}
