//! Nodes that look after themselves.
//!
//! - [`PersistentNode`]: a node (usually ephemeral) that is created again after it is
//!   deleted, after its session expires and whenever a reconnection finds it missing.
//!
//! Internals: `keeper` is the background task, `ownership` decides what to do with a
//! node found at the path, `shared` is the state the handle and the task share.

mod error;
mod keeper;
mod ownership;
mod persistent_node;
mod shared;

pub use error::NodeError;
pub use persistent_node::{PersistentNode, PersistentNodeBuilder};

pub(crate) use shared::{DataHook, NodeOptions};
