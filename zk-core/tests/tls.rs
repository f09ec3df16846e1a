//! TLS to real ZooKeeper 3.8 servers (cargo feature `tls`): sessions and the framework
//! `Client` over `secureClientPort`, certificates that must not verify (another CA,
//! another host name) refused with typed errors that end the session instead of
//! looping, hostname verification turned off by name, x509 identities and ACLs with
//! `ssl.clientAuth=need`, a reconnect to another server of a TLS ensemble, and a
//! session's expiry and rebuild over TLS.
//!
//! The tests that leave the server alone share one TLS server that requires client
//! certificates; each client gets a certificate of its own from the server's CA.

mod common;

use std::future::IntoFuture;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use zk_core::{
    Acl, Client, ClientInfo, Code, ConnectionState, CreateMode, Error, FixedAclProvider, Id, Perms,
    Session, SessionConfig, SessionEvent, SessionState, TlsConfig, TlsError, TlsErrorKind,
};
use zk_testing::{
    ClientAuth, RunningServer, ServerConfig, ServerTls, SharedServer, TestingCa, TestingCluster,
};

/// The server the tests that leave it alone share: TLS, client certificates required.
static TLS_SERVER: SharedServer = SharedServer::with_config(tls_server_config);

fn tls_server_config() -> ServerConfig {
    let tls = ServerTls::new()
        .expect("a test CA")
        .client_auth(ClientAuth::Need);
    ServerConfig::builder()
        .tls(tls)
        .build()
        .expect("a valid config")
}

async fn tls_server() -> &'static RunningServer {
    init_tracing();
    TLS_SERVER.get().await.expect("a TLS server starts")
}

/// The server's CA.
fn ca_of(server: &RunningServer) -> &TestingCa {
    server.tls().expect("the server serves TLS").ca()
}

/// TLS that trusts `trusted` and shows a certificate of `issuer` for `subject`.
fn tls_config(trusted: &TestingCa, issuer: &TestingCa, subject: &str) -> TlsConfig {
    let cert = issuer.client_cert(subject).expect("a client certificate");
    TlsConfig::builder()
        .ca_pem(trusted.cert_pem())
        .client_cert_pem(cert.cert_pem(), cert.key_pem())
        .build()
        .expect("a TLS config")
}

/// TLS as a client of `server` with a certificate for `subject`.
fn client_tls(server: &RunningServer, subject: &str) -> TlsConfig {
    tls_config(ca_of(server), ca_of(server), subject)
}

fn secure(server: &RunningServer) -> String {
    server.secure_connect_string().expect("a TLS port")
}

/// A session over TLS to `connect`, not yet connected.
fn start_session(connect: &str, tls: TlsConfig) -> Session {
    let config = SessionConfig::new(connect.parse().expect("a connect string"), SESSION_TIMEOUT)
        .with_tls(tls);
    Session::start(config)
}

/// A session over TLS to `connect`, connected.
async fn tls_session(connect: &str, tls: TlsConfig) -> Session {
    let session = start_session(connect, tls);
    session
        .wait_connected(DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("connecting over TLS to {connect}: {e}"));
    session
}

/// The TLS failure of a session that must not connect: the session ends (terminal
/// `TlsFailed`) within `limit`, and operations then fail with the same error.
async fn refused(session: &Session, limit: Duration) -> TlsError {
    let err = within(
        limit,
        "the session to give up",
        session.wait_connected(DEADLINE),
    )
    .await
    .expect_err("the handshake must fail");
    let Error::Tls(failure) = err else {
        panic!("expected Error::Tls, got {err:?}");
    };
    assert_eq!(session.state(), SessionState::TlsFailed);
    let op = session
        .exists("/")
        .await
        .expect_err("the session has ended");
    assert!(matches!(&op, Error::Tls(f) if *f == failure), "{op:?}");
    assert!(!op.is_retryable(), "a certificate failure is not retried");
    failure
}

#[tokio::test]
async fn a_session_over_tls_creates_and_reads_a_node() {
    let server = tls_server().await;
    let session = tls_session(&secure(server), client_tls(server, "CN=reader")).await;
    let path = unique("tls-session");
    let (created, _) = bounded(
        "create",
        session.create(
            &path,
            b"over tls",
            &[Acl::open_unsafe()],
            CreateMode::Persistent,
        ),
    )
    .await
    .expect("create over TLS");
    assert_eq!(created, path);
    let (data, stat) = bounded("get", session.get_data(&path))
        .await
        .expect("get over TLS");
    assert_eq!(&data[..], b"over tls");
    assert_eq!(stat.version, 0);
    // Many requests in one go: the pipelined writes are flushed through TLS.
    let reads: Vec<_> = (0..200).map(|_| session.exists(&path)).collect();
    for read in futures::future::join_all(reads).await {
        assert!(read.expect("exists").is_some());
    }
    // closeSession goes out (flushed) and is answered: the ephemeral node goes at once,
    // not at the session timeout.
    let ephemeral = format!("{path}/mine");
    bounded(
        "create",
        session.create(
            &ephemeral,
            b"",
            &[Acl::open_unsafe()],
            CreateMode::Ephemeral,
        ),
    )
    .await
    .expect("an ephemeral node");
    let closed = tokio::time::Instant::now();
    session.close().await;
    assert!(
        closed.elapsed() < Duration::from_secs(1),
        "close() was answered, not timed out: {:?}",
        closed.elapsed()
    );
    let observer = tls_session(&secure(server), client_tls(server, "CN=observer")).await;
    assert!(
        bounded("exists", observer.exists(&ephemeral))
            .await
            .expect("exists")
            .is_none(),
        "the closed session's ephemeral node is gone"
    );
    observer.close().await;
}

#[tokio::test]
async fn an_idle_tls_session_keeps_itself_alive_with_pings() {
    let server = tls_server().await;
    let config = SessionConfig::new(
        secure(server).parse().expect("a connect string"),
        Duration::from_millis(1500),
    )
    .with_tls(client_tls(server, "CN=idle"));
    let (session, mut events) = Session::start_with_events(config);
    session.wait_connected(DEADLINE).await.expect("connected");
    let id = session.session_id();
    let first = next_event(&mut events).await;
    assert!(matches!(first, SessionEvent::SyncConnected), "{first:?}");
    // Three session timeouts of silence: only pings (each flushed through TLS) keep the
    // connection and the session.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(
        bounded("exists", session.exists("/"))
            .await
            .expect("served")
            .is_some()
    );
    assert_eq!(session.session_id(), id);
    assert_eq!(session.state(), SessionState::Connected);
    let quiet = tokio::time::timeout(Duration::from_millis(100), events.next()).await;
    assert!(quiet.is_err(), "no disconnect happened: {quiet:?}");
    session.close().await;
}

#[tokio::test]
async fn the_framework_client_over_tls_creates_and_reads_a_node() {
    let server = tls_server().await;
    let client = Client::builder()
        .connect_string(secure(server))
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .tls(client_tls(server, "CN=framework"))
        .build()
        .expect("a client");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("connected over TLS");
    assert_eq!(client.state(), Some(ConnectionState::Connected));
    let path = unique("tls-client");
    client
        .create(&format!("{path}/child"), b"v1")
        .create_parents()
        .await
        .expect("create over TLS");
    let (data, _) = client
        .get_data(&format!("{path}/child"))
        .await
        .expect("get");
    assert_eq!(&data[..], b"v1");
    assert_eq!(
        client.get_children(&path).await.expect("children"),
        ["child"]
    );
    assert!(
        client
            .config()
            .tls()
            .is_some_and(TlsConfig::verifies_hostname)
    );
    client.close().await;
}

#[tokio::test]
async fn a_server_certificate_from_an_untrusted_ca_ends_the_session_with_a_typed_error() {
    let server = tls_server().await;
    let other = TestingCa::new("a CA nobody here trusts").expect("a CA");
    // The client trusts another CA (and shows a certificate the server would accept).
    let session = start_session(
        &secure(server),
        tls_config(&other, ca_of(server), "CN=lost"),
    );
    let failure = refused(&session, DEADLINE).await;
    assert_eq!(
        failure.kind,
        TlsErrorKind::UntrustedCertificate,
        "{failure}"
    );
    assert_eq!(failure.host, secure(server));
    assert!(failure.reason.contains("UnknownIssuer"), "{failure}");

    // The framework gives up too: LOST, and the error, well before the connection timeout.
    let client = Client::builder()
        .connect_string(secure(server))
        .connection_timeout(Duration::from_secs(60))
        .tls(tls_config(&other, ca_of(server), "CN=lost"))
        .build()
        .expect("a client");
    let mut states = client.connection_states();
    let err = within(
        DEADLINE,
        "the client to give up",
        client.block_until_connected(Duration::from_secs(60)),
    )
    .await
    .expect_err("no connection");
    assert!(
        matches!(&err, Error::Tls(f) if f.kind == TlsErrorKind::UntrustedCertificate),
        "{err:?}"
    );
    assert_eq!(
        within(DEADLINE, "LOST", states.next()).await,
        Some(ConnectionState::Lost)
    );
    let op = within(DEADLINE, "an operation", client.exists("/").into_future())
        .await
        .expect_err("the client has given up");
    assert!(matches!(op, Error::Tls(_)), "{op:?}");
    client.close().await;
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused_by_the_server() {
    let server = tls_server().await;
    let other = TestingCa::new("the wrong issuer").expect("a CA");
    let session = start_session(
        &secure(server),
        tls_config(ca_of(server), &other, "CN=mallory"),
    );
    let failure = refused(&session, DEADLINE).await;
    assert_eq!(failure.kind, TlsErrorKind::RefusedByServer, "{failure}");

    // No certificate at all, where the server needs one: refused the same way.
    let bare = TlsConfig::builder()
        .ca_pem(ca_of(server).cert_pem())
        .build()
        .expect("a TLS config");
    let failure = refused(&start_session(&secure(server), bare), DEADLINE).await;
    assert_eq!(failure.kind, TlsErrorKind::RefusedByServer, "{failure}");
}

#[tokio::test]
async fn a_server_certificate_for_another_host_name_is_refused_unless_verification_is_off_by_name()
{
    let server = tls_server().await;
    // The server's certificate names 127.0.0.1 only; `localhost` is another name.
    let by_name = format!("localhost:{}", server.secure_addr().expect("TLS").port());
    let session = start_session(&by_name, client_tls(server, "CN=by-name"));
    let failure = refused(&session, DEADLINE).await;
    assert_eq!(failure.kind, TlsErrorKind::HostnameMismatch, "{failure}");
    assert_eq!(failure.host, by_name);
    assert!(failure.reason.contains("localhost"), "{failure}");

    // Turned off explicitly, the same certificate is accepted: its CA is still checked.
    let cert = ca_of(server)
        .client_cert("CN=by-name")
        .expect("a certificate");
    let lax = TlsConfig::builder()
        .ca_pem(ca_of(server).cert_pem())
        .client_cert_pem(cert.cert_pem(), cert.key_pem())
        .danger_disable_hostname_verification()
        .build()
        .expect("a TLS config");
    let session = tls_session(&by_name, lax).await;
    assert!(
        bounded("exists", session.exists("/"))
            .await
            .expect("served")
            .is_some()
    );
    session.close().await;

    // ... and a certificate of an untrusted CA is refused all the same.
    let other = TestingCa::new("still untrusted").expect("a CA");
    let lax_elsewhere = TlsConfig::builder()
        .ca_pem(other.cert_pem())
        .danger_disable_hostname_verification()
        .build()
        .expect("a TLS config");
    let failure = refused(&start_session(&by_name, lax_elsewhere), DEADLINE).await;
    assert_eq!(
        failure.kind,
        TlsErrorKind::UntrustedCertificate,
        "{failure}"
    );
}

#[tokio::test]
async fn the_x509_identity_is_the_certificate_subject_and_an_acl_on_it_admits_only_that_client() {
    let server = tls_server().await;
    let alice = tls_session(&secure(server), client_tls(server, "CN=alice,O=zkit")).await;
    let bob = tls_session(&secure(server), client_tls(server, "CN=bob,O=zkit")).await;

    let me = bounded("whoAmI", alice.who_am_i()).await.expect("whoAmI");
    assert!(
        me.contains(&ClientInfo {
            auth_scheme: "x509".into(),
            user: "CN=alice,O=zkit".into(),
        }),
        "{me:?}"
    );

    let path = unique("x509-acl");
    let only_alice = [Acl::new(Perms::ALL, Id::new("x509", "CN=alice,O=zkit"))];
    bounded(
        "create",
        alice.create(&path, b"alice's", &only_alice, CreateMode::Persistent),
    )
    .await
    .expect("alice creates her node");
    let (data, _) = bounded("alice reads", alice.get_data(&path))
        .await
        .expect("alice may read");
    assert_eq!(&data[..], b"alice's");
    let (acl, _) = bounded("getACL", alice.get_acl(&path))
        .await
        .expect("getACL");
    assert_eq!(acl, only_alice);

    let denied = bounded("bob reads", bob.get_data(&path))
        .await
        .expect_err("bob may not read");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");
    let denied = bounded("bob writes", bob.set_data(&path, b"bob's", None))
        .await
        .expect_err("bob may not write");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");
    alice.close().await;
    bob.close().await;
}

#[tokio::test]
async fn a_session_expired_over_tls_is_rebuilt_by_the_framework_client() {
    let server = tls_server().await;
    let client = Client::builder()
        .connect_string(secure(server))
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .tls(client_tls(server, "CN=rebuilt"))
        .build()
        .expect("a client");
    let mut states = client.connection_states();
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("connected");
    assert_eq!(
        within(DEADLINE, "CONNECTED", states.next()).await,
        Some(ConnectionState::Connected)
    );
    let path = unique("tls-expiry");
    let ephemeral = client
        .create(&path, b"first session")
        .mode(CreateMode::Ephemeral)
        .await
        .expect("an ephemeral node");
    let old = client.session();
    let old_id = old.session_id();

    // Expired from outside (through the plain port: the session is the ensemble's).
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
    assert!(
        client.exists(&ephemeral).await.expect("exists").is_none(),
        "the old session's ephemeral went with it"
    );
    // The new session is over TLS too, with the same identity.
    let me = client.who_am_i().await.expect("whoAmI");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "x509" && id.user == "CN=rebuilt"),
        "{me:?}"
    );
    client
        .create(&path, b"second session")
        .mode(CreateMode::Ephemeral)
        .await
        .expect("the new session works");
    client.close().await;
}

/// A TLS ensemble: the server in use dies, the session moves on to another server over TLS
/// (verified there as well), and keeps its ephemeral node.
#[tokio::test]
async fn a_tls_session_moves_to_another_server_of_the_ensemble_when_its_server_is_killed() {
    init_tracing();
    let tls = ServerTls::new()
        .expect("a test CA")
        .client_auth(ClientAuth::Need);
    let config = ServerConfig::builder()
        .tls(tls)
        .build()
        .expect("a valid config");
    let mut cluster = TestingCluster::start_with(3, config)
        .await
        .expect("a TLS ensemble starts");
    let ca = cluster.tls().expect("TLS").ca().clone();
    let connect = cluster.secure_connect_string().expect("TLS ports");
    let (session, mut events) = {
        let config = SessionConfig::new(
            connect.parse().expect("a connect string"),
            Duration::from_secs(8),
        )
        .with_tls(tls_config(&ca, &ca, "CN=mover"));
        let (session, events) = Session::start_with_events(config);
        session.wait_connected(DEADLINE).await.expect("connected");
        (session, events)
    };
    let path = unique("tls-move");
    bounded(
        "create",
        session.create(&path, b"mine", &[Acl::open_unsafe()], CreateMode::Ephemeral),
    )
    .await
    .expect("an ephemeral node");

    // Which server is it on? Each server's TLS port lists its TLS connections.
    let id = session.session_id();
    let victim = server_of(&cluster, &ca, id, None).await;
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
    let (data, stat) = bounded("get", session.get_data(&path))
        .await
        .expect("the ephemeral survived");
    assert_eq!(&data[..], b"mine");
    assert_eq!(stat.ephemeral_owner, id);
    let now_on = server_of(&cluster, &ca, id, Some(victim)).await;
    assert_ne!(now_on, victim);
    session.close().await;
}

/// The server whose TLS connections include session `id` (not `except`), once one does.
async fn server_of(
    cluster: &TestingCluster,
    ca: &TestingCa,
    id: i64,
    except: Option<usize>,
) -> usize {
    bounded("finding the session's server", async {
        loop {
            for i in (0..cluster.len()).filter(|&i| Some(i) != except) {
                let addr = cluster.secure_addr(i).expect("in range").expect("TLS");
                // Boxed: a TLS client's state is large.
                if let Some(cons) = Box::pin(tls_cons(addr, ca)).await
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

/// `cons` asked over a server's TLS port (the plain port lists plain connections only).
async fn tls_cons(addr: std::net::SocketAddr, ca: &TestingCa) -> Option<String> {
    use std::sync::Arc;

    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

    let me = ca.client_cert("CN=observer").ok()?;
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.cert_pem().as_bytes()).ok()?)
        .ok()?;
    let chain = vec![CertificateDer::from_pem_slice(me.cert_pem().as_bytes()).ok()?];
    let key = PrivateKeyDer::from_pem_slice(me.key_pem().as_bytes()).ok()?;
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .ok()?;
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
        let name = ServerName::try_from("127.0.0.1").ok()?;
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .ok()?;
        tls.write_all(b"cons").await.ok()?;
        tls.flush().await.ok()?;
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match tls.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
        Some(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn an_acl_provider_on_the_x509_identity_admits_only_that_certificate() {
    let server = tls_server().await;
    let owner_only = vec![Acl::new(Perms::ALL, Id::new("x509", "CN=owner,O=zkit"))];
    let framework = |subject: &str, provider: FixedAclProvider| {
        Client::builder()
            .connect_string(secure(server))
            .session_timeout(SESSION_TIMEOUT)
            .connection_timeout(DEADLINE)
            .tls(client_tls(server, subject))
            .acl_provider(provider)
            .build()
            .expect("a client")
    };
    let owner = framework("CN=owner,O=zkit", FixedAclProvider::new(owner_only.clone()));
    let other = framework(
        "CN=other,O=zkit",
        FixedAclProvider::new(vec![Acl::open_unsafe()]),
    );
    for client in [&owner, &other] {
        client
            .block_until_connected(DEADLINE)
            .await
            .expect("connected");
    }
    let base = unique("x509-provider");
    let node = format!("{base}/inner/node");
    owner
        .create(&node, b"owned")
        .create_parents()
        .await
        .expect("create with parents");
    for path in [base.as_str(), &format!("{base}/inner"), &node] {
        let (acl, _) = owner.get_acl(path).await.expect("getACL");
        assert_eq!(acl, owner_only, "{path}");
    }
    let (data, _) = owner.get_data(&node).await.expect("the owner reads");
    assert_eq!(&data[..], b"owned");
    let denied = other
        .get_data(&node)
        .await
        .expect_err("another certificate may not");
    assert_eq!(server_code(&denied), Some(Code::NoAuth), "{denied:?}");
    owner.close().await;
    other.close().await;
}

/// Everything the crate logs, at every level, while this thread's subscriber is set.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_private_key_reaches_the_logs_at_any_level() {
    let server = tls_server().await;
    let cert = ca_of(server)
        .client_cert("CN=quiet")
        .expect("a certificate");
    let key_lines: Vec<String> = cert
        .key_pem()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::to_owned)
        .collect();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // This test's runtime runs on this thread only, so its tasks log here too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let tls = TlsConfig::builder()
        .ca_pem(ca_of(server).cert_pem())
        .client_cert_pem(cert.cert_pem(), cert.key_pem())
        .build()
        .expect("a TLS config");
    tracing::debug!(config = ?tls, "a TLS config, as a program might log it");
    let client = Client::builder()
        .connect_string(secure(server))
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .tls(tls.clone())
        .build()
        .expect("a client");
    tracing::debug!(config = ?client.config(), "the client's config");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("connected");
    let path = unique("quiet");
    client.create(&path, b"").await.expect("create");
    client.close().await;
    // And a failure: the same key, another CA's server.
    let other = TestingCa::new("unknown").expect("a CA");
    let failing = TlsConfig::builder()
        .ca_pem(other.cert_pem())
        .client_cert_pem(cert.cert_pem(), cert.key_pem())
        .build()
        .expect("a TLS config");
    let _ = refused(&start_session(&secure(server), failing), DEADLINE).await;

    let logs = String::from_utf8_lossy(
        &captured
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    assert!(
        logs.contains("handshake done"),
        "the capture saw the session: {logs}"
    );
    assert!(
        logs.contains("TLS handshake failed"),
        "and the failure: {logs}"
    );
    assert!(!logs.contains("PRIVATE KEY"), "{logs}");
    for line in &key_lines {
        assert!(
            !logs.contains(line.as_str()),
            "a line of the key is in the logs"
        );
    }
}

#[tokio::test]
async fn a_host_whose_certificate_fails_is_skipped_and_only_a_full_cycle_of_failures_ends_the_session()
 {
    let good = tls_server().await;
    // A second server whose certificate comes from a CA the clients do not trust.
    let stranger = ServerTls::new()
        .expect("a test CA")
        .client_auth(ClientAuth::None);
    let bad = zk_testing::TestingServer::start_with(
        ServerConfig::builder()
            .tls(stranger)
            .build()
            .expect("a valid config"),
    )
    .await
    .expect("a second TLS server starts");
    let bad_addr = bad.secure_addr().expect("TLS");

    // Each host is verified on its own: with a good one in the list, sessions connect
    // (the rotation's order is random; whichever comes first, they end up on the good one).
    let mixed = format!("{bad_addr},{}", secure(good));
    for n in 0..4 {
        let session = tls_session(&mixed, client_tls(good, &format!("CN=mixed-{n}"))).await;
        assert!(
            bounded("exists", session.exists("/"))
                .await
                .expect("served")
                .is_some()
        );
        session.close().await;
    }

    // The same server under two names, one its certificate does not carry: each host is
    // verified under its own name, so sessions end up on `127.0.0.1` whatever the order.
    let port = good.secure_addr().expect("TLS").port();
    let two_names = format!("localhost:{port},127.0.0.1:{port}");
    for n in 0..4 {
        let session = tls_session(&two_names, client_tls(good, &format!("CN=named-{n}"))).await;
        assert!(
            bounded("exists", session.exists("/"))
                .await
                .expect("served")
                .is_some()
        );
        session.close().await;
    }

    // Two hosts that both fail: the session ends after trying each once, not before.
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let both_bad = format!("{bad_addr},localhost:{}", bad_addr.port());
    let failure = refused(
        &start_session(&both_bad, client_tls(good, "CN=nowhere")),
        DEADLINE,
    )
    .await;
    assert_eq!(
        failure.kind,
        TlsErrorKind::UntrustedCertificate,
        "{failure}"
    );
    let logs = String::from_utf8_lossy(
        &captured
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    assert_eq!(
        logs.matches("TLS handshake failed").count(),
        2,
        "one failure per host before the session ends: {logs}"
    );
    assert!(logs.contains(&bad_addr.to_string()), "{logs}");
    assert!(
        logs.contains(&format!("localhost:{}", bad_addr.port())),
        "{logs}"
    );
}

#[tokio::test]
async fn over_tls_1_3_a_refused_client_certificate_shows_after_the_handshake_and_is_typed_too() {
    init_tracing();
    // ZooKeeper 3.8 speaks TLS 1.2 unless told otherwise; its default cipher list has
    // no TLS 1.3 suites, so they are named too.
    let tls = ServerTls::new()
        .expect("a test CA")
        .client_auth(ClientAuth::Need);
    let config = ServerConfig::builder()
        .tls(tls)
        .cfg_entry("ssl.protocol", "TLSv1.3")
        .cfg_entry("ssl.enabledProtocols", "TLSv1.3")
        .cfg_entry(
            "ssl.ciphersuites",
            "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256",
        )
        .build()
        .expect("a valid config");
    let server = zk_testing::TestingServer::start_with(config)
        .await
        .expect("a TLS 1.3 server starts");
    let ca = server.tls().expect("TLS").ca().clone();
    let connect = server.secure_connect_string().expect("a TLS port");

    let session = tls_session(&connect, tls_config(&ca, &ca, "CN=modern")).await;
    let me = bounded("whoAmI", session.who_am_i()).await.expect("whoAmI");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "x509" && id.user == "CN=modern"),
        "{me:?}"
    );
    session.close().await;

    // With TLS 1.3 the client's handshake is over before the server has checked the
    // client's certificate: its refusal arrives on the first read, and is a TLS failure.
    let other = TestingCa::new("not the server's").expect("a CA");
    let failure = refused(
        &start_session(&connect, tls_config(&ca, &other, "CN=stranger")),
        DEADLINE,
    )
    .await;
    assert_eq!(failure.kind, TlsErrorKind::RefusedByServer, "{failure}");
}
