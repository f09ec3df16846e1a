//! The one error type of zk-core: a server [`Code`] or a local failure.

use std::sync::Arc;

use crate::proto::frame::FrameError;
use crate::proto::ops::OpResult;
use crate::proto::path::PathError;
use crate::proto::{Code, DecodeError};
use crate::session::connect_string::ConnectStringError;

/// Why a connection was dropped. Carried by [`Error::ConnectionLoss`] and by the
/// session's `Disconnected` event, so a corrupt frame or a stalled server is
/// visible as what it was.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Disconnect {
    /// The socket failed or was closed by the server.
    #[error("i/o error: {0}")]
    Io(Arc<std::io::Error>),
    /// The server closed the connection.
    #[error("server closed the connection")]
    Eof,
    /// Nothing was received within the read timeout.
    #[error("no reply within the read timeout of {0:?}")]
    ReadTimeout(std::time::Duration),
    /// A frame header was refused.
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    /// A record in a frame could not be decoded.
    #[error("malformed reply: {0}")]
    Decode(#[from] DecodeError),
    /// A reply answered a request other than the oldest one in flight.
    #[error("reply xid {got} out of order (expected {expected:?})")]
    UnexpectedXid {
        /// The xid of the oldest request in flight, if any.
        expected: Option<i32>,
        /// The xid the server sent.
        got: i32,
    },
    /// A ping was answered while a request written before it was still waiting. The
    /// server answers a session's requests and pings in the order it read them, so
    /// that request's reply was lost on the way (a middlebox that dropped bytes and
    /// went on): only a new connection can settle what it did, and pings alone would
    /// keep the broken connection up for good.
    #[error("the reply to xid {xid} was lost: a ping sent after it was answered first")]
    ReplyLost {
        /// The xid of the oldest request in flight, which the lost reply answered.
        xid: i32,
    },
    /// No server could be reached, or none answered the handshake, in time.
    #[error("could not connect: {0}")]
    ConnectFailed(String),
    /// The connection was not yet established when the operation was issued, and the
    /// attempt to establish it failed.
    #[error("not connected")]
    NotConnected,
    /// The TLS handshake with one server failed: its certificate did not verify, or the
    /// server refused ours. The session tries the next server; when every server of the
    /// connect string has failed this way in a row, the session ends with [`Error::Tls`].
    #[error("{0}")]
    Tls(TlsError),
}

/// What went wrong in a TLS handshake (cargo feature `tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The server's certificate is not signed by a trusted CA (or its signature is bad).
    UntrustedCertificate,
    /// The server's certificate is not valid for the host name (or IP address) the client
    /// connected to.
    HostnameMismatch,
    /// The server's certificate has expired or is not valid yet.
    CertificateNotValidNow,
    /// Another problem with the server's certificate (a bad encoding, a wrong purpose, ...).
    InvalidCertificate,
    /// The server ended the handshake with an alert: for instance it refused the client's
    /// certificate, or asked for one the client did not have (`ssl.clientAuth=need`).
    RefusedByServer,
    /// Any other failure of the TLS protocol (no common version or cipher, a peer that
    /// does not speak TLS, ...).
    Protocol,
}

/// A TLS handshake that failed with one server: which server, what went wrong, and the TLS
/// library's own words for it (e.g. `invalid peer certificate: UnknownIssuer`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS with {host} failed ({kind:?}): {reason}")]
#[non_exhaustive]
pub struct TlsError {
    /// The server, as written in the connect string (`host:port`).
    pub host: String,
    /// What went wrong.
    pub kind: TlsErrorKind,
    /// What the TLS library said.
    pub reason: String,
}

impl TlsError {
    /// A TLS failure with `host`.
    pub fn new(host: impl Into<String>, kind: TlsErrorKind, reason: impl Into<String>) -> Self {
        TlsError {
            host: host.into(),
            kind,
            reason: reason.into(),
        }
    }
}

/// An error from a ZooKeeper operation.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the operation with this code.
    #[error("{code}{}", path.as_deref().map(|p| format!(" for {p}")).unwrap_or_default())]
    Server {
        /// The server's result code.
        code: Code,
        /// The path the operation named, if it named one.
        path: Option<String>,
    },
    /// The connection dropped while the operation was in flight, or before it could be
    /// sent: its outcome is unknown.
    #[error("connection loss: {0}")]
    ConnectionLoss(Disconnect),
    /// The session has expired; every ephemeral node and watch of it is gone.
    #[error("session expired")]
    SessionExpired,
    /// Authentication failed; the session is unusable.
    #[error("authentication failed")]
    AuthFailed,
    /// TLS failed with every server of the connect string in a row (a certificate that
    /// does not verify, a client certificate the servers refuse): the session ended, and
    /// the framework `Client` gives up (connection state LOST, no new session), since
    /// trying again cannot fix a configuration. Not retryable. This error names the last
    /// server tried and what went wrong with it; each failure is also logged at `warn`.
    #[error("{0}")]
    Tls(TlsError),
    /// The session or client was closed by its owner.
    #[error("closed")]
    Closed,
    /// The session's background task ended without closing the session: a bug in
    /// this library (it panicked). The session is unusable; the framework `Client`
    /// replaces it with a new one, as after expiry.
    #[error("the session's task ended unexpectedly")]
    SessionFailed,
    /// The path is not a valid ZooKeeper path.
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    /// The data is larger than the server accepts.
    #[error("data of {len} bytes exceeds the limit of {max} bytes")]
    DataTooLarge {
        /// The length given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An ACL is unusable before anything is sent: a node needs at least one
    /// entry. (An ACL the server refuses is [`Error::Server`] with
    /// [`Code::InvalidAcl`].)
    #[error("invalid ACL: {0}")]
    InvalidAcl(String),
    /// An ACL whose encoding alone exceeds what one request may carry.
    #[error("an ACL of {entries} entries takes {len} bytes, over the limit of {max} bytes")]
    AclTooLarge {
        /// How many entries it has.
        entries: usize,
        /// Its encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A request whose parts each fit but which together exceeds the frame limit
    /// (a transaction of many operations, say).
    #[error("a request of {len} bytes exceeds the frame limit of {max} bytes")]
    RequestTooLarge {
        /// The encoded request's length.
        len: usize,
        /// The frame limit.
        max: usize,
    },
    /// A reply was larger than the client's frame limit: it was read past and
    /// discarded, and this request failed; the connection and the session go on.
    /// Trying again gets the same reply, so it is not retryable: raise the limit
    /// (the client's max frame length, and the server's `jute.maxbuffer` if the
    /// server refuses to send it) or ask for less (fewer children under one node).
    #[error(
        "a reply of {len} bytes exceeds the client's frame limit of {limit} bytes; raise the \
         client's max frame length (SessionConfig::with_max_frame_len, \
         ClientBuilder::max_frame_len) and, if the server refuses to send it, the server's \
         jute.maxbuffer"
    )]
    ReplyTooLarge {
        /// The reply's length as the server announced it.
        len: usize,
        /// The client's frame limit.
        limit: usize,
    },
    /// The connect string is malformed.
    #[error("invalid connect string: {0}")]
    InvalidConnectString(#[from] ConnectStringError),
    /// An argument is invalid for a reason other than the path.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A reply's body could not be decoded.
    #[error("malformed reply: {0}")]
    MalformedReply(#[from] DecodeError),
    /// A transaction failed at operation `index` with `code`; nothing was applied.
    /// `results` holds every operation's result as the server reported it.
    #[error("transaction failed at operation {index}: {code}")]
    Transaction {
        /// The position of the first failing operation.
        index: usize,
        /// Why it failed.
        code: Code,
        /// Every operation's result.
        results: Vec<OpResult>,
    },
    /// No connection could be had within the connection timeout.
    #[error("not connected within {0:?}")]
    ConnectionTimeout(std::time::Duration),
}

impl Error {
    /// The ZooKeeper code this error stands for, or `None` for a purely local error
    /// (a bad path, a closed client, ...).
    pub fn code(&self) -> Option<Code> {
        match self {
            Error::Server { code, .. } | Error::Transaction { code, .. } => Some(*code),
            Error::ConnectionLoss(_) | Error::ConnectionTimeout(_) => Some(Code::ConnectionLoss),
            Error::SessionExpired => Some(Code::SessionExpired),
            Error::AuthFailed => Some(Code::AuthFailed),
            Error::MalformedReply(_) | Error::ReplyTooLarge { .. } => Some(Code::MarshallingError),
            Error::InvalidPath(_)
            | Error::DataTooLarge { .. }
            | Error::AclTooLarge { .. }
            | Error::RequestTooLarge { .. }
            | Error::InvalidArgument(_) => Some(Code::BadArguments),
            Error::InvalidAcl(_) => Some(Code::InvalidAcl),
            Error::Closed
            | Error::SessionFailed
            | Error::Tls(_)
            | Error::InvalidConnectString(_) => None,
        }
    }

    /// Whether the operation may be tried again: only ConnectionLoss,
    /// OperationTimeout, SessionMoved and SessionExpired are retryable.
    pub fn is_retryable(&self) -> bool {
        self.code().is_some_and(Code::is_retryable)
    }

    /// A server error with `code` for `path`.
    pub fn server(code: Code, path: impl Into<Option<String>>) -> Self {
        match code {
            Code::SessionExpired => Error::SessionExpired,
            Code::AuthFailed => Error::AuthFailed,
            code => Error::Server {
                code,
                path: path.into(),
            },
        }
    }
}

impl zk_retry::RetryableError for Error {
    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }

    fn is_session_expired(&self) -> bool {
        matches!(self, Error::SessionExpired)
    }
}

/// The result of a zk-core operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_connection_codes_are_retryable() {
        assert!(Error::ConnectionLoss(Disconnect::Eof).is_retryable());
        assert!(Error::SessionExpired.is_retryable());
        assert!(Error::server(Code::OperationTimeout, None).is_retryable());
        assert!(Error::server(Code::SessionMoved, None).is_retryable());
        for code in [
            Code::NoNode,
            Code::NodeExists,
            Code::BadVersion,
            Code::NotEmpty,
            Code::NoAuth,
        ] {
            assert!(
                !Error::server(code, Some("/a".into())).is_retryable(),
                "{code}"
            );
        }
        assert!(!Error::Closed.is_retryable());
        let tls = TlsError::new("127.0.0.1:2281", TlsErrorKind::UntrustedCertificate, "x");
        assert!(!Error::Tls(tls.clone()).is_retryable());
        assert_eq!(Error::Tls(tls.clone()).code(), None);
        // One attempt's failure, while other servers are still to be tried, is a
        // connection loss like any other.
        assert!(Error::ConnectionLoss(Disconnect::Tls(tls)).is_retryable());
        assert!(!Error::DataTooLarge { len: 2, max: 1 }.is_retryable());
        let too_large = Error::ReplyTooLarge {
            len: 2_000_000,
            limit: 65_536,
        };
        assert!(!too_large.is_retryable());
        let message = too_large.to_string();
        for part in ["65536", "max frame length", "jute.maxbuffer"] {
            assert!(message.contains(part), "{message} names {part}");
        }
    }

    #[test]
    fn server_errors_name_their_path() {
        let e = Error::server(Code::NoNode, Some("/x".into()));
        assert_eq!(e.to_string(), "NoNode for /x");
        assert_eq!(e.code(), Some(Code::NoNode));
    }
}
