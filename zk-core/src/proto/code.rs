//! Server error codes (KeeperException.Code): the `err` field of a reply header.

/// A ZooKeeper result code. `Ok` is success; every other value names a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// Success.
    Ok,
    /// A server-side system error.
    SystemError,
    /// The server found its state inconsistent at run time.
    RuntimeInconsistency,
    /// The server found its data inconsistent.
    DataInconsistency,
    /// The connection to the server was lost; the operation's outcome is unknown.
    ConnectionLoss,
    /// A record could not be (de)serialized.
    MarshallingError,
    /// The operation is not implemented by the server.
    Unimplemented,
    /// The operation timed out.
    OperationTimeout,
    /// Invalid arguments.
    BadArguments,
    /// The session is not known to the server.
    UnknownSession,
    /// A reconfiguration has no quorum for its new config.
    NewConfigNoQuorum,
    /// A reconfiguration is already in progress.
    ReconfigInProgress,
    /// A generic API error.
    ApiError,
    /// The node does not exist.
    NoNode,
    /// Not authorized by the node's ACL.
    NoAuth,
    /// The node's version did not match the one given.
    BadVersion,
    /// Ephemeral nodes may not have children.
    NoChildrenForEphemerals,
    /// The node already exists.
    NodeExists,
    /// The node has children.
    NotEmpty,
    /// The session has expired.
    SessionExpired,
    /// An invalid callback was given.
    InvalidCallback,
    /// An invalid ACL was given.
    InvalidAcl,
    /// Authentication failed.
    AuthFailed,
    /// The session moved to another server.
    SessionMoved,
    /// A write was sent to a read-only server.
    NotReadOnly,
    /// An ephemeral node was asked for on a local session.
    EphemeralOnLocalSession,
    /// No such watcher to remove.
    NoWatcher,
    /// A request timed out waiting for the quorum.
    RequestTimeout,
    /// Reconfiguration is disabled.
    ReconfigDisabled,
    /// The session was closed and SASL auth is required.
    SessionClosedRequireSaslAuth,
    /// A hard quota was exceeded.
    QuotaExceeded,
    /// The server throttled the operation.
    Throttled,
    /// A code this client does not know.
    Unknown(i32),
}

const TABLE: &[(Code, i32)] = &[
    (Code::Ok, 0),
    (Code::SystemError, -1),
    (Code::RuntimeInconsistency, -2),
    (Code::DataInconsistency, -3),
    (Code::ConnectionLoss, -4),
    (Code::MarshallingError, -5),
    (Code::Unimplemented, -6),
    (Code::OperationTimeout, -7),
    (Code::BadArguments, -8),
    (Code::UnknownSession, -12),
    (Code::NewConfigNoQuorum, -13),
    (Code::ReconfigInProgress, -14),
    (Code::ApiError, -100),
    (Code::NoNode, -101),
    (Code::NoAuth, -102),
    (Code::BadVersion, -103),
    (Code::NoChildrenForEphemerals, -108),
    (Code::NodeExists, -110),
    (Code::NotEmpty, -111),
    (Code::SessionExpired, -112),
    (Code::InvalidCallback, -113),
    (Code::InvalidAcl, -114),
    (Code::AuthFailed, -115),
    (Code::SessionMoved, -118),
    (Code::NotReadOnly, -119),
    (Code::EphemeralOnLocalSession, -120),
    (Code::NoWatcher, -121),
    (Code::RequestTimeout, -122),
    (Code::ReconfigDisabled, -123),
    (Code::SessionClosedRequireSaslAuth, -124),
    (Code::QuotaExceeded, -125),
    (Code::Throttled, -127),
];

impl Code {
    /// The code for a wire value; unknown values are kept as [`Code::Unknown`].
    pub fn from_i32(v: i32) -> Code {
        TABLE
            .iter()
            .find(|(_, n)| *n == v)
            .map(|(c, _)| *c)
            .unwrap_or(Code::Unknown(v))
    }

    /// The wire value of this code.
    pub fn as_i32(self) -> i32 {
        if let Code::Unknown(v) = self {
            return v;
        }
        TABLE
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, n)| *n)
            .unwrap_or(i32::MIN)
    }

    /// Whether an operation that failed with this code may be tried again: only
    /// ConnectionLoss, OperationTimeout, SessionMoved and SessionExpired, as in Curator.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Code::ConnectionLoss
                | Code::OperationTimeout
                | Code::SessionMoved
                | Code::SessionExpired
        )
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Code::Unknown(v) => write!(f, "Unknown({v})"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips() {
        for (code, v) in TABLE {
            assert_eq!(Code::from_i32(*v), *code);
            assert_eq!(code.as_i32(), *v);
        }
        assert_eq!(Code::from_i32(-999), Code::Unknown(-999));
        assert_eq!(Code::Unknown(-999).as_i32(), -999);
    }

    #[test]
    fn only_connection_and_session_codes_are_retryable() {
        let retryable: Vec<Code> = TABLE
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| c.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            vec![
                Code::ConnectionLoss,
                Code::OperationTimeout,
                Code::SessionExpired,
                Code::SessionMoved
            ]
        );
    }
}
