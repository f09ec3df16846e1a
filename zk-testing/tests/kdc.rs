//! A `TestingKdc` is a working KDC on loopback: MIT's own client tools, pointed at its
//! `krb5.conf`, get a ticket-granting ticket with a keytab it issued and then a service ticket
//! for a ZooKeeper server's principal; dropping it kills the KDC. A ZooKeeper server given a
//! Kerberos identity (`ServerSasl::kerberos`) logs in to it at startup.

mod common;

use std::path::Path;
use std::process::Output;

use zk_testing::{ServerConfig, ServerSasl, TestingKdc, TestingServer};

/// Runs an MIT client tool against the KDC's realm with the ticket cache `cache`.
async fn krb5_tool(kdc: &TestingKdc, cache: &Path, program: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(program)
        .args(args)
        .env("KRB5_CONFIG", kdc.krb5_conf())
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {program} (scripts/setup installs krb5-user): {e}"))
}

#[tokio::test]
async fn a_client_gets_a_ticket_from_the_testing_kdc_and_one_for_the_zookeeper_service() {
    let kdc = TestingKdc::start().await.expect("a KDC starts");
    assert!(kdc.addr().ip().is_loopback());
    let service = kdc
        .add_principal("zookeeper/localhost")
        .await
        .expect("the server's principal");
    assert_eq!(
        service.principal(),
        "zookeeper/localhost@ZK-TESTING.INVALID"
    );
    let alice = kdc.add_principal("alice").await.expect("a user");
    assert!(alice.path().is_file());

    let cache = kdc.dir().join("alice.ccache");
    let kinit = krb5_tool(
        &kdc,
        &cache,
        "kinit",
        &[
            "-k",
            "-t",
            &alice.path().display().to_string(),
            alice.principal(),
        ],
    )
    .await;
    assert!(kinit.status.success(), "kinit: {kinit:?}");
    let kvno = krb5_tool(&kdc, &cache, "kvno", &[service.principal()]).await;
    assert!(kvno.status.success(), "kvno: {kvno:?}");
    let klist = krb5_tool(&kdc, &cache, "klist", &[]).await;
    let tickets = String::from_utf8_lossy(&klist.stdout);
    assert!(tickets.contains("alice@ZK-TESTING.INVALID"), "{tickets}");
    assert!(
        tickets.contains("krbtgt/ZK-TESTING.INVALID@ZK-TESTING.INVALID"),
        "{tickets}"
    );
    assert!(
        tickets.contains("zookeeper/localhost@ZK-TESTING.INVALID"),
        "{tickets}"
    );

    let log = std::fs::read_to_string(kdc.dir().join("kdc.log")).expect("the KDC's log");
    assert!(log.contains("AS_REQ") && log.contains("TGS_REQ"), "{log}");

    // Dropped: the KDC is gone (killed and reaped) and so is its directory.
    let dir = kdc.dir().to_owned();
    let pid = kdc.pid();
    drop(kdc);
    assert!(
        !common::process_exists(pid),
        "the KDC {pid} outlived its handle"
    );
    assert!(!dir.exists());
}

#[tokio::test]
async fn a_bad_realm_is_refused_before_anything_runs() {
    let bad = TestingKdc::start_with_realm("lower.case").await;
    assert!(
        matches!(bad, Err(zk_testing::Error::InvalidConfig(_))),
        "{bad:?}"
    );
}

#[tokio::test]
async fn a_zookeeper_server_with_a_kerberos_identity_logs_in_to_the_kdc_at_startup() {
    let kdc = TestingKdc::start().await.expect("a KDC starts");
    let service = kdc
        .add_principal("zookeeper/localhost")
        .await
        .expect("the server's principal");
    let config = ServerConfig::builder()
        .sasl(ServerSasl::kerberos(&kdc, &service))
        .build()
        .expect("a valid config");
    // ZooKeeper refuses to start when its JAAS login fails: serving proves the login.
    let server = TestingServer::start_with(config)
        .await
        .expect("a Kerberos server starts");
    let jaas = std::fs::read_to_string(server.dir().join("jaas.conf")).expect("the JAAS file");
    assert!(jaas.contains("Krb5LoginModule"), "{jaas}");
    let log = std::fs::read_to_string(kdc.dir().join("kdc.log")).expect("the KDC's log");
    assert!(
        log.contains("AS_REQ") && log.contains("zookeeper/localhost@ZK-TESTING.INVALID"),
        "{log}"
    );
    drop(server);
}
