//! TLS to the servers (cargo feature `tls`): what a client trusts and shows, and the
//! handshake each connection attempt makes before ZooKeeper's own.
//!
//! Built on rustls with the `ring` crypto provider, chosen explicitly here rather than
//! taken from a process-wide default: it builds with a C compiler alone and leaves the
//! process's default provider to the application. TLS 1.2 and 1.3 are offered
//! (ZooKeeper 3.8 servers speak 1.2 unless configured otherwise).
//!
//! - this file: [`TlsConfig`] and its builder (PEM parsing, the rustls configuration);
//! - `verify`: the verifier used when hostname verification is turned off (the chain
//!   is still checked against the trusted CAs);
//! - `handshake`: one handshake with one server, and how a failure becomes a typed
//!   [`TlsError`](crate::error::TlsError).
//!
//! Every server of the connect string is verified under its own name, as written
//! there: a host name against the certificate's DNS names, an IP address against its
//! IP addresses. The failure rule (the session ends once every server has failed TLS in
//! a row) is in `session/task/connect.rs`.

mod handshake;
mod verify;

use std::fmt;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::error::{Error, Result};

pub(crate) use handshake::{TlsStream, handshake, tls_error};

/// How a client talks TLS to the servers: the CAs it trusts, the certificate it shows
/// (for ZooKeeper's `x509` authentication), and whether it checks that a server's
/// certificate names the host it connected to. Build it with [`TlsConfig::builder`];
/// hand it to [`SessionConfig::with_tls`](crate::SessionConfig::with_tls) or
/// [`ClientBuilder::tls`](crate::ClientBuilder::tls). Cheap to clone. Its `Debug` output
/// shows no key.
///
/// ```no_run
/// # fn demo(ca_pem: &str, cert_pem: &str, key_pem: &str) -> zk_core::Result<()> {
/// use zk_core::{Client, TlsConfig};
///
/// let tls = TlsConfig::builder()
///     .ca_pem(ca_pem)                     // the CA that signed the servers' certificates
///     .client_cert_pem(cert_pem, key_pem) // optional: this client's x509 identity
///     .build()?;
/// let client = Client::builder()
///     .connect_string("zk1.example.com:2281,zk2.example.com:2281")
///     .tls(tls)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    connector: TlsConnector,
    trusted: usize,
    has_client_cert: bool,
    verify_hostname: bool,
}

impl TlsConfig {
    /// A builder: no trusted CA yet (at least one is required), no client certificate,
    /// hostname verification on.
    pub fn builder() -> TlsConfigBuilder {
        TlsConfigBuilder::default()
    }

    /// Whether a server's certificate must name the host the client connected to (on
    /// unless [`danger_disable_hostname_verification`](TlsConfigBuilder::danger_disable_hostname_verification)).
    pub fn verifies_hostname(&self) -> bool {
        self.verify_hostname
    }

    /// Whether the client shows a certificate of its own.
    pub fn has_client_cert(&self) -> bool {
        self.has_client_cert
    }

    /// How many CA certificates are trusted.
    pub fn trusted_certificates(&self) -> usize {
        self.trusted
    }

    pub(crate) fn connector(&self) -> &TlsConnector {
        &self.connector
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("trusted_certificates", &self.trusted)
            .field("client_cert", &self.has_client_cert)
            .field("verify_hostname", &self.verify_hostname)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TlsConfig`]; [`build`](Self::build) parses the PEM and checks that the
/// client certificate and key belong together. Its `Debug` output hides the key.
#[derive(Clone)]
pub struct TlsConfigBuilder {
    ca_pems: Vec<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
    verify_hostname: bool,
    native_roots: bool,
}

impl Default for TlsConfigBuilder {
    fn default() -> Self {
        TlsConfigBuilder {
            ca_pems: Vec::new(),
            client: None,
            verify_hostname: true,
            native_roots: false,
        }
    }
}

impl fmt::Debug for TlsConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfigBuilder")
            .field("ca_pems", &self.ca_pems.len())
            .field(
                "client_cert",
                &self
                    .client
                    .as_ref()
                    .map(|_| "<certificate and redacted key>"),
            )
            .field("verify_hostname", &self.verify_hostname)
            .field("native_roots", &self.native_roots)
            .finish()
    }
}

impl TlsConfigBuilder {
    /// Trusts every certificate in `pem` (one or more `-----BEGIN CERTIFICATE-----`
    /// blocks): servers must present a certificate signed by one of them. May be called
    /// more than once.
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.ca_pems.push(pem.as_ref().to_vec());
        self
    }

    /// Trusts the operating system's CAs too (cargo feature `tls-native-roots`): for
    /// servers whose certificates come from a CA installed on the machine (a public one,
    /// or a company's). Certificates of the system's store that do not parse are
    /// skipped; none at all is an error at [`build`](Self::build).
    #[cfg(feature = "tls-native-roots")]
    pub fn native_roots(mut self) -> Self {
        self.native_roots = true;
        self
    }

    /// Shows this certificate (chain, PEM, the client's own first) and proves it with this
    /// private key (PEM: PKCS#8, PKCS#1 or SEC1) when a server asks for one: with
    /// ZooKeeper's `X509AuthenticationProvider` the client's identity is then the
    /// certificate's subject, under the `x509` scheme.
    pub fn client_cert_pem(
        mut self,
        cert_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Self {
        self.client = Some((cert_pem.as_ref().to_vec(), key_pem.as_ref().to_vec()));
        self
    }

    /// Accepts a server certificate that does not name the host connected to, as long as
    /// a trusted CA signed it (ZooKeeper's `zookeeper.ssl.hostnameVerification=false`).
    /// For tests and for servers reached under names their certificates do not carry:
    /// anyone holding any certificate of the CA can then pose as any server.
    pub fn danger_disable_hostname_verification(mut self) -> Self {
        self.verify_hostname = false;
        self
    }

    /// Parses the certificates and the key and builds the configuration. Fails with
    /// [`Error::InvalidArgument`] when no CA certificate was given, when a PEM does not
    /// parse or holds no certificate (or key), or when the key does not fit the certificate.
    pub fn build(self) -> Result<TlsConfig> {
        let mut roots = RootCertStore::empty();
        for pem in &self.ca_pems {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| invalid(format!("a CA certificate's PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| invalid(format!("a CA certificate: {e}")))?;
            }
        }
        #[cfg(feature = "tls-native-roots")]
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            let (added, skipped) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(
                added,
                skipped,
                errors = found.errors.len(),
                "the system's CA certificates"
            );
            if added == 0 {
                let why: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(invalid(format!(
                    "no usable CA certificate in the system's store ({})",
                    why.join("; ")
                )));
            }
        }
        if roots.is_empty() {
            return Err(invalid(
                "no CA certificate to trust: give the PEM of the CA that signed the servers' certificates (ca_pem)"
                    .to_owned(),
            ));
        }
        let trusted = roots.len();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| invalid(format!("the trusted certificates: {e}")))?;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("the TLS versions: {e}")))?;
        let builder = if self.verify_hostname {
            builder.with_webpki_verifier(webpki)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verify::AnyServerName::new(webpki)))
        };
        let has_client_cert = self.client.is_some();
        let config = match &self.client {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => {
                let chain = CertificateDer::pem_slice_iter(cert_pem)
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| invalid(format!("the client certificate's PEM: {e}")))?;
                if chain.is_empty() {
                    return Err(invalid(
                        "the client certificate's PEM holds no certificate".to_owned(),
                    ));
                }
                // The parser's error never quotes the key.
                let key = PrivateKeyDer::from_pem_slice(key_pem)
                    .map_err(|e| invalid(format!("the client key's PEM: {e}")))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| invalid(format!("the client certificate and key: {e}")))?
            }
        };
        Ok(TlsConfig {
            connector: TlsConnector::from(Arc::new(config)),
            trusted,
            has_client_cert,
            verify_hostname: self.verify_hostname,
        })
    }
}

fn invalid(what: String) -> Error {
    Error::InvalidArgument(format!("TLS: {what}"))
}

#[cfg(test)]
mod tests;
