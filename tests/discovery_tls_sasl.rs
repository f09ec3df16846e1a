//! Service discovery end to end over TLS and SASL at once (features `tls` and
//! `sasl-digest-md5`): the server's secure port asks for no client certificate, so every
//! identity comes from a DIGEST-MD5 login. A service registers as `sasl:api-server` under an
//! `AclProvider` that keeps its nodes its own, a consumer logged in as another user finds it
//! through a provider and may not change it, and after the registrar's session expires the
//! framework's new session logs in again over TLS and discovery registers the instance
//! again, which the consumer's cache sees.
//!
//! Across the crates: zk-core's TLS and SASL, zk-recipes' discovery, zk-testing's TLS
//! server with a JAAS user table.

use std::time::Duration;

use futures::StreamExt;
use zk_testing::{ClientAuth, ServerConfig, ServerSasl, ServerTls, TestingServer};
use zkit::prelude::*;

const DEADLINE: Duration = Duration::from_secs(20);

/// The ACL the registrar's nodes get: its SASL user may do anything, anyone may read.
fn registrar_acl() -> Vec<Acl> {
    vec![
        Acl::new(Perms::ALL, Id::new("sasl", "api-server")),
        Acl::new(Perms::READ, Id::anyone()),
    ]
}

async fn client(server: &TestingServer, user: &str, password: &str, acl: Vec<Acl>) -> Client {
    let ca = server.tls().expect("TLS").ca();
    let tls = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .build()
        .expect("a TLS config");
    let client = Client::builder()
        .connect_string(server.secure_connect_string().expect("a TLS port"))
        .session_timeout(Duration::from_secs(10))
        .connection_timeout(DEADLINE)
        .tls(tls)
        .sasl(SaslConfig::digest_md5(user, password))
        .acl_provider(zkit::zk_core::FixedAclProvider::new(acl))
        .build()
        .expect("a client");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("connected over TLS and logged in");
    client
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn service_discovery_over_tls_and_sasl_registers_finds_and_registers_again_after_expiry() {
    let tls = ServerTls::new()
        .expect("a test CA")
        .client_auth(ClientAuth::None);
    let sasl = ServerSasl::digest_md5()
        .user("api-server", "server-pw-1c9e")
        .user("api-client", "client-pw-58aa");
    let config = ServerConfig::builder()
        .tls(tls)
        .sasl(sasl)
        .build()
        .expect("config");
    let server = TestingServer::start_with(config)
        .await
        .expect("a TLS and SASL server starts");

    let registrar = client(&server, "api-server", "server-pw-1c9e", registrar_acl()).await;
    let who = registrar.who_am_i().await.expect("whoAmI");
    assert!(
        who.iter()
            .any(|id| id.auth_scheme == "sasl" && id.user == "api-server"),
        "{who:?}"
    );
    let me = ServiceInstance::builder()
        .name("api.user")
        .id("sasl-1")
        .address("10.0.0.8")
        .port(8443)
        .build()
        .expect("an instance");
    let registration = ServiceDiscovery::builder()
        .client(registrar.clone())
        .base_path("/services")
        .this_instance(me.clone())
        .build()
        .expect("a discovery");
    registration.start().await.expect("registered");

    let consumer = client(
        &server,
        "api-client",
        "client-pw-58aa",
        vec![Acl::open_unsafe()],
    )
    .await;
    let lookup = ServiceDiscovery::builder()
        .client(consumer.clone())
        .base_path("/services")
        .build()
        .expect("a discovery");
    lookup.start().await.expect("started");
    let provider = lookup
        .service_provider("api.user")
        .strategy(RoundRobin::default())
        .build()
        .await
        .expect("a provider");
    let found = provider
        .get_instance()
        .expect("the instance, from the cache");
    assert_eq!(*found, me);

    let path = "/services/api.user/sasl-1";
    for node in ["/services", "/services/api.user", path] {
        let (acl, _) = consumer.get_acl(node).await.expect("getACL");
        assert_eq!(acl, registrar_acl(), "{node}");
    }
    let denied = consumer
        .set_data(path, b"hijacked")
        .await
        .expect_err("another SASL user may not change the registration");
    assert!(
        matches!(
            &denied,
            ZkError::Server {
                code: Code::NoAuth,
                ..
            }
        ),
        "{denied:?}"
    );

    let mut states = registrar.connection_states();
    let old = registrar.session();
    let old_id = old.session_id();
    zk_testing::expire_session(&server.connect_string(), old_id, &old.session_password())
        .await
        .expect("expire the registrar's session");
    tokio::time::timeout(DEADLINE, async {
        let mut lost = false;
        while let Some(state) = states.next().await {
            lost |= state == ConnectionState::Lost;
            if lost && state == ConnectionState::Reconnected {
                return;
            }
        }
    })
    .await
    .expect("LOST, then RECONNECTED on a new session");
    assert_ne!(registrar.session_id(), old_id);
    // Registered again by the new session, which could only write under its ACL after
    // logging in again.
    eventually("the instance registered by the new session", || async {
        matches!(
            consumer.exists(path).await,
            Ok(Some(stat)) if stat.ephemeral_owner == registrar.session_id()
        )
    })
    .await;
    eventually(
        "the consumer's cache to hold the instance again",
        || async { provider.get_instance().is_some_and(|found| *found == me) },
    )
    .await;

    provider.close().await;
    lookup.close().await.expect("close");
    registration.close().await.expect("close");
    eventually("the instance to go with its registration", || async {
        matches!(consumer.exists(path).await, Ok(None))
    })
    .await;
    consumer.close().await;
    registrar.close().await;
}
