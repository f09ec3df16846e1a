//! Session events and states, as the Java client's default watcher sees them.

use crate::error::{Disconnect, TlsError};

/// Something that happened to the session as a whole.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent {
    /// The connection dropped; the session may still be alive and the client is
    /// trying the servers in turn.
    Disconnected(Disconnect),
    /// Connected (or reconnected) to a server with a read-write session.
    SyncConnected,
    /// Connected to a read-only server (only when read-only mode was asked for).
    ConnectedReadOnly,
    /// The server said the session expired. Terminal.
    Expired,
    /// Authentication failed. Terminal.
    AuthFailed,
    /// TLS failed with every server of the connect string in a row; this is the last
    /// failure. Terminal: operations then fail with [`Error::Tls`](crate::Error::Tls).
    TlsFailed(TlsError),
    /// The session was closed by its owner. Terminal.
    Closed,
    /// The session's task ended without closing the session (a bug in this
    /// library: it panicked). Every pending and later operation fails with
    /// [`Error::SessionFailed`](crate::Error::SessionFailed). Terminal.
    Failed,
}

impl SessionEvent {
    /// Whether no event can follow this one.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            SessionEvent::Expired
                | SessionEvent::AuthFailed
                | SessionEvent::TlsFailed(_)
                | SessionEvent::Closed
                | SessionEvent::Failed
        )
    }
}

/// Where a session stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// Looking for a server (before the first connection, or after a disconnect).
    Connecting,
    /// Connected with a read-write session.
    Connected,
    /// Connected to a read-only server.
    ConnectedReadOnly,
    /// Expired. Terminal.
    Expired,
    /// Authentication failed. Terminal.
    AuthFailed,
    /// TLS failed with every server in a row. Terminal.
    TlsFailed,
    /// Closed by its owner. Terminal.
    Closed,
    /// The session's task ended unexpectedly. Terminal.
    Failed,
}

impl SessionState {
    /// Whether the session can serve requests now.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            SessionState::Connected | SessionState::ConnectedReadOnly
        )
    }

    /// Whether the session has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionState::Expired
                | SessionState::AuthFailed
                | SessionState::TlsFailed
                | SessionState::Closed
                | SessionState::Failed
        )
    }

    /// The error an operation gets on a session in this terminal state. `TlsFailed` has
    /// none here: its error carries the failure, which the session keeps
    /// (`Shared::terminal_error`).
    pub(crate) fn terminal_error(self) -> Option<crate::Error> {
        match self {
            SessionState::Expired => Some(crate::Error::SessionExpired),
            SessionState::AuthFailed => Some(crate::Error::AuthFailed),
            SessionState::Closed => Some(crate::Error::Closed),
            SessionState::Failed => Some(crate::Error::SessionFailed),
            _ => None,
        }
    }
}
