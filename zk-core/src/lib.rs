//! zk-core: a native async ZooKeeper client on tokio, and above it the framework
//! `Client`.
//!
//! The map of the crate:
//! - [`proto`]: the wire protocol (jute records, opcodes, error codes, framing,
//!   path rules). Pure, no I/O.
//! - [`session`]: one ZooKeeper session, like the Java client's handle: a task owns
//!   the socket, [`Session`] handles send it requests; connect strings, hosts,
//!   pings, xid matching, watch re-registration, chroot, auth.
//! - [`watch`]: one-shot watches as futures, persistent watches as streams.
//! - [`error`]: the one [`Error`] type, with [`Error::code`] and [`Error::is_retryable`].
//!
//! ```no_run
//! # async fn demo() -> zk_core::Result<()> {
//! use std::time::Duration;
//! use zk_core::{Acl, CreateMode, Session};
//!
//! let session = Session::connect("127.0.0.1:2181/app", Duration::from_secs(30))?;
//! session.wait_connected(Duration::from_secs(15)).await?;
//! let (path, _stat) = session
//!     .create("/workers", b"", &[Acl::open_unsafe()], CreateMode::Persistent)
//!     .await?;
//! let (data, stat, changed) = session.get_data_watched(&path).await?;
//! let event = changed.await; // fires on the next change, or when the session ends
//! # let _ = (data, stat, event);
//! # Ok(()) }
//! ```

pub mod error;
pub mod framework;
pub mod proto;
mod redact;
pub mod session;
mod time;
pub mod watch;

pub use error::{Disconnect, Error, Result};
pub use framework::{
    Client, ClientBuilder, ConnectionState, ConnectionStateErrorPolicy, ConnectionStates,
};
pub use proto::ops::{MultiOp, OpResult};
pub use proto::{
    Acl, AddWatchMode, Code, CreateMode, EventType, Id, KeeperState, Perms, Stat, WatcherType,
};
pub use session::{
    ConnectString, Session, SessionConfig, SessionEvent, SessionEvents, SessionState,
};
pub use watch::{OneshotWatch, PersistentWatch, WatchedEvent};
