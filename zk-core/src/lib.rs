//! zk-core: a native async ZooKeeper client on tokio, and above it the framework
//! [`Client`] that most programs use.
//!
//! Start with [`Client`]: it owns a succession of sessions (a new one after
//! expiry), reports Curator's connection states ([`ConnectionState`]), and runs every
//! operation inside a retry policy, with protected creates, guaranteed deletes and
//! idempotent writes.
//!
//! ```no_run
//! # async fn demo() -> zk_core::Result<()> {
//! use std::time::Duration;
//! use zk_core::{Client, CreateMode};
//!
//! let client = Client::builder()
//!     .connect_string("127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183")
//!     .namespace("myapp")
//!     .build()?;
//! client.block_until_connected(Duration::from_secs(15)).await?;
//! let path = client
//!     .create("/workers/w-", b"payload")
//!     .mode(CreateMode::EphemeralSequential)
//!     .protected()
//!     .create_parents()
//!     .await?;
//! let (data, stat, changed) = client.get_data(&path).watched().await?;
//! let event = changed.await?; // the next change, or Err when the session ends
//! # let _ = (data, stat, event);
//! # Ok(()) }
//! ```
//!
//! The map of the crate, top layer first:
//! - [`framework`]: the [`Client`], its builder and connection states, the
//!   operation builders (`framework::ops`, one file per operation), namespaces.
//! - [`session`]: one ZooKeeper session, like the Java client's handle: a task owns
//!   the socket, [`Session`] handles send it requests; connect strings, hosts,
//!   pings, xid matching, watch re-registration, chroot, auth. Use it directly only
//!   to manage sessions yourself (the framework builds on it).
//! - [`watch`]: one-shot watches as futures, persistent watches as streams (the
//!   session layer's; the framework wraps them as [`Watcher`] and [`WatchStream`]).
//! - `proto` (internal, hidden): the wire protocol (jute records, opcodes, error
//!   codes, framing). Pure, no I/O. Its user-facing types are re-exported here, and
//!   [`path`] holds the path rules and helpers.
//! - [`error`]: the one [`Error`] type, with [`Error::code`] and [`Error::is_retryable`].
//! - `tls` (cargo feature `tls`): `TlsConfig`, what a client trusts and shows when
//!   it connects over TLS (rustls, with the ring provider), and the handshake.
//! - `sasl` (cargo features `sasl-digest-md5`, `sasl-gssapi`): `SaslConfig`, the SASL
//!   login every new connection runs after the handshake: DIGEST-MD5 (RFC 2831) written
//!   here, GSSAPI (Kerberos, RFC 4752) on the system's GSS-API library.

pub mod error;
pub mod framework;
mod lock;
#[doc(hidden)]
pub mod proto;
mod redact;
#[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
mod sasl;
pub mod session;
mod time;
#[cfg(feature = "tls")]
mod tls;
pub mod watch;

pub use error::{Disconnect, Error, Result, TlsError, TlsErrorKind};
pub use framework::{
    AclProvider, Client, ClientBuilder, ConnectionState, ConnectionStateErrorPolicy,
    ConnectionStates, DefaultAclProvider, FixedAclProvider, WatchStream, Watcher,
};
pub use proto::ops::{ClientInfo, MultiOp, OpResult};
pub use proto::path;
pub use proto::{
    Acl, AddWatchMode, Code, CreateMode, EventType, Id, KeeperState, Perms, Stat, WatcherType,
    digest_id,
};
#[cfg(any(feature = "sasl-digest-md5", feature = "sasl-gssapi"))]
pub use sasl::SaslConfig;
pub use session::{
    ConnectString, Session, SessionConfig, SessionEvent, SessionEvents, SessionState,
};
#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsConfigBuilder};
pub use watch::{OneshotWatch, PersistentWatch, WatchCounts, WatchedEvent};
