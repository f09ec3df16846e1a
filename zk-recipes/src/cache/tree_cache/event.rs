//! What a [`TreeCache`](super::TreeCache) reports.

use crate::cache::ChildData;

/// A change in the cached subtree, or of the connection: Curator's `TreeCacheEvent`
/// types, one variant each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeCacheEvent {
    /// A node appeared in the subtree (or was seen for the first time). Parents are
    /// reported before their children.
    NodeAdded(ChildData),
    /// A node's data changed; carries the new data and stat.
    NodeUpdated(ChildData),
    /// A node left the subtree; carries what the cache last held for it. Children
    /// are reported before their parents.
    NodeRemoved(ChildData),
    /// The connection dropped; the cache may be stale until it is back.
    ConnectionSuspended,
    /// The connection is back; the differences found by the full re-read that
    /// follows are reported after this event.
    ConnectionReconnected,
    /// The session was lost; the cache keeps its contents and re-reads everything
    /// once a new session connects.
    ConnectionLost,
    /// The first complete load is done (after a `NodeAdded` for each node found).
    Initialized,
}
