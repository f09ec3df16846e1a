//! SASL logins (cargo feature `sasl-digest-md5`): what a client logs in with
//! ([`SaslConfig`]) and the mechanisms, pure code with no I/O. The exchange itself runs in
//! the session task (`session/task/sasl.rs`) on every new connection, after the handshake
//! and before any other request.
//!
//! ZooKeeper's servers run DIGEST-MD5 for the service `zookeeper` on the host name
//! `zk-sasl-md5` (the realm they offer), whatever their real host name: both names are
//! fixed in ZooKeeper's client and server alike, and so they are here.

mod digest_md5;

use std::fmt;
use std::sync::Arc;

pub(crate) use digest_md5::{DigestMd5Client, DigestMd5Error};

/// The SASL service ZooKeeper's servers run.
pub(crate) const SERVICE: &str = "zookeeper";
/// The host name (and realm) of ZooKeeper's DIGEST-MD5 servers.
pub(crate) const DIGEST_MD5_HOST: &str = "zk-sasl-md5";

/// How a session logs in with SASL (cargo feature `sasl-digest-md5`). Give it to
/// [`SessionConfig::with_sasl`](crate::SessionConfig::with_sasl) or
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
/// assert_eq!(sasl.username(), "alice");
/// assert!(!format!("{sasl:?}").contains("alice-secret"));
/// ```
#[derive(Clone)]
pub struct SaslConfig {
    inner: Arc<Mechanism>,
}

enum Mechanism {
    DigestMd5 { username: String, password: String },
}

impl SaslConfig {
    /// DIGEST-MD5 (RFC 2831) as `username` with `password`: the users a server's JAAS
    /// `Server` section lists as `user_<username>="<password>"`. The password never leaves
    /// the client (only a digest of it does), and the server must prove it knows it too.
    pub fn digest_md5(username: impl Into<String>, password: impl Into<String>) -> Self {
        SaslConfig {
            inner: Arc::new(Mechanism::DigestMd5 {
                username: username.into(),
                password: password.into(),
            }),
        }
    }

    /// The mechanism's SASL name, e.g. `DIGEST-MD5`.
    pub fn mechanism(&self) -> &'static str {
        match *self.inner {
            Mechanism::DigestMd5 { .. } => "DIGEST-MD5",
        }
    }

    /// The user logged in as.
    pub fn username(&self) -> &str {
        match &*self.inner {
            Mechanism::DigestMd5 { username, .. } => username,
        }
    }

    /// A new login, for one connection.
    pub(crate) fn start(&self) -> SaslLogin {
        match &*self.inner {
            Mechanism::DigestMd5 { username, password } => SaslLogin::DigestMd5(
                DigestMd5Client::new(username, password, SERVICE, DIGEST_MD5_HOST),
            ),
        }
    }
}

impl fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslConfig")
            .field("mechanism", &self.mechanism())
            .field("username", &self.username())
            .field("password", &crate::redact::Redacted(true))
            .finish()
    }
}

/// One login in progress.
pub(crate) enum SaslLogin {
    DigestMd5(DigestMd5Client),
}

impl SaslLogin {
    /// The first token: DIGEST-MD5 has no initial response, so it is empty.
    pub(crate) fn initial(&self) -> Vec<u8> {
        match self {
            SaslLogin::DigestMd5(_) => Vec::new(),
        }
    }

    /// The server's token in; the next token to send, or `None` when the login is complete.
    pub(crate) fn step(&mut self, token: &[u8]) -> Result<Option<Vec<u8>>, DigestMd5Error> {
        match self {
            SaslLogin::DigestMd5(m) => m.step(token),
        }
    }

    /// Whether the login is complete (the server proved itself where the mechanism can).
    pub(crate) fn is_complete(&self) -> bool {
        match self {
            SaslLogin::DigestMd5(m) => m.is_complete(),
        }
    }
}

impl fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SaslLogin::DigestMd5(_) => "SaslLogin(DIGEST-MD5)",
        })
    }
}
