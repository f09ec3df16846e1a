//! The framework layer, what Curator's framework is to Java: [`Client`] with its
//! builder, connection states, retries around every operation, protected creates,
//! guaranteed deletes, idempotent writes, namespaces and transactions.
//!
//! - `builder`: [`ClientBuilder`] and [`ClientConfig`], with Curator's defaults.
//! - `acl_provider`: [`AclProvider`], the ACL of nodes created without one.
//! - `client`: [`Client`], the connection manager and the retry wrapper.
//! - `state`: [`ConnectionState`] and [`ConnectionStateErrorPolicy`].
//! - `namespace`: the namespace prefix.
//! - [`ops`]: one builder per operation.

mod acl_provider;
mod builder;
mod client;
mod namespace;
pub mod ops;
mod state;

pub use acl_provider::{AclProvider, DefaultAclProvider, FixedAclProvider};
pub use builder::{
    ClientBuilder, ClientConfig, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_SESSION_TIMEOUT,
};
pub use client::{Client, ConnectionStates};
pub use ops::protected::{
    PROTECTED_PREFIX, protected_prefix, protection_prefix_of, strip_protected_prefix,
};
pub use ops::watch::{WatchStream, Watcher};
pub use state::{ConnectionState, ConnectionStateErrorPolicy};
