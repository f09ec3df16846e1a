//! SASL GSSAPI (Kerberos) logins to a real ZooKeeper 3.8 server (cargo feature
//! `sasl-gssapi`), against a real MIT KDC from zk-testing (`TestingKdc`) with a throwaway
//! realm: a client with a ticket logs in and is `sasl:alice@<realm>`; after a server restart
//! the same session logs in again on the new connection (the server requires SASL, so its
//! answers prove it), and a new session logs in again; without a ticket the login is refused with a typed AuthFailed and the
//! client is LOST once, with one connection attempt.
//!
//! This binary has its own `main` (`harness = false`): the Kerberos library reads
//! `KRB5_CONFIG` and `KRB5CCNAME` from the environment, and the environment is only safe to
//! change before any thread starts. The cases run one after the other on one server.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use zk_core::{Client, ConnectionState, CreateMode, Error, SaslConfig, SessionState};
use zk_testing::{ServerConfig, ServerSasl, TestingKdc, TestingServer};

const DEADLINE: Duration = Duration::from_secs(20);
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let env_dir = tempfile::tempdir().expect("a directory for the Kerberos environment");
    let krb5_conf = env_dir.path().join("krb5.conf");
    let cache = env_dir.path().join("ccache");
    // SAFETY: no other thread exists yet (the runtime is built below), so nothing reads
    // the environment while it changes.
    unsafe {
        std::env::set_var("KRB5_CONFIG", &krb5_conf);
        std::env::set_var("KRB5CCNAME", format!("FILE:{}", cache.display()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let started = std::time::Instant::now();
    let passed = runtime.block_on(cases(&krb5_conf, &cache));
    println!(
        "sasl_gssapi: {passed} passed, 0 failed in {:.1?}",
        started.elapsed()
    );
    println!("{passed} passed, 0 failed");
}

async fn kinit(keytab: &Path, principal: &str) {
    let out = tokio::process::Command::new("kinit")
        .args(["-k", "-t"])
        .arg(keytab)
        .arg(principal)
        .output()
        .await
        .expect("kinit runs (scripts/setup installs krb5-user)");
    assert!(out.status.success(), "kinit: {out:?}");
}

fn client(connect: &str) -> Client {
    Client::builder()
        .connect_string(connect)
        .session_timeout(SESSION_TIMEOUT)
        .connection_timeout(DEADLINE)
        .sasl(SaslConfig::gssapi())
        .build()
        .expect("a client")
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Runs every case; returns how many passed (a failure panics).
async fn cases(krb5_conf: &Path, cache: &Path) -> usize {
    let kdc = TestingKdc::start().await.expect("a KDC starts");
    std::fs::copy(kdc.krb5_conf(), krb5_conf).expect("the realm's krb5.conf");
    let service = kdc
        .add_principal("zookeeper/localhost")
        .await
        .expect("the server's principal");
    let alice = kdc.add_principal("alice").await.expect("a user");
    let config = ServerConfig::builder()
        .sasl(ServerSasl::kerberos(&kdc, &service).required(true))
        .build()
        .expect("a valid config");
    let mut server = TestingServer::start_with(config)
        .await
        .expect("a Kerberos server starts");
    // The service principal is zookeeper/<host as written>: localhost, not 127.0.0.1.
    let connect = format!("localhost:{}", server.port());
    let alice_id = format!("alice@{}", kdc.realm());

    // 1. With a ticket: logged in as alice, and again after a restart.
    kinit(alice.path(), alice.principal()).await;
    let c = client(&connect);
    let mut states = c.connection_states();
    c.block_until_connected(DEADLINE)
        .await
        .expect("logged in with Kerberos");
    let me = c.who_am_i().await.expect("whoAmI");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "sasl" && id.user == alice_id),
        "{me:?}"
    );
    let node = c
        .create("/gssapi", b"alice's")
        .mode(CreateMode::Ephemeral)
        .await
        .expect("create");
    let id = c.session_id();
    server.restart().await.expect("the server restarts");
    let mut seen = Vec::new();
    within("SUSPENDED then RECONNECTED", async {
        while let Some(state) = states.next().await {
            seen.push(state);
            if state == ConnectionState::Reconnected {
                return;
            }
        }
    })
    .await;
    assert_eq!(c.session_id(), id, "the same session: {seen:?}");
    let (data, _) = c.get_data(&node).await.expect("served after the new login");
    assert_eq!(&data[..], b"alice's");

    // 2. A new session (the old one closed under the client, as after an expiry; the
    // server requires SASL, so zk-testing's unauthenticated expiry cannot end it): the
    // framework starts another session, which logs in again before it is served.
    c.session().close().await;
    within("LOST then RECONNECTED on a new session", async {
        while let Some(state) = states.next().await {
            if state == ConnectionState::Reconnected {
                return;
            }
        }
    })
    .await;
    assert_ne!(c.session_id(), id, "a new session");
    let me = c.who_am_i().await.expect("whoAmI on the new session");
    assert!(
        me.iter()
            .any(|id| id.auth_scheme == "sasl" && id.user == alice_id),
        "{me:?}"
    );
    c.create("/gssapi", b"again")
        .mode(CreateMode::Ephemeral)
        .await
        .expect("the new session writes: its old ephemeral went with the old session");
    c.close().await;

    // 3. Without a ticket: refused once, LOST, no reconnect.
    std::fs::remove_file(cache).expect("the ticket cache goes");
    let c = client(&connect);
    let mut states = c.connection_states();
    let refused = c.block_until_connected(DEADLINE).await;
    assert!(matches!(refused, Err(Error::AuthFailed)), "{refused:?}");
    assert_eq!(
        within("LOST", states.next()).await,
        Some(ConnectionState::Lost)
    );
    assert_eq!(c.session().state(), SessionState::AuthFailed);
    let more = tokio::time::timeout(Duration::from_secs(2), states.next()).await;
    assert!(
        matches!(more, Err(_) | Ok(None)),
        "nothing after LOST: {more:?}"
    );
    c.close().await;
    3
}
