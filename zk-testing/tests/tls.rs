//! A server started with `ServerTls` really serves TLS on its secure port, with a certificate
//! from the test's CA for 127.0.0.1, and with `clientAuth=need` refuses a client without a
//! certificate of that CA; the plain port keeps serving four-letter words.
//!
//! The client side is rustls, talking to the server as any TLS client would: a handshake, then
//! a four-letter word over the encrypted connection.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use zk_testing::{
    ClientAuth, IssuedCert, ServerConfig, ServerTls, TestingCa, TestingServer, four_letter_word,
};

const DEADLINE: Duration = Duration::from_secs(20);

fn client_config(trusted: &TestingCa, identity: Option<&IssuedCert>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(trusted.cert_pem().as_bytes()) {
        roots.add(cert.expect("the CA's PEM")).expect("a root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain = CertificateDer::pem_slice_iter(id.cert_pem().as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("the client's certificate");
            let key = PrivateKeyDer::from_pem_slice(id.key_pem().as_bytes()).expect("its key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("a usable client certificate")
        }
    };
    Arc::new(config)
}

/// Connects over TLS as `127.0.0.1`, sends `word` and returns the answer (or the error).
async fn tls_four_letter_word(
    server: &TestingServer,
    config: Arc<ClientConfig>,
    word: &str,
) -> std::io::Result<String> {
    let addr = server.secure_addr().expect("the server serves TLS");
    let exchange = async {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("127.0.0.1").expect("an IP is a server name");
        let mut tls = TlsConnector::from(config).connect(name, tcp).await?;
        tls.write_all(word.as_bytes()).await?;
        tls.flush().await?;
        // The server closes the connection after its answer, perhaps without a TLS
        // close_notify: what arrived before the end counts.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            match tls.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !answer.is_empty() => {
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    tokio::time::timeout(DEADLINE, exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

#[tokio::test]
async fn a_tls_server_serves_its_ca_certificate_and_requires_a_client_certificate() {
    let tls = ServerTls::new()
        .expect("a CA")
        .client_auth(ClientAuth::Need);
    let config = ServerConfig::builder().tls(tls).build().expect("a config");
    let server = TestingServer::start_with(config)
        .await
        .expect("a TLS server starts");
    let tls = server.tls().expect("the server keeps its TLS settings");
    let cfg = std::fs::read_to_string(server.dir().join("zoo.cfg")).expect("zoo.cfg");
    assert!(cfg.contains("ssl.clientAuth=need"), "{cfg}");

    // A client of the CA, with a certificate of the CA: served.
    let alice = tls
        .ca()
        .client_cert("CN=alice,O=zkit")
        .expect("a client certificate");
    let answer = tls_four_letter_word(&server, client_config(tls.ca(), Some(&alice)), "ruok")
        .await
        .expect("a TLS exchange");
    assert_eq!(answer, "imok");

    // No client certificate: refused by the server, during or right after the handshake.
    let refused = tls_four_letter_word(&server, client_config(tls.ca(), None), "ruok").await;
    assert!(
        !matches!(&refused, Ok(answer) if answer == "imok"),
        "a client without a certificate is not served: {refused:?}"
    );

    // A client certificate from another CA: refused as well.
    let other = TestingCa::new("another CA").expect("a CA");
    let mallory = other
        .client_cert("CN=mallory")
        .expect("a client certificate");
    let refused =
        tls_four_letter_word(&server, client_config(tls.ca(), Some(&mallory)), "ruok").await;
    assert!(
        !matches!(&refused, Ok(answer) if answer == "imok"),
        "a certificate of another CA is not accepted: {refused:?}"
    );

    // A client that trusts another CA does not accept the server's certificate.
    let distrust = tls_four_letter_word(&server, client_config(&other, Some(&alice)), "ruok")
        .await
        .expect_err("the server's certificate is not of the other CA");
    let rustls_error = distrust
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .expect("a rustls error");
    assert!(
        matches!(rustls_error, rustls::Error::InvalidCertificate(_)),
        "{rustls_error:?}"
    );

    // The plain port still answers.
    assert_eq!(
        four_letter_word(server.addr(), "ruok")
            .await
            .expect("plain ruok"),
        "imok"
    );
    assert_ne!(server.secure_addr(), Some(server.addr()));
}

#[tokio::test]
async fn a_server_that_wants_client_certificates_serves_clients_with_and_without_one() {
    let tls = ServerTls::new()
        .expect("a CA")
        .client_auth(ClientAuth::Want);
    let config = ServerConfig::builder().tls(tls).build().expect("a config");
    let server = TestingServer::start_with(config)
        .await
        .expect("a TLS server starts");
    let tls = server.tls().expect("TLS");
    assert_eq!(tls.client_auth_mode(), ClientAuth::Want);
    let carol = tls
        .ca()
        .client_cert("CN=carol")
        .expect("a client certificate");
    for identity in [Some(&carol), None] {
        let answer = tls_four_letter_word(&server, client_config(tls.ca(), identity), "ruok")
            .await
            .expect("served either way");
        assert_eq!(answer, "imok", "with a certificate: {}", identity.is_some());
    }
}
