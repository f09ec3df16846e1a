//! SASL DIGEST-MD5 logins to real ZooKeeper 3.8 servers (cargo feature `sasl-digest-md5`):
//! the identity a login gives (`who_am_i`, ACLs on `sasl:<user>` under an AclProvider), a
//! wrong password refused once with a typed AuthFailed that ends the client (LOST, no
//! reconnect storm), a new login after a server restart (same session), on another server
//! of an ensemble and after an expiry (new session), a server without SASL ending the login
//! the same way, and no password in the logs at any level.
//!
//! The tests that leave the server alone share one server with a JAAS user table; the
//! restart and ensemble tests have servers of their own, which require SASL of every
//! session, so that the requests after the reconnection prove the new connection logged in.

mod common;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use zk_core::{
    Acl, Client, ClientInfo, Code, ConnectionState, CreateMode, Error, FixedAclProvider, Id, Perms,
    SaslConfig, Session, SessionConfig, SessionEvent, SessionState,
};
use zk_testing::{
    RunningServer, ServerConfig, ServerSasl, SharedServer, TestingCluster, TestingServer,
};

const ALICE_PASSWORD: &str = "alice-pw-6f1d0c";
const BOB_PASSWORD: &str = "bob-pw-93ab2e";
const WRONG_PASSWORD: &str = "not-alice-pw-77c4";

fn users(required: bool) -> ServerConfig {
    ServerConfig::builder()
        .sasl(
            ServerSasl::digest_md5()
                .user("alice", ALICE_PASSWORD)
                .user("bob", BOB_PASSWORD)
                .required(required),
        )
        .build()
        .expect("a valid config")
}

/// The server the tests that leave it alone share: alice and bob, SASL not required (so
/// that zk-testing's expiry, a plain session, still works on it).
static SASL_SERVER: SharedServer = SharedServer::with_config(|| users(false));

async fn sasl_server() -> &'static RunningServer {
    init_tracing();
    SASL_SERVER.get().await.expect("a SASL server starts")
}

fn alice() -> SaslConfig {
    SaslConfig::digest_md5("alice", ALICE_PASSWORD)
}

fn bob() -> SaslConfig {
    SaslConfig::digest_md5("bob", BOB_PASSWORD)
}

fn session_config(connect: &str, sasl: SaslConfig) -> SessionConfig {
    SessionConfig::new(connect.parse().expect("a connect string"), SESSION_TIMEOUT).with_sasl(sasl)
}

fn client(connect: &str, sasl: SaslConfig) -> Client {
    Client::builder()
        .connect_string(connect)
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .sasl(sasl)
        .build()
        .expect("a client")
}

fn sasl_id(user: &str) -> ClientInfo {
    ClientInfo {
        auth_scheme: "sasl".into(),
        user: user.into(),
    }
}

#[tokio::test]
async fn a_digest_md5_login_makes_the_session_the_sasl_user() {
    let server = sasl_server().await;
    let session = Session::start(session_config(&server.connect_string(), alice()));
    session.wait_connected(DEADLINE).await.expect("logged in");
    let me = bounded("whoAmI", session.who_am_i()).await.expect("whoAmI");
    assert!(me.contains(&sasl_id("alice")), "{me:?}");
    session.close().await;

    let framework = client(&server.connect_string(), bob());
    framework
        .block_until_connected(DEADLINE)
        .await
        .expect("logged in");
    let me = framework.who_am_i().await.expect("whoAmI");
    assert!(me.contains(&sasl_id("bob")), "{me:?}");
    assert!(!me.contains(&sasl_id("alice")), "{me:?}");
    framework.close().await;
}

#[tokio::test]
async fn an_acl_provider_on_the_sasl_identity_admits_that_user_and_no_other() {
    let server = sasl_server().await;
    let alice_only = vec![Acl::new(Perms::ALL, Id::new("sasl", "alice"))];
    let owner = Client::builder()
        .connect_string(server.connect_string())
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .sasl(alice())
        .acl_provider(FixedAclProvider::new(alice_only.clone()))
        .build()
        .expect("a client");
    let other = client(&server.connect_string(), bob());
    for c in [&owner, &other] {
        c.block_until_connected(DEADLINE).await.expect("logged in");
    }
    let base = unique("sasl-provider");
    let node = format!("{base}/inner/node");
    owner
        .create(&node, b"alice's")
        .create_parents()
        .await
        .expect("create with parents");
    for path in [base.as_str(), &format!("{base}/inner"), &node] {
        let (acl, _) = owner.get_acl(path).await.expect("getACL");
        assert_eq!(acl, alice_only, "{path}");
    }
    let (data, _) = owner.get_data(&node).await.expect("alice reads");
    assert_eq!(&data[..], b"alice's");
    let denied = other.get_data(&node).await.expect_err("bob may not read");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");
    let denied = other
        .set_data(&node, b"bob's")
        .await
        .expect_err("bob may not write");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");
    owner.close().await;
    other.close().await;
}

/// Everything the crate logs, at every level, while this thread's subscriber is set.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's logs at TRACE until the guard is dropped. The tests' runtimes
    /// run on their own thread only, so their tasks log here too.
    fn start(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

#[tokio::test]
async fn a_wrong_password_is_auth_failed_and_lost_once_without_reconnecting() {
    let server = sasl_server().await;
    let captured = Captured::default();
    let _guard = captured.start();

    let wrong = client(
        &server.connect_string(),
        SaslConfig::digest_md5("alice", WRONG_PASSWORD),
    );
    let mut states = wrong.connection_states();
    let refused = wrong.block_until_connected(DEADLINE).await;
    assert!(matches!(refused, Err(Error::AuthFailed)), "{refused:?}");
    assert_eq!(
        within(DEADLINE, "LOST", states.next()).await,
        Some(ConnectionState::Lost)
    );
    assert_eq!(wrong.session().state(), SessionState::AuthFailed);
    let op = wrong.exists("/").await;
    assert!(matches!(op, Err(Error::AuthFailed)), "{op:?}");
    // A quiet window: no other state, and the client never connects again.
    let more = tokio::time::timeout(Duration::from_secs(2), states.next()).await;
    assert!(
        matches!(more, Err(_) | Ok(None)),
        "nothing after LOST: {more:?}"
    );
    let attempts = captured.text().matches("connecting").count();
    assert_eq!(attempts, 1, "one connection attempt: {}", captured.text());
    wrong.close().await;

    // The session layer says the same, once.
    let (session, mut events) = Session::start_with_events(session_config(
        &server.connect_string(),
        SaslConfig::digest_md5("bob", WRONG_PASSWORD),
    ));
    let ended = wait_event(&mut events, DEADLINE, "the end of the session", |e| {
        !matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert!(matches!(ended.0, SessionEvent::AuthFailed), "{:?}", ended.0);
    assert!(ended.1.is_empty(), "never connected: {:?}", ended.1);
    assert_eq!(session.state(), SessionState::AuthFailed);
    let op = session.exists("/").await;
    assert!(matches!(op, Err(Error::AuthFailed)), "{op:?}");
}

#[tokio::test]
async fn a_user_the_server_does_not_know_is_refused_too() {
    let server = sasl_server().await;
    let session = Session::start(session_config(
        &server.connect_string(),
        SaslConfig::digest_md5("mallory", ALICE_PASSWORD),
    ));
    let refused = session.wait_connected(DEADLINE).await;
    assert!(matches!(refused, Err(Error::AuthFailed)), "{refused:?}");
    assert_eq!(session.state(), SessionState::AuthFailed);
}

#[tokio::test]
async fn a_restarted_server_sees_the_same_session_log_in_again() {
    init_tracing();
    let mut server = TestingServer::start_with(users(true))
        .await
        .expect("a server that requires SASL");
    let client = client(&server.connect_string(), alice());
    let mut states = client.connection_states();
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("logged in");
    assert_eq!(
        within(DEADLINE, "CONNECTED", states.next()).await,
        Some(ConnectionState::Connected)
    );
    let path = unique("sasl-restart");
    let ephemeral = client
        .create(&path, b"before")
        .mode(CreateMode::Ephemeral)
        .await
        .expect("an ephemeral node");
    let id = client.session_id();

    server.restart().await.expect("the server restarts");
    assert_eq!(
        within(DEADLINE, "SUSPENDED", states.next()).await,
        Some(ConnectionState::Suspended)
    );
    assert_eq!(
        within(DEADLINE * 2, "RECONNECTED", states.next()).await,
        Some(ConnectionState::Reconnected)
    );
    assert_eq!(client.session_id(), id, "the same session");
    // The server requires SASL of every connection: these answers prove the new one logged in.
    let me = client.who_am_i().await.expect("whoAmI");
    assert!(me.contains(&sasl_id("alice")), "{me:?}");
    let (data, _) = client
        .get_data(&ephemeral)
        .await
        .expect("the ephemeral lives");
    assert_eq!(&data[..], b"before");
    client.close().await;
}

#[tokio::test]
async fn an_expired_session_is_replaced_by_one_that_logs_in_again() {
    let server = sasl_server().await;
    let client = client(&server.connect_string(), alice());
    let mut states = client.connection_states();
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("logged in");
    assert_eq!(
        within(DEADLINE, "CONNECTED", states.next()).await,
        Some(ConnectionState::Connected)
    );
    let old = client.session();
    let old_id = old.session_id();
    zk_testing::expire_session(&server.connect_string(), old_id, &old.session_password())
        .await
        .expect("expire the session");
    let mut seen = Vec::new();
    within(DEADLINE * 2, "LOST then RECONNECTED", async {
        while let Some(state) = states.next().await {
            seen.push(state);
            if state == ConnectionState::Reconnected && seen.contains(&ConnectionState::Lost) {
                return;
            }
        }
    })
    .await;
    assert!(seen.contains(&ConnectionState::Lost), "{seen:?}");
    assert_ne!(client.session_id(), old_id, "a new session");
    let me = client.who_am_i().await.expect("whoAmI");
    assert!(me.contains(&sasl_id("alice")), "{me:?}");
    // And it has alice's rights: a node only alice may read.
    let path = unique("sasl-expiry");
    client
        .create(&path, b"alice's")
        .acl(vec![Acl::new(Perms::ALL, Id::new("sasl", "alice"))])
        .await
        .expect("create");
    let (data, _) = client.get_data(&path).await.expect("read back");
    assert_eq!(&data[..], b"alice's");
    client.close().await;
}

#[tokio::test]
async fn no_password_reaches_the_logs_at_any_level() {
    let server = sasl_server().await;
    let captured = Captured::default();
    let _guard = captured.start();

    let config = alice();
    tracing::debug!(?config, "a SASL config, as a program might log it");
    let good = client(&server.connect_string(), config);
    tracing::debug!(config = ?good.config(), "the client's config");
    tracing::debug!(session = ?good.session(), "the session");
    good.block_until_connected(DEADLINE)
        .await
        .expect("logged in");
    good.close().await;
    let wrong = Session::start(session_config(
        &server.connect_string(),
        SaslConfig::digest_md5("alice", WRONG_PASSWORD),
    ));
    tracing::debug!(config = ?session_config(&server.connect_string(), SaslConfig::digest_md5("alice", WRONG_PASSWORD)), "a session config");
    let _ = wrong.wait_connected(DEADLINE).await;

    let logs = captured.text();
    assert!(
        logs.contains("SASL login done"),
        "the capture saw the login: {logs}"
    );
    assert!(
        logs.contains("SASL login failed"),
        "and the failure: {logs}"
    );
    assert!(
        logs.contains("<redacted>"),
        "the configs were logged: {logs}"
    );
    for secret in [ALICE_PASSWORD, WRONG_PASSWORD] {
        assert!(!logs.contains(secret), "a password is in the logs");
    }
}

/// An ensemble that requires SASL: the server in use dies, the session moves on to another
/// server, logs in there, and keeps its ephemeral node.
#[tokio::test]
async fn a_session_moved_to_another_server_of_the_ensemble_logs_in_there() {
    init_tracing();
    let mut cluster = TestingCluster::start_with(3, users(true))
        .await
        .expect("a SASL ensemble starts");
    let config = SessionConfig::new(
        cluster.connect_string().parse().expect("a connect string"),
        Duration::from_secs(8),
    )
    .with_sasl(alice());
    let (session, mut events) = Session::start_with_events(config);
    session.wait_connected(DEADLINE).await.expect("logged in");
    let path = unique("sasl-move");
    bounded(
        "create",
        session.create(&path, b"mine", &[Acl::open_unsafe()], CreateMode::Ephemeral),
    )
    .await
    .expect("an ephemeral node");
    let id = session.session_id();
    let victim = server_of(&cluster, id, None).await;
    cluster.kill(victim).expect("kill");

    wait_event(&mut events, DEADLINE, "Disconnected", |e| {
        matches!(e, SessionEvent::Disconnected(_))
    })
    .await;
    wait_event(&mut events, DEADLINE, "SyncConnected", |e| {
        matches!(e, SessionEvent::SyncConnected)
    })
    .await;
    assert_eq!(session.session_id(), id, "the same session");
    let now_on = server_of(&cluster, id, Some(victim)).await;
    assert_ne!(now_on, victim);
    // Served by a server that requires SASL: the login on the new server worked.
    let (data, stat) = bounded("get", session.get_data(&path))
        .await
        .expect("the ephemeral survived");
    assert_eq!(&data[..], b"mine");
    assert_eq!(stat.ephemeral_owner, id);
    let me = bounded("whoAmI", session.who_am_i()).await.expect("whoAmI");
    assert!(me.contains(&sasl_id("alice")), "{me:?}");
    session.close().await;
}

/// The server whose connections include session `id` (not `except`), once one does.
async fn server_of(cluster: &TestingCluster, id: i64, except: Option<usize>) -> usize {
    bounded("finding the session's server", async {
        loop {
            for i in (0..cluster.len()).filter(|&i| Some(i) != except) {
                let addr = cluster.client_addr(i).expect("in range");
                if let Ok(cons) = zk_testing::four_letter_word(addr, "cons").await
                    && mentions_session(&cons, id)
                {
                    return i;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_server_without_sasl_ends_the_login_with_auth_failed_not_a_loop() {
    // zk-testing's default server: no JAAS file, no SASL.
    let plain = server().await;
    let captured = Captured::default();
    let _guard = captured.start();
    let session = Session::start(session_config(&plain.connect_string(), alice()));
    let refused = session.wait_connected(DEADLINE).await;
    assert!(matches!(refused, Err(Error::AuthFailed)), "{refused:?}");
    assert_eq!(session.state(), SessionState::AuthFailed);
    let logs = captured.text();
    assert!(logs.contains("SASL login failed"), "{logs}");
    assert_eq!(logs.matches("connecting").count(), 1, "{logs}");
}
