//! TLS for test servers: a throwaway certificate authority made at test time, the PEM key and
//! trust stores a server reads (ZooKeeper 3.8's `ssl.keyStore.type=PEM`), and client
//! certificates for x509 tests, good ones and bad ones.
//!
//! Nothing here touches the network or a file of the machine's: every key is generated in memory
//! (ECDSA P-256, by `rcgen`), lives as long as the test, and is written only into a server's own
//! temporary directory.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::error::{Error, Result};

/// Whether a TLS server asks clients for a certificate (ZooKeeper's `ssl.clientAuth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No client certificate is asked for (`none`).
    #[default]
    None,
    /// A client certificate is asked for; a client without one is still served, with no
    /// `x509` identity (`want`).
    Want,
    /// A client certificate is required: a client without a trusted one is refused during
    /// the handshake (`need`, ZooKeeper's own default).
    Need,
}

impl ClientAuth {
    /// The value of `ssl.clientAuth`.
    pub fn as_cfg(self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Want => "want",
            ClientAuth::Need => "need",
        }
    }
}

/// A certificate authority made for one test run: it signs the servers' certificates and the
/// clients'. Two `TestingCa`s never trust each other, which is what a "wrong CA" test needs.
/// Cheap to clone (the key is shared).
///
/// ```
/// use zk_testing::TestingCa;
///
/// let ca = TestingCa::new("zk-testing CA")?;
/// let alice = ca.client_cert("CN=alice,O=zkit")?;
/// assert_eq!(alice.subject(), "CN=alice,O=zkit");
/// assert!(alice.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// # Ok::<(), zk_testing::Error>(())
/// ```
#[derive(Clone)]
pub struct TestingCa {
    inner: Arc<CaInner>,
}

struct CaInner {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    name: String,
}

impl fmt::Debug for TestingCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The CA's private key is left out.
        f.debug_struct("TestingCa")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl TestingCa {
    /// A new CA whose certificate's subject is `CN=<common_name>`.
    pub fn new(common_name: &str) -> Result<Self> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().map_err(|e| cert_error("generating the CA's key", e))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| cert_error("signing the CA's certificate", e))?;
        Ok(TestingCa {
            inner: Arc::new(CaInner {
                issuer: Issuer::new(params, key),
                cert_pem: cert.pem(),
                name: common_name.to_owned(),
            }),
        })
    }

    /// The CA's certificate in PEM: what a client trusts to accept this CA's servers.
    pub fn cert_pem(&self) -> &str {
        &self.inner.cert_pem
    }

    /// A client certificate (for TLS client authentication) whose subject is `subject`,
    /// written as ZooKeeper's `X509AuthenticationProvider` reports it: RFC 2253, most specific
    /// part first, e.g. `CN=alice,O=zkit`. The parts may be `CN`, `O`, `OU`, `L`, `ST` and
    /// `C`, each at most once; values may not hold `,+="\<>;#` or leading or trailing spaces.
    /// The `x509` identity of a client presenting it is exactly [`IssuedCert::subject`].
    pub fn client_cert(&self, subject: &str) -> Result<IssuedCert> {
        let mut params = CertificateParams::default();
        params.distinguished_name = parse_subject(subject)?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        self.issue(params, subject.to_owned())
    }

    /// A server certificate valid for `names`: IP addresses (`127.0.0.1`) become IP subject
    /// alternative names, anything else a DNS name. Its subject is `CN=<first name>`.
    pub fn server_cert(&self, names: &[&str]) -> Result<IssuedCert> {
        let first = names.first().ok_or_else(|| {
            Error::InvalidConfig("a server certificate needs at least one name".into())
        })?;
        for name in names {
            if name.parse::<IpAddr>().is_err() && !is_dns_name(name) {
                return Err(Error::InvalidConfig(format!(
                    "{name:?} is neither an IP address nor a DNS name"
                )));
            }
        }
        let sans: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(sans)
            .map_err(|e| cert_error("naming the server certificate", e))?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, *first);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            // The same store serves the server's own client side (quorum TLS, if ever).
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        self.issue(params, format!("CN={first}"))
    }

    fn issue(&self, params: CertificateParams, subject: String) -> Result<IssuedCert> {
        let key = KeyPair::generate().map_err(|e| cert_error("generating a key", e))?;
        let cert = params
            .signed_by(&key, &self.inner.issuer)
            .map_err(|e| cert_error("signing a certificate", e))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            subject,
        })
    }
}

/// A certificate and its private key, both PEM, as a [`TestingCa`] issued them. Its `Debug`
/// output leaves the key out.
#[derive(Clone)]
pub struct IssuedCert {
    cert_pem: String,
    key_pem: String,
    subject: String,
}

impl IssuedCert {
    /// The certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The subject, RFC 2253 (what ZooKeeper's `x509` scheme calls the client).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The private key and the certificate in one PEM file: ZooKeeper's PEM key store.
    pub(crate) fn key_store_pem(&self) -> String {
        format!("{}{}", self.key_pem, self.cert_pem)
    }
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("subject", &self.subject)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// How a server serves TLS: a `secureClientPort` on `127.0.0.1` beside the plain client port,
/// through `NettyServerCnxnFactory`, with PEM stores from a [`TestingCa`] and the `x509`
/// authentication provider. Give it to [`ServerConfigBuilder::tls`](crate::ServerConfigBuilder::tls).
///
/// Every server started with it gets a certificate of its own from the CA, valid for
/// [`server_names`](Self::server_names) (by default `127.0.0.1` only: a client that connects to
/// `localhost` meets a certificate for another name, which is what a hostname test needs).
///
/// ```no_run
/// # async fn demo() -> Result<(), zk_testing::Error> {
/// use zk_testing::{ClientAuth, ServerConfig, ServerTls, TestingServer};
///
/// let tls = ServerTls::new()?.client_auth(ClientAuth::Need);
/// let server = TestingServer::start_with(ServerConfig::builder().tls(tls).build()?).await?;
/// let tls = server.tls().expect("started with TLS");
/// let alice = tls.ca().client_cert("CN=alice")?;    // the client's certificate and key
/// println!("TLS on {}, trust {}", server.secure_connect_string().unwrap(), tls.ca().cert_pem());
/// # let _ = alice; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ServerTls {
    ca: TestingCa,
    client_auth: ClientAuth,
    server_names: Vec<String>,
}

impl ServerTls {
    /// TLS with a fresh CA, no client certificates asked for, server certificates for
    /// `127.0.0.1`.
    pub fn new() -> Result<Self> {
        Ok(Self::with_ca(TestingCa::new("zk-testing CA")?))
    }

    /// TLS with certificates from `ca`.
    pub fn with_ca(ca: TestingCa) -> Self {
        ServerTls {
            ca,
            client_auth: ClientAuth::None,
            server_names: vec!["127.0.0.1".to_owned()],
        }
    }

    /// Whether clients must present a certificate (`ssl.clientAuth`). Default: none.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// The names the servers' certificates are valid for (IP addresses or DNS names).
    /// Default: `127.0.0.1`.
    pub fn server_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.server_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// The CA behind the servers' certificates: its PEM for clients to trust, and client
    /// certificates for x509 authentication.
    pub fn ca(&self) -> &TestingCa {
        &self.ca
    }

    /// Whether clients must present a certificate.
    pub fn client_auth_mode(&self) -> ClientAuth {
        self.client_auth
    }

    /// The names the servers' certificates are valid for.
    pub fn names(&self) -> &[String] {
        &self.server_names
    }

    /// A certificate for one server.
    pub(crate) fn issue_server_cert(&self) -> Result<IssuedCert> {
        let names: Vec<&str> = self.server_names.iter().map(String::as_str).collect();
        self.ca.server_cert(&names)
    }
}

fn cert_error(what: &str, e: rcgen::Error) -> Error {
    Error::InvalidConfig(format!("{what}: {e}"))
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Parses an RFC 2253 subject of simple parts (`CN=alice,O=zkit`) into a distinguished name
/// whose RFC 2253 form is that same string: the parts go into the certificate in reverse order,
/// as RFC 2253 writes the last RDN first.
fn parse_subject(subject: &str) -> Result<DistinguishedName> {
    let bad = |why: &str| Error::InvalidConfig(format!("subject {subject:?}: {why}"));
    let mut parts = Vec::new();
    for part in subject.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| bad("each part is KEY=value"))?;
        let ty = match key {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "L" => DnType::LocalityName,
            "ST" => DnType::StateOrProvinceName,
            "C" => DnType::CountryName,
            other => return Err(bad(&format!("unsupported attribute {other:?}"))),
        };
        if value.is_empty()
            || value.trim() != value
            || value
                .chars()
                .any(|c| ",+=\"\\<>;#".contains(c) || c.is_control())
        {
            return Err(bad(&format!("unsupported value {value:?}")));
        }
        if parts.iter().any(|(t, _)| *t == ty) {
            return Err(bad(&format!("{key} appears twice")));
        }
        parts.push((ty, value.to_owned()));
    }
    let mut dn = DistinguishedName::new();
    for (ty, value) in parts.into_iter().rev() {
        dn.push(ty, value);
    }
    Ok(dn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_checked_and_kept_in_rfc_2253_order() {
        let dn = parse_subject("CN=alice,O=zkit").expect("a simple subject");
        let order: Vec<DnType> = dn.iter().map(|(ty, _)| ty.clone()).collect();
        assert_eq!(
            order,
            [DnType::OrganizationName, DnType::CommonName],
            "the most specific part goes last in the certificate"
        );
        for bad in ["", "alice", "CN=", "CN=a,CN=b", "X=1", "CN=a+b", "CN= a"] {
            assert!(parse_subject(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn issued_keys_stay_out_of_debug_output() {
        let ca = TestingCa::new("test CA").expect("a CA");
        let cert = ca.client_cert("CN=bob").expect("a client certificate");
        assert!(cert.key_pem().contains("PRIVATE KEY"));
        let shown = format!("{cert:?} {ca:?}");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert!(!shown.contains(&cert.key_pem()[30..60]), "{shown}");
    }

    #[test]
    fn server_names_must_be_addresses_or_dns_names() {
        let ca = TestingCa::new("test CA").expect("a CA");
        assert!(ca.server_cert(&["127.0.0.1", "localhost"]).is_ok());
        assert!(ca.server_cert(&[]).is_err());
        assert!(ca.server_cert(&["not a name"]).is_err());
    }
}
