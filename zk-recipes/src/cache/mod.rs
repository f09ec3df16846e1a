//! Caches: local copies of part of the ZooKeeper tree, kept up to date by watches and
//! reported as events, so that readers need no round trip and learn about changes.
//!
//! What Curator's `cache` package is to Java, with the same four shapes:
//!
//! - [`PathChildrenCache`]: the children of one node (Curator's `PathChildrenCache`).
//! - [`NodeCache`]: one node (Curator's `NodeCache`).
//! - [`TreeCache`]: a whole subtree, down to a depth limit (Curator's `TreeCache`).
//! - [`CuratorCache`]: a subtree followed by one persistent recursive watch instead of
//!   a watch per node (Curator 5's `CuratorCache`; needs ZooKeeper 3.6 or later).
//!
//! Why they are built the way they are:
//!
//! - One background task per cache does every read and sends every event, one thing
//!   at a time, so events come in the order the cache changed and the cache is never
//!   written from two places. The task is owned by the cache: `close()` and dropping
//!   the cache stop it.
//! - Events go to any number of subscribers ([`CacheEvents`] streams), each from the
//!   moment it subscribed; none is dropped.
//! - A watch that fires is answered by reading the node again and comparing with
//!   the cache: only real differences become events, so a change seen twice (by a
//!   watch and by a re-read) is reported once.
//! - After a reconnect on the same session, the caches with a watch per node read
//!   only what their watches report: the client re-sets every watch (SetWatches) and
//!   the server fires each one whose node changed while the client was away, so
//!   nothing is missed and a quiet tree costs no reads (no read storm). The
//!   [`CuratorCache`]'s persistent watch is re-set without such a replay, so it reads
//!   its tree again.
//! - On the new session after the old one was lost (when every watch of the old
//!   session is gone), the cache reads everything again, many reads in flight at
//!   once, and reports exactly the differences: a node that left is removed once, a
//!   node that stayed the same produces nothing.
//! - A node deleted and created again under the same path is a different node
//!   (another creation zxid): it is reported as removed, then added.

pub(crate) mod bulk_read;
mod child_data;
mod curator_cache;
mod driver;
pub(crate) mod ensure_path;
mod error;
mod events;
mod node_cache;
mod path_children;
mod resync;
mod tree_cache;
mod watch_set;
mod worker_loop;

pub use child_data::ChildData;
pub use curator_cache::{CuratorCache, CuratorCacheBuilder, CuratorCacheEvent};
pub use error::CacheError;
pub use events::CacheEvents;
pub use node_cache::{NodeCache, NodeCacheEvent};
pub use path_children::{
    PathChildrenCache, PathChildrenCacheBuilder, PathChildrenCacheEvent, StartMode,
};
pub use tree_cache::{TreeCache, TreeCacheBuilder, TreeCacheEvent};
