//! Connection states as Curator 5 reports them, and the error policies that say
//! which of them a recipe must treat as losing what it holds.

/// The framework's view of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// The first successful connection. Sent once per client.
    Connected,
    /// The connection dropped; the session may still be alive.
    Suspended,
    /// Connected again after `Suspended` or `Lost` (possibly with a new session).
    Reconnected,
    /// The session is gone: the server expired it, or the session timeout passed
    /// while suspended. Ephemeral nodes and watches of that session are lost; the
    /// client builds a new session.
    Lost,
    /// Connected to a read-only server (only when the client allows it).
    ReadOnly,
}

impl ConnectionState {
    /// Whether the client can serve operations in this state.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            ConnectionState::Connected | ConnectionState::Reconnected | ConnectionState::ReadOnly
        )
    }
}

/// Which connection states count as errors for recipes that hold something
/// (leadership, a lock, a registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectionStateErrorPolicy {
    /// Curator's standard policy: `Suspended` and `Lost` are errors.
    #[default]
    Standard,
    /// Only `Lost` is an error: a recipe keeps what it holds while suspended,
    /// trusting the session to survive until the server says otherwise.
    SessionOnly,
}

impl ConnectionStateErrorPolicy {
    /// Whether `state` means the holder must give up what it holds.
    pub fn is_error_state(self, state: ConnectionState) -> bool {
        match self {
            ConnectionStateErrorPolicy::Standard => {
                matches!(state, ConnectionState::Suspended | ConnectionState::Lost)
            }
            ConnectionStateErrorPolicy::SessionOnly => state == ConnectionState::Lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_policy_counts_suspended_and_lost() {
        use ConnectionState::*;
        let p = ConnectionStateErrorPolicy::Standard;
        assert!(p.is_error_state(Suspended) && p.is_error_state(Lost));
        assert!(
            !p.is_error_state(Connected)
                && !p.is_error_state(Reconnected)
                && !p.is_error_state(ReadOnly)
        );
        let s = ConnectionStateErrorPolicy::SessionOnly;
        assert!(!s.is_error_state(Suspended) && s.is_error_state(Lost));
    }
}
