//! The framework layer, what Curator's framework is to Java: [`Client`] with its
//! builder, connection states, retries around every operation, protected creates,
//! guaranteed deletes, idempotent writes, namespaces and transactions.

mod builder;
mod client;
mod namespace;
mod state;

pub use builder::{
    ClientBuilder, ClientConfig, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_SESSION_TIMEOUT,
};
pub use client::{Client, ConnectionStates};
pub use state::{ConnectionState, ConnectionStateErrorPolicy};
