//! SASL logins (cargo features `sasl-digest-md5` and `sasl-gssapi`): what a client logs in
//! with ([`SaslConfig`]) and the mechanisms, with no I/O of their own (GSSAPI asks the
//! system's Kerberos library, which may talk to a KDC). The exchange itself runs in
//! the session task (`session/task/sasl.rs`) on every new connection, after the handshake
//! and before any other request.
//!
//! ZooKeeper's servers run DIGEST-MD5 for the service `zookeeper` on the host name
//! `zk-sasl-md5` (the realm they offer), whatever their real host name: both names are
//! fixed in ZooKeeper's client and server alike, and so they are here.

#[cfg(feature = "sasl-digest-md5")]
mod digest_md5;
#[cfg(feature = "sasl-gssapi")]
mod gssapi;

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "sasl-digest-md5")]
pub(crate) use digest_md5::DigestMd5Client;
#[cfg(feature = "sasl-gssapi")]
pub(crate) use gssapi::GssapiClient;

/// Why a login could not go on on the client's side (the server's refusals are its codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MechanismError {
    /// DIGEST-MD5: a token the RFC does not allow, or a server that could not prove itself.
    #[cfg(feature = "sasl-digest-md5")]
    #[error(transparent)]
    DigestMd5(#[from] digest_md5::DigestMd5Error),
    /// GSSAPI: what the Kerberos library or the security-layer negotiation said.
    #[cfg(feature = "sasl-gssapi")]
    #[error("GSSAPI: {0}")]
    Gssapi(String),
}

/// The SASL service ZooKeeper's servers run.
pub(crate) const SERVICE: &str = "zookeeper";
/// The host name (and realm) of ZooKeeper's DIGEST-MD5 servers.
#[cfg(feature = "sasl-digest-md5")]
pub(crate) const DIGEST_MD5_HOST: &str = "zk-sasl-md5";

/// How a session logs in with SASL (cargo features `sasl-digest-md5`, `sasl-gssapi`). Give it
/// to [`SessionConfig::with_sasl`](crate::SessionConfig::with_sasl) or
/// [`ClientBuilder::sasl`](crate::ClientBuilder::sasl). Cheap to clone. Its `Debug` output
/// names the mechanism and the user and hides the password.
///
/// The server answers a login with the identity `sasl:<username>`, which ACLs name as
/// `Id::new("sasl", username)`. A refused login (a wrong password, an unknown user) ends the
/// session with [`Error::AuthFailed`](crate::Error::AuthFailed) and the framework client
/// with it (connection state LOST); nothing tries again with the same credentials.
///
/// ```
/// use zk_core::SaslConfig;
///
/// let sasl = SaslConfig::digest_md5("alice", "alice-secret");
/// assert_eq!(sasl.mechanism(), "DIGEST-MD5");
/// assert_eq!(sasl.username(), Some("alice"));
/// assert!(!format!("{sasl:?}").contains("alice-secret"));
/// ```
#[derive(Clone)]
pub struct SaslConfig {
    inner: Arc<Mechanism>,
}

enum Mechanism {
    #[cfg(feature = "sasl-digest-md5")]
    DigestMd5 { username: String, password: String },
    #[cfg(feature = "sasl-gssapi")]
    Gssapi { service: String },
}

impl SaslConfig {
    /// DIGEST-MD5 (RFC 2831, cargo feature `sasl-digest-md5`) as `username` with `password`:
    /// the users a server's JAAS `Server` section lists as `user_<username>="<password>"`. The
    /// password never leaves the client (only a digest of it does), and the server must prove
    /// it knows it too.
    #[cfg(feature = "sasl-digest-md5")]
    pub fn digest_md5(username: impl Into<String>, password: impl Into<String>) -> Self {
        SaslConfig {
            inner: Arc::new(Mechanism::DigestMd5 {
                username: username.into(),
                password: password.into(),
            }),
        }
    }

    /// GSSAPI (Kerberos V5, RFC 4752; cargo feature `sasl-gssapi`) with the credentials
    /// the system's Kerberos library finds: the ticket cache (`KRB5CCNAME`, what `kinit`
    /// fills) or a client keytab (`KRB5_CLIENT_KTNAME`), under `KRB5_CONFIG`'s realm. Each
    /// server is asked for the service ticket `zookeeper/<host>`, `<host>` as the connect
    /// string writes it (unlike the Java client, nothing is looked up in reverse DNS), and
    /// must prove itself (mutual authentication). No security layer is negotiated: put the
    /// connection on TLS for privacy. A missing ticket is a refused login.
    #[cfg(feature = "sasl-gssapi")]
    pub fn gssapi() -> Self {
        SaslConfig {
            inner: Arc::new(Mechanism::Gssapi {
                service: SERVICE.to_owned(),
            }),
        }
    }

    /// The mechanism's SASL name, e.g. `DIGEST-MD5`.
    pub fn mechanism(&self) -> &'static str {
        match *self.inner {
            #[cfg(feature = "sasl-digest-md5")]
            Mechanism::DigestMd5 { .. } => "DIGEST-MD5",
            #[cfg(feature = "sasl-gssapi")]
            Mechanism::Gssapi { .. } => "GSSAPI",
        }
    }

    /// The user logged in as, when the configuration names one (DIGEST-MD5); GSSAPI's is
    /// the principal of the ticket cache.
    pub fn username(&self) -> Option<&str> {
        match &*self.inner {
            #[cfg(feature = "sasl-digest-md5")]
            Mechanism::DigestMd5 { username, .. } => Some(username),
            #[cfg(feature = "sasl-gssapi")]
            Mechanism::Gssapi { .. } => None,
        }
    }

    /// A new login, for one connection to `host` (as the connect string writes it).
    pub(crate) fn start(&self, host: &str) -> Result<SaslLogin, MechanismError> {
        let _ = host;
        match &*self.inner {
            #[cfg(feature = "sasl-digest-md5")]
            Mechanism::DigestMd5 { username, password } => Ok(SaslLogin::DigestMd5(
                DigestMd5Client::new(username, password, SERVICE, DIGEST_MD5_HOST),
            )),
            #[cfg(feature = "sasl-gssapi")]
            Mechanism::Gssapi { service } => Ok(SaslLogin::Gssapi(Box::new(GssapiClient::new(
                service, host,
            )?))),
        }
    }
}

impl fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SaslConfig");
        d.field("mechanism", &self.mechanism());
        match &*self.inner {
            #[cfg(feature = "sasl-digest-md5")]
            Mechanism::DigestMd5 { username, .. } => {
                d.field("username", username)
                    .field("password", &crate::redact::Redacted(true));
            }
            #[cfg(feature = "sasl-gssapi")]
            Mechanism::Gssapi { service } => {
                d.field("service", service);
            }
        }
        d.finish()
    }
}

/// One login in progress.
pub(crate) enum SaslLogin {
    #[cfg(feature = "sasl-digest-md5")]
    DigestMd5(DigestMd5Client),
    #[cfg(feature = "sasl-gssapi")]
    Gssapi(Box<GssapiClient>),
}

impl SaslLogin {
    /// The first token: empty for DIGEST-MD5 (no initial response), the first context
    /// token for GSSAPI.
    pub(crate) fn initial(&mut self) -> Result<Vec<u8>, MechanismError> {
        match self {
            #[cfg(feature = "sasl-digest-md5")]
            SaslLogin::DigestMd5(_) => Ok(Vec::new()),
            #[cfg(feature = "sasl-gssapi")]
            SaslLogin::Gssapi(m) => m.initial(),
        }
    }

    /// The server's token in; the next token to send, or `None` when the login is complete.
    pub(crate) fn step(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, MechanismError> {
        match self {
            #[cfg(feature = "sasl-digest-md5")]
            SaslLogin::DigestMd5(m) => Ok(m.step(token)?),
            #[cfg(feature = "sasl-gssapi")]
            SaslLogin::Gssapi(m) => m.step(token),
        }
    }

    /// Whether the login is complete (the server proved itself where the mechanism can).
    pub(crate) fn is_complete(&self) -> bool {
        match self {
            #[cfg(feature = "sasl-digest-md5")]
            SaslLogin::DigestMd5(m) => m.is_complete(),
            #[cfg(feature = "sasl-gssapi")]
            SaslLogin::Gssapi(m) => m.is_complete(),
        }
    }
}

impl fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "sasl-digest-md5")]
            SaslLogin::DigestMd5(_) => f.write_str("SaslLogin(DIGEST-MD5)"),
            #[cfg(feature = "sasl-gssapi")]
            SaslLogin::Gssapi(_) => f.write_str("SaslLogin(GSSAPI)"),
        }
    }
}
