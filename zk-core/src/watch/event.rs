//! What a watch delivers.

use crate::proto::{EventType, KeeperState};

/// A change seen by a watch, or the end of the session that held it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// What happened to the node (`EventType::None` for a session-level event).
    pub event_type: EventType,
    /// The session's state when the event was sent.
    pub keeper_state: KeeperState,
    /// The node's path as the client sees it (chroot removed).
    pub path: String,
}

impl WatchedEvent {
    /// The event that ends every watch of a session that expired or closed.
    pub(crate) fn session_end(state: KeeperState, path: &str) -> Self {
        WatchedEvent {
            event_type: EventType::None,
            keeper_state: state,
            path: path.to_string(),
        }
    }

    /// Whether this event says the session ended (expired, closed or failed
    /// authentication) rather than that the node changed. No event follows it.
    pub fn is_session_end(&self) -> bool {
        self.event_type == EventType::None
            && matches!(
                self.keeper_state,
                KeeperState::Expired | KeeperState::Closed | KeeperState::AuthFailed
            )
    }
}
