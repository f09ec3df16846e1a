//! Real ZooKeeper for the tests: one standalone server shared by the tests of a binary
//! (zk-testing's SharedServer), private servers for tests that break theirs, a proxy,
//! clients with short timeouts, and session expiry on purpose.

use std::net::SocketAddr;
use std::time::Duration;

use zk_core::{Client, ConnectionStateErrorPolicy};
use zk_retry::RetryNTimes;
pub(crate) use zk_testing::{Proxy, RunningServer, SharedServer, TestingServer};

use super::wait::DEADLINE;

/// The session timeout of the clients under test: short, so expiry tests are quick.
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(4);
/// How long an operation waits for a connection before an attempt fails. With the
/// retry policy of [`connect_with_policy`], an operation of a client that stays cut
/// off fails after about 9 s (a `close()` that deletes a node, say).
pub(crate) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// The server the tests of one binary share.
static SHARED: SharedServer = SharedServer::new();

/// The standalone server this binary's tests share, started by the first (zk-testing's
/// defaults: 100 ms tick, session timeouts of 0.2–60 s). For tests that leave the server
/// alone and keep to paths of their own.
pub(crate) async fn server() -> &'static RunningServer {
    SHARED.get().await.expect("ZooKeeper starts")
}

/// A place of the test's own on the binary's shared server: a fresh chroot, for tests
/// written against fixed paths (`/services`, ...). Every client that connects with
/// [`ChrootedServer::connect_string`] sees the chroot as `/`.
pub(crate) async fn fresh_chroot() -> ChrootedServer {
    let server = server().await;
    let chroot = format!("/chroot-{}", uuid::Uuid::new_v4().simple());
    let admin = connect(&server.connect_string()).await;
    admin
        .create(&chroot, b"")
        .await
        .unwrap_or_else(|e| panic!("create the chroot {chroot}: {e}"));
    admin.close().await;
    ChrootedServer {
        connect_string: format!("{}{chroot}", server.connect_string()),
    }
}

/// The binary's shared server, seen under a chroot of one test's own.
#[derive(Debug, Clone)]
pub(crate) struct ChrootedServer {
    connect_string: String,
}

impl ChrootedServer {
    /// `127.0.0.1:<port>/<chroot>`.
    pub(crate) fn connect_string(&self) -> String {
        self.connect_string.clone()
    }
}

/// A standalone server of the test's own, for a test that restarts or pauses it.
pub(crate) async fn own_server() -> TestingServer {
    TestingServer::start().await.expect("ZooKeeper starts")
}

/// A proxy in front of the server at `addr`, for one client to be cut off.
pub(crate) async fn proxy(addr: SocketAddr) -> Proxy {
    Proxy::start(addr).await.expect("the proxy starts")
}

/// A connected client with [`SESSION_TIMEOUT`] and Curator's standard error policy.
pub(crate) async fn connect(connect_string: &str) -> Client {
    connect_with(connect_string, SESSION_TIMEOUT).await
}

/// A connected client with this session timeout.
pub(crate) async fn connect_with(connect_string: &str, session_timeout: Duration) -> Client {
    connect_with_policy(
        connect_string,
        session_timeout,
        ConnectionStateErrorPolicy::Standard,
    )
    .await
}

/// A connected client with this session timeout and connection-state error policy.
pub(crate) async fn connect_with_policy(
    connect_string: &str,
    session_timeout: Duration,
    policy: ConnectionStateErrorPolicy,
) -> Client {
    let client = Client::builder()
        .connect_string(connect_string)
        .session_timeout(session_timeout)
        .connection_timeout(CONNECTION_TIMEOUT)
        .connection_state_error_policy(policy)
        .retry_policy(RetryNTimes::new(3, Duration::from_millis(200)))
        .build()
        .expect("a valid client configuration");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("the client connects");
    client
}

/// Expires `client`'s current session on the server of `connect_string`, with
/// zk-testing's `expire_session` (a second connection resumes the session and closes
/// it). The session's ephemeral nodes go at once; the client learns of the expiry at
/// its next contact with the server (at once if connected, after the heal if cut off).
/// Returns the expired session's id.
pub(crate) async fn expire_session(connect_string: &str, client: &Client) -> i64 {
    let session = client.session();
    let id = session.session_id();
    zk_testing::expire_session(connect_string, id, &session.session_password())
        .await
        .unwrap_or_else(|e| panic!("expiring session {id:#x}: {e}"));
    id
}

/// Runs the tests of one binary one at a time (hold the guard for the whole test),
/// for tests whose timing a busy machine would blur: every test starts a JVM, and two
/// cores are few.
pub(crate) async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The requests the server received on the connection of session `id`, from `cons`.
pub(crate) async fn requests_received(server: &RunningServer, id: i64) -> u64 {
    let cons = zk_testing::four_letter_word(server.addr(), "cons")
        .await
        .expect("cons");
    let sid = format!("sid=0x{id:x},");
    let line = cons
        .lines()
        .find(|l| l.contains(&sid))
        .unwrap_or_else(|| panic!("no connection of session {id:#x} in:\n{cons}"));
    let recved = line
        .split([',', '('])
        .find_map(|f| f.strip_prefix("recved="))
        .unwrap_or_else(|| panic!("no recved= in {line}"));
    recved.parse().expect("a count")
}
