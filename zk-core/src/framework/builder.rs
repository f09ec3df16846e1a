//! `Client::builder()`: the framework's settings, with Curator's defaults.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use zk_retry::{ExponentialBackoffRetry, RetryPolicy};

use crate::error::{Error, Result};
use crate::framework::acl_provider::{AclProvider, DefaultAclProvider};
use crate::framework::client::Client;
use crate::framework::state::ConnectionStateErrorPolicy;
use crate::proto::frame::DEFAULT_MAX_FRAME_LEN;
use crate::proto::path;
use crate::session::{ConnectString, SessionConfig};

/// Curator's default session timeout.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Curator's default connection timeout.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(15);

/// Everything a [`Client`] is built from, as [`Client::config`] shows it; read
/// through its methods. Its `Debug` output hides credentials.
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) connect_string: ConnectString,
    pub(crate) session_timeout: Duration,
    pub(crate) connection_timeout: Duration,
    pub(crate) retry_policy: Arc<dyn RetryPolicy>,
    pub(crate) namespace: Option<String>,
    pub(crate) can_be_read_only: bool,
    pub(crate) error_policy: ConnectionStateErrorPolicy,
    pub(crate) auth: Vec<(String, Bytes)>,
    pub(crate) max_frame_len: usize,
    pub(crate) acl_provider: Arc<dyn AclProvider>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsConfig>,
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub(crate) sasl: Option<crate::sasl::SaslConfig>,
}

impl ClientConfig {
    /// The servers and optional chroot.
    pub fn connect_string(&self) -> &ConnectString {
        &self.connect_string
    }

    /// The session timeout asked of the server (the server may grant another:
    /// [`Session::negotiated_timeout`](crate::Session::negotiated_timeout)).
    pub fn session_timeout(&self) -> Duration {
        self.session_timeout
    }

    /// How long an operation waits for a connection before it fails with ConnectionLoss.
    pub fn connection_timeout(&self) -> Duration {
        self.connection_timeout
    }

    /// The retry policy wrapped around every operation.
    pub fn retry_policy(&self) -> &Arc<dyn RetryPolicy> {
        &self.retry_policy
    }

    /// The namespace every path is relative to, without its leading `/` (Curator's form).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Whether read-only servers are accepted.
    pub fn can_be_read_only(&self) -> bool {
        self.can_be_read_only
    }

    /// Which connection states recipes treat as errors.
    pub fn error_policy(&self) -> ConnectionStateErrorPolicy {
        self.error_policy
    }

    /// The schemes of the credentials sent on every connection (the secrets stay hidden).
    pub fn auth_schemes(&self) -> impl Iterator<Item = &str> {
        self.auth.iter().map(|(scheme, _)| scheme.as_str())
    }

    /// The largest frame accepted or sent.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// What chooses the ACL of a node created without one.
    pub fn acl_provider(&self) -> &Arc<dyn AclProvider> {
        &self.acl_provider
    }

    /// The TLS settings, when the client connects over TLS.
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&crate::tls::TlsConfig> {
        self.tls.as_ref()
    }

    /// The SASL login, when the client logs in with one (its password stays hidden).
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub fn sasl(&self) -> Option<&crate::sasl::SaslConfig> {
        self.sasl.as_ref()
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("ClientConfig");
        f.field("connect_string", &self.connect_string)
            .field("session_timeout", &self.session_timeout)
            .field("connection_timeout", &self.connection_timeout)
            .field("retry_policy", &self.retry_policy)
            .field("namespace", &self.namespace)
            .field("can_be_read_only", &self.can_be_read_only)
            .field("error_policy", &self.error_policy)
            .field("auth", &crate::redact::RedactedAuth(&self.auth))
            .field("max_frame_len", &self.max_frame_len)
            .field("acl_provider", &self.acl_provider);
        #[cfg(feature = "tls")]
        f.field("tls", &self.tls);
        #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
        f.field("sasl", &self.sasl);
        f.finish()
    }
}

impl ClientConfig {
    /// The session configuration each new session is started with.
    pub(crate) fn session_config(&self) -> SessionConfig {
        let mut c = SessionConfig::new(self.connect_string.clone(), self.session_timeout)
            .with_read_only(self.can_be_read_only)
            .with_max_frame_len(self.max_frame_len);
        c.auth.clone_from(&self.auth);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            c = c.with_tls(tls.clone());
        }
        #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
        if let Some(sasl) = &self.sasl {
            c = c.with_sasl(sasl.clone());
        }
        c
    }
}

/// Builds a [`Client`].
///
/// ```no_run
/// # async fn demo() -> zk_core::Result<()> {
/// use std::time::Duration;
/// use zk_core::Client;
/// use zk_retry::ExponentialBackoffRetry;
///
/// let client = Client::builder()
///     .connect_string("127.0.0.1:2181,127.0.0.1:2182/myapp")
///     .session_timeout(Duration::from_secs(60))
///     .connection_timeout(Duration::from_secs(15))
///     .retry_policy(ExponentialBackoffRetry::new(Duration::from_millis(1000), 3))
///     .build()?;
/// client.block_until_connected(Duration::from_secs(15)).await?;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    connect_string: Option<String>,
    session_timeout: Duration,
    connection_timeout: Duration,
    retry_policy: Arc<dyn RetryPolicy>,
    namespace: Option<String>,
    can_be_read_only: bool,
    error_policy: ConnectionStateErrorPolicy,
    auth: Vec<(String, Bytes)>,
    max_frame_len: usize,
    acl_provider: Arc<dyn AclProvider>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::TlsConfig>,
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    sasl: Option<crate::sasl::SaslConfig>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("connect_string", &self.connect_string)
            .field("session_timeout", &self.session_timeout)
            .field("connection_timeout", &self.connection_timeout)
            .field("namespace", &self.namespace)
            .field("auth", &crate::redact::RedactedAuth(&self.auth))
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            connect_string: None,
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            retry_policy: Arc::new(ExponentialBackoffRetry::new(Duration::from_millis(1000), 3)),
            namespace: None,
            can_be_read_only: false,
            error_policy: ConnectionStateErrorPolicy::Standard,
            auth: Vec::new(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            acl_provider: Arc::new(DefaultAclProvider),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
            sasl: None,
        }
    }
}

impl ClientBuilder {
    /// The servers, `host:port[,host:port...][/chroot]`. Required.
    pub fn connect_string(mut self, s: impl Into<String>) -> Self {
        self.connect_string = Some(s.into());
        self
    }

    /// The session timeout to ask for (default 60 s). `build()` refuses zero and
    /// anything over [`MAX_SESSION_TIMEOUT`](crate::session::config::MAX_SESSION_TIMEOUT),
    /// the most the protocol can carry; the server negotiates it within its own bounds.
    pub fn session_timeout(mut self, d: Duration) -> Self {
        self.session_timeout = d;
        self
    }

    /// How long an operation waits for a connection (default 15 s). Must be
    /// positive; a very long one (even `Duration::MAX`) means "wait as long as it takes".
    pub fn connection_timeout(mut self, d: Duration) -> Self {
        self.connection_timeout = d;
        self
    }

    /// The retry policy for every operation (default: exponential backoff from 1 s, 3 retries).
    pub fn retry_policy(mut self, p: impl RetryPolicy) -> Self {
        self.retry_policy = Arc::new(p);
        self
    }

    /// The retry policy, already shared.
    pub fn retry_policy_arc(mut self, p: Arc<dyn RetryPolicy>) -> Self {
        self.retry_policy = p;
        self
    }

    /// A namespace: every path is relative to `/namespace`. Written without the
    /// leading slash, as in Curator (`"myapp"` or `"myapp/sub"`).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }

    /// Allow connecting to read-only servers (the `ReadOnly` state).
    pub fn can_be_read_only(mut self, yes: bool) -> Self {
        self.can_be_read_only = yes;
        self
    }

    /// Which connection states recipes treat as errors (default: Standard).
    pub fn connection_state_error_policy(mut self, p: ConnectionStateErrorPolicy) -> Self {
        self.error_policy = p;
        self
    }

    /// Credentials sent on every connection, e.g. `("digest", b"user:secret")`.
    pub fn authorization(mut self, scheme: impl Into<String>, auth: impl AsRef<[u8]>) -> Self {
        self.auth
            .push((scheme.into(), Bytes::copy_from_slice(auth.as_ref())));
        self
    }

    /// The frame limit (ZooKeeper's `jute.maxbuffer`; default 0xfffff).
    pub fn max_frame_len(mut self, n: usize) -> Self {
        self.max_frame_len = n;
        self
    }

    /// What chooses the ACL of a node created without one (Curator's `ACLProvider`;
    /// default [`DefaultAclProvider`], open to everyone): asked for every create that
    /// sets no ACL, for each parent `create_parents` makes, for the namespace node and
    /// for a transaction's creates. Recipes create through the client, so their nodes
    /// follow it too.
    pub fn acl_provider(mut self, provider: impl AclProvider + 'static) -> Self {
        self.acl_provider = Arc::new(provider);
        self
    }

    /// Connects to the servers over TLS (cargo feature `tls`). Each host of the connect
    /// string is verified under its own name as written there (give servers reached by
    /// IP address certificates with that IP). A handshake failure moves on to the next
    /// host; when every host has failed TLS in a row, the client gives up: the state goes
    /// to LOST, no new session is started, and operations (and
    /// [`block_until_connected`](Client::block_until_connected)) fail with
    /// [`Error::Tls`], which says which host and what did not verify. See
    /// [`SessionConfig::with_tls`].
    ///
    /// ```no_run
    /// # fn demo(ca_pem: &str) -> zk_core::Result<()> {
    /// use zk_core::{Client, TlsConfig};
    ///
    /// let client = Client::builder()
    ///     .connect_string("zk1.example.com:2281")
    ///     .tls(TlsConfig::builder().ca_pem(ca_pem).build()?)
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Logs in with SASL (cargo feature `sasl-digest-md5` or `sasl-gssapi`) on every new
    /// connection of every session, before any other request. A refused login ends the client
    /// as a refused `addauth` does: the state goes to LOST, no new session is started, and
    /// operations (and [`block_until_connected`](Client::block_until_connected)) fail with
    /// [`Error::AuthFailed`]. See [`SessionConfig::with_sasl`].
    ///
    /// ```no_run
    /// # fn demo() -> zk_core::Result<()> {
    /// use zk_core::{Client, SaslConfig};
    ///
    /// let client = Client::builder()
    ///     .connect_string("127.0.0.1:2181")
    ///     .sasl(SaslConfig::digest_md5("alice", "alice-secret"))
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
    pub fn sasl(mut self, sasl: crate::sasl::SaslConfig) -> Self {
        self.sasl = Some(sasl);
        self
    }

    /// Checks the settings and starts the client; it connects in the background.
    /// Must be called inside a tokio runtime.
    pub fn build(self) -> Result<Client> {
        let cs = self
            .connect_string
            .ok_or_else(|| Error::InvalidArgument("connect_string is required".into()))?;
        let connect_string: ConnectString = cs.parse()?;
        let namespace = match self.namespace {
            None => None,
            Some(ns) if ns.is_empty() || ns == "/" => None,
            Some(ns) => {
                let ns = ns.trim_start_matches('/').to_string();
                path::validate_path(&format!("/{ns}"), false)?;
                Some(ns)
            }
        };
        crate::session::config::check_session_timeout(self.session_timeout)?;
        if self.connection_timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "the connection timeout must be positive".into(),
            ));
        }
        if self.session_timeout < self.connection_timeout {
            tracing::warn!(
                session_timeout = ?self.session_timeout,
                connection_timeout = ?self.connection_timeout,
                "session timeout is shorter than the connection timeout"
            );
        }
        Ok(Client::start(ClientConfig {
            connect_string,
            session_timeout: self.session_timeout,
            connection_timeout: self.connection_timeout,
            retry_policy: self.retry_policy,
            namespace,
            can_be_read_only: self.can_be_read_only,
            error_policy: self.error_policy,
            auth: self.auth,
            max_frame_len: self.max_frame_len,
            acl_provider: self.acl_provider,
            #[cfg(feature = "tls")]
            tls: self.tls,
            #[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
            sasl: self.sasl,
        }))
    }
}
