//! What a session is opened with.

use std::time::Duration;

use bytes::Bytes;

use crate::error::Error;

use crate::proto::frame::DEFAULT_MAX_FRAME_LEN;
use crate::session::connect_string::ConnectString;

/// The longest session timeout the protocol can carry: the handshake sends it as an
/// `i32` of milliseconds (about 24.8 days). Servers grant far less (at most 20 ticks
/// unless configured otherwise); a longer request is simply negotiated down.
pub const MAX_SESSION_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// Checks a session timeout: positive, and no longer than [`MAX_SESSION_TIMEOUT`].
pub(crate) fn check_session_timeout(d: Duration) -> Result<(), Error> {
    if d.is_zero() {
        return Err(Error::InvalidArgument(
            "the session timeout must be positive".into(),
        ));
    }
    if d > MAX_SESSION_TIMEOUT {
        return Err(Error::InvalidArgument(format!(
            "a session timeout of {d:?} cannot be sent: the protocol carries at most {MAX_SESSION_TIMEOUT:?} (i32 milliseconds)"
        )));
    }
    Ok(())
}

/// Settings for one ZooKeeper session: [`SessionConfig::new`], then the `with_`
/// methods for the rest; read back through the accessors. Its `Debug` output hides
/// credentials.
///
/// ```
/// use std::time::Duration;
/// use zk_core::{ConnectString, SessionConfig};
///
/// let servers: ConnectString = "127.0.0.1:2181/app".parse()?;
/// let config = SessionConfig::new(servers, Duration::from_secs(30))
///     .with_close_timeout(Duration::from_secs(1))
///     .with_auth("digest", "user:secret");
/// assert_eq!(config.close_timeout(), Duration::from_secs(1));
/// # Ok::<(), zk_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SessionConfig {
    /// The servers and optional chroot.
    pub(crate) connect_string: ConnectString,
    /// The session timeout asked of the server; the server may negotiate it within
    /// its min/max bounds. A value beyond [`MAX_SESSION_TIMEOUT`] is sent as that
    /// maximum (and refused by [`Session::connect`](crate::Session::connect) and the
    /// framework's `build()`).
    pub(crate) session_timeout: Duration,
    /// Accept read-only servers when no quorum can be reached. A session made by a
    /// read-only server lives only there: when the client next reaches a
    /// read-write server it gets a new session (a new id, its watches
    /// re-registered), as the Java client does.
    pub(crate) can_be_read_only: bool,
    /// The largest frame accepted from the server, and the largest request sent
    /// (ZooKeeper's `jute.maxbuffer`, 0xfffff by default). Node data may be up to
    /// 1 KiB less, so that a reply carrying it fits too.
    pub(crate) max_frame_len: usize,
    /// How long `close()` waits for the server to acknowledge closeSession.
    pub(crate) close_timeout: Duration,
    /// Credentials sent on every connection, before any other request.
    pub(crate) auth: Vec<(String, Bytes)>,
    /// An existing session to resume (id, password) instead of creating a new one.
    pub(crate) resume: Option<(i64, Bytes)>,
    /// TLS to every server, when set.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
    /// The SASL login on every new connection, when set.
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub(crate) sasl: Option<crate::sasl::SaslConfig>,
}

impl SessionConfig {
    /// The session timeout as the handshake sends it: within 1 ms and
    /// [`MAX_SESSION_TIMEOUT`].
    pub(crate) fn requested_timeout(&self) -> Duration {
        self.session_timeout
            .clamp(Duration::from_millis(1), MAX_SESSION_TIMEOUT)
    }

    /// A configuration for `connect_string` with the given session timeout and
    /// defaults for the rest.
    pub fn new(connect_string: ConnectString, session_timeout: Duration) -> Self {
        SessionConfig {
            connect_string,
            session_timeout,
            can_be_read_only: false,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            close_timeout: Duration::from_secs(2),
            auth: Vec::new(),
            resume: None,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
            sasl: None,
        }
    }

    /// Accept read-only servers (see [`can_be_read_only`](Self::can_be_read_only)).
    pub fn with_read_only(mut self, yes: bool) -> Self {
        self.can_be_read_only = yes;
        self
    }

    /// The frame limit (see [`max_frame_len`](Self::max_frame_len)).
    pub fn with_max_frame_len(mut self, len: usize) -> Self {
        self.max_frame_len = len;
        self
    }

    /// How long `close()` waits for the server (see [`close_timeout`](Self::close_timeout)).
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Adds credentials sent on every connection, before any other request.
    pub fn with_auth(mut self, scheme: impl Into<String>, auth: impl AsRef<[u8]>) -> Self {
        self.auth
            .push((scheme.into(), Bytes::copy_from_slice(auth.as_ref())));
        self
    }

    /// Resumes an existing session (its id and password) instead of creating one.
    pub fn with_resume(mut self, session_id: i64, password: Bytes) -> Self {
        self.resume = Some((session_id, password));
        self
    }

    /// Connects to every server over TLS (cargo feature `tls`): each host of the connect
    /// string must present a certificate from a trusted CA that names it as written there
    /// (an IP address needs an IP subject alternative name), unless
    /// [`danger_disable_hostname_verification`](crate::TlsConfigBuilder::danger_disable_hostname_verification)
    /// was asked for. A handshake that fails moves on to the next host, as a connection
    /// that fails does; once every host has failed TLS in a row the session ends
    /// ([`SessionState::TlsFailed`](crate::SessionState::TlsFailed)) and operations fail
    /// with [`Error::Tls`], which is not retryable.
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The TLS settings, when the session connects over TLS.
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&crate::tls::TlsConfig> {
        self.tls.as_ref()
    }

    /// Logs in with SASL (cargo feature `sasl-digest-md5` or `sasl-gssapi`) on every new
    /// connection: after the handshake, before credentials, SetWatches and any request. A
    /// refused login (a wrong password, an unknown user, or a server whose tokens make no
    /// sense) ends the session ([`SessionState::AuthFailed`](crate::SessionState::AuthFailed));
    /// requests then fail with [`Error::AuthFailed`], which is not retryable. A connection lost
    /// during the login is tried again like any other.
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub fn with_sasl(mut self, sasl: crate::sasl::SaslConfig) -> Self {
        self.sasl = Some(sasl);
        self
    }

    /// The SASL login, when the session logs in with one.
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub fn sasl(&self) -> Option<&crate::sasl::SaslConfig> {
        self.sasl.as_ref()
    }

    /// The servers and optional chroot.
    pub fn connect_string(&self) -> &ConnectString {
        &self.connect_string
    }

    /// The session timeout asked of the server; the server may negotiate it within
    /// its min/max bounds. A value beyond [`MAX_SESSION_TIMEOUT`] is sent as that
    /// maximum (and refused by [`Session::connect`](crate::Session::connect) and the
    /// framework's `build()`).
    pub fn session_timeout(&self) -> Duration {
        self.session_timeout
    }

    /// Whether read-only servers are accepted when no quorum can be reached. A
    /// session made by a read-only server lives only there: when the client next
    /// reaches a read-write server it gets a new session (a new id, its watches
    /// re-registered), as the Java client does.
    pub fn can_be_read_only(&self) -> bool {
        self.can_be_read_only
    }

    /// The largest frame accepted from the server, and the largest request sent
    /// (ZooKeeper's `jute.maxbuffer`, 0xfffff by default). Node data may be up to
    /// 1 KiB less, so that a reply carrying it fits too.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// How long `close()` waits for the server to acknowledge closeSession.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The id of the session to resume, if any (its password stays hidden).
    pub fn resumed_session_id(&self) -> Option<i64> {
        self.resume.as_ref().map(|(id, _)| *id)
    }
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("SessionConfig");
        f.field("connect_string", &self.connect_string)
            .field("session_timeout", &self.session_timeout)
            .field("can_be_read_only", &self.can_be_read_only)
            .field("max_frame_len", &self.max_frame_len)
            .field("close_timeout", &self.close_timeout)
            .field("auth", &crate::redact::RedactedAuth(&self.auth))
            .field(
                "resume",
                &self
                    .resume
                    .as_ref()
                    .map(|(id, pw)| (format!("{id:#x}"), crate::redact::Redacted(!pw.is_empty()))),
            );
        #[cfg(feature = "tls")]
        f.field("tls", &self.tls);
        #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
        f.field("sasl", &self.sasl);
        f.finish()
    }
}
