//! What a [`PathChildrenCache`](super::PathChildrenCache) reports.

use crate::cache::ChildData;

/// A change of the watched node's children, or of the connection. Curator's
/// `PathChildrenCacheEvent` types, one variant each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathChildrenCacheEvent {
    /// A child appeared (or was seen for the first time).
    ChildAdded(ChildData),
    /// A child's data changed; carries the new data and stat.
    ChildUpdated(ChildData),
    /// A child went away; carries what the cache last held for it.
    ChildRemoved(ChildData),
    /// The connection dropped; the cache may be stale until it is back.
    ConnectionSuspended,
    /// The connection is back (on the same session, or on a new one after
    /// [`ConnectionLost`](Self::ConnectionLost)); the differences found by the full
    /// re-read that follows are reported as child events after this one.
    ConnectionReconnected,
    /// The session was lost; the cache keeps its contents and re-reads everything
    /// once a new session connects.
    ConnectionLost,
    /// Only with [`StartMode::PostInitializedEvent`](super::StartMode::PostInitializedEvent):
    /// the first complete load is done (after a `ChildAdded` for each child found);
    /// carries the children then cached, sorted by path.
    Initialized(Vec<ChildData>),
}
