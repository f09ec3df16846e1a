//! `TlsConfig` from PEM: what it accepts, what it refuses, and what its `Debug` shows.

use zk_testing::TestingCa;

use super::*;

fn ca() -> TestingCa {
    TestingCa::new("unit test CA").expect("a CA")
}

#[test]
fn a_ca_is_required_and_must_parse() {
    let err = TlsConfig::builder().build().expect_err("no CA");
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("ca_pem")),
        "{err}"
    );
    let err = TlsConfig::builder()
        .ca_pem("not a certificate")
        .build()
        .expect_err("no certificate in the PEM");
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");

    let ca = ca();
    let tls = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .build()
        .expect("a CA");
    assert_eq!(tls.trusted_certificates(), 1);
    assert!(
        tls.verifies_hostname(),
        "hostname verification is on by default"
    );
    assert!(!tls.has_client_cert());
}

#[test]
fn a_client_certificate_needs_its_own_key() {
    let ca = ca();
    let alice = ca.client_cert("CN=alice").expect("a certificate");
    let bob = ca.client_cert("CN=bob").expect("a certificate");
    let tls = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .client_cert_pem(alice.cert_pem(), alice.key_pem())
        .build()
        .expect("a matching certificate and key");
    assert!(tls.has_client_cert());

    let err = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .client_cert_pem(alice.cert_pem(), bob.key_pem())
        .build()
        .expect_err("another certificate's key");
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .client_cert_pem(alice.cert_pem(), "no key here")
        .build()
        .expect_err("no key");
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}

#[test]
fn debug_output_never_shows_the_private_key() {
    let ca = ca();
    let alice = ca.client_cert("CN=alice").expect("a certificate");
    let key_body: String = alice
        .key_pem()
        .lines()
        .nth(1)
        .expect("a base64 line")
        .to_owned();
    let builder = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .client_cert_pem(alice.cert_pem(), alice.key_pem());
    let tls = builder.clone().build().expect("a config");
    let config = crate::SessionConfig::new(
        "127.0.0.1:2281".parse().expect("a connect string"),
        std::time::Duration::from_secs(10),
    )
    .with_tls(tls.clone());
    for shown in [
        format!("{builder:?}"),
        format!("{tls:?}"),
        format!("{config:?}"),
        format!("{builder:#?} {tls:#?} {config:#?}"),
    ] {
        assert!(!shown.contains(&key_body), "{shown}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    }
    assert!(format!("{tls:?}").contains("client_cert: true"));
}

#[test]
fn hostname_verification_is_off_only_when_asked_by_name() {
    let ca = ca();
    let tls = TlsConfig::builder()
        .ca_pem(ca.cert_pem())
        .danger_disable_hostname_verification()
        .build()
        .expect("a config");
    assert!(!tls.verifies_hostname());
}

#[cfg(feature = "tls-native-roots")]
#[test]
fn the_systems_roots_can_be_trusted_beside_a_ca_of_ones_own() {
    // Debian's ca-certificates (installed with the JDK) holds well over a hundred.
    let ca = ca();
    let tls = TlsConfig::builder()
        .native_roots()
        .ca_pem(ca.cert_pem())
        .build()
        .expect("the system's CAs and one more");
    assert!(tls.trusted_certificates() > 10, "{tls:?}");
}
