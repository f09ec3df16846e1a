//! Service discovery end to end over TLS (feature `tls`): a service registers through a
//! client with a certificate of its own, a consumer finds it through a provider over TLS,
//! and after the registrar's session expires the framework rebuilds the session over TLS
//! and discovery registers the instance again, which the consumer's cache sees. The
//! registrar's `AclProvider` gives the recipe's nodes their ACL: the registrar's
//! certificate may change them, anyone may read them.
//!
//! Across the crates: zk-core's TLS, zk-recipes' discovery, zk-testing's TLS server
//! (client certificates required).

use std::time::Duration;

use futures::StreamExt;
use zk_testing::{ClientAuth, ServerConfig, ServerTls, TestingCa, TestingServer};
use zkit::prelude::*;

const DEADLINE: Duration = Duration::from_secs(20);

fn tls_for(ca: &TestingCa, subject: &str) -> TlsConfig {
    let cert = ca.client_cert(subject).expect("a client certificate");
    TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .client_cert_pem(cert.cert_pem(), cert.key_pem())
        .build()
        .expect("a TLS config")
}

/// The ACL the registrar's nodes get: its certificate may do anything, anyone may read.
fn registrar_acl() -> Vec<Acl> {
    vec![
        Acl::new(Perms::ALL, Id::new("x509", "CN=api-server")),
        Acl::new(Perms::READ, Id::anyone()),
    ]
}

async fn tls_client(server: &TestingServer, subject: &str, acl: Vec<Acl>) -> Client {
    let ca = server.tls().expect("TLS").ca();
    let client = Client::builder()
        .connect_string(server.secure_connect_string().expect("a TLS port"))
        .session_timeout(Duration::from_secs(10))
        .connection_timeout(DEADLINE)
        .tls(tls_for(ca, subject))
        .acl_provider(zkit::zk_core::FixedAclProvider::new(acl))
        .build()
        .expect("a client");
    client
        .block_until_connected(DEADLINE)
        .await
        .expect("connected over TLS");
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
async fn service_discovery_over_tls_registers_finds_and_registers_again_after_expiry() {
    let tls = ServerTls::new()
        .expect("a test CA")
        .client_auth(ClientAuth::Need);
    let server =
        TestingServer::start_with(ServerConfig::builder().tls(tls).build().expect("config"))
            .await
            .expect("a TLS server starts");

    let registrar = tls_client(&server, "CN=api-server", registrar_acl()).await;
    let me = ServiceInstance::builder()
        .name("api.user")
        .id("tls-1")
        .address("10.0.0.7")
        .port(8443)
        .build()
        .expect("an instance");
    let registration = ServiceDiscovery::builder()
        .client(registrar.clone())
        .base_path("/services")
        .this_instance(me.clone())
        .build()
        .expect("a discovery");
    registration.start().await.expect("registered over TLS");

    let consumer = tls_client(&server, "CN=api-client", vec![Acl::open_unsafe()]).await;
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
        .expect("a provider over TLS");
    let found = provider
        .get_instance()
        .expect("the instance, from the cache");
    assert_eq!(*found, me);

    // The recipe's nodes, the parents it made included, carry the provider's ACL.
    let path = "/services/api.user/tls-1";
    for node in ["/services", "/services/api.user", path] {
        let (acl, _) = consumer.get_acl(node).await.expect("getACL");
        assert_eq!(acl, registrar_acl(), "{node}");
    }
    let denied = consumer
        .set_data(path, b"hijacked")
        .await
        .expect_err("another certificate may not change the registration");
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

    // The registrar's session expires; its client builds a new one over TLS and the
    // instance is registered again under that session.
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
    assert_eq!(
        lookup
            .query_for_instance("api.user", "tls-1")
            .await
            .expect("a query over TLS"),
        Some(me)
    );

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
