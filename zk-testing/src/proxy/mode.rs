//! What a [`Proxy`](super::Proxy) does with bytes in each of its modes.

use std::fmt;

/// The behaviour of a [`Proxy`](super::Proxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyMode {
    /// Bytes flow both ways.
    Forward,
    /// No listener: new connections are refused and existing ones were closed.
    Cut,
    /// Connections are accepted, nothing is forwarded either way and nothing is closed: both
    /// sides stall with no error. Bytes already sent wait, and flow again after a heal.
    Blackhole,
    /// Requests reach the server; its replies are read and thrown away.
    DropReplies,
}

/// Which way bytes travel through a proxied connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Client to server.
    Request,
    /// Server to client.
    Reply,
}

impl ProxyMode {
    /// Whether a connection accepted in this mode should connect to the server now.
    pub(crate) fn connects_upstream(self) -> bool {
        matches!(self, ProxyMode::Forward | ProxyMode::DropReplies)
    }

    /// Whether bytes are read from either side (in a blackhole they wait in the kernel).
    pub(crate) fn reads(self) -> bool {
        matches!(self, ProxyMode::Forward | ProxyMode::DropReplies)
    }

    /// Whether bytes read in this direction are passed on (rather than thrown away).
    pub(crate) fn delivers(self, direction: Direction) -> bool {
        match self {
            ProxyMode::Forward => true,
            ProxyMode::DropReplies => direction == Direction::Request,
            ProxyMode::Cut | ProxyMode::Blackhole => false,
        }
    }
}

impl fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyMode::Forward => "forward",
            ProxyMode::Cut => "cut",
            ProxyMode::Blackhole => "blackhole",
            ProxyMode::DropReplies => "drop-replies",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_replies_are_dropped_in_drop_replies() {
        let m = ProxyMode::DropReplies;
        assert!(m.reads());
        assert!(m.delivers(Direction::Request));
        assert!(!m.delivers(Direction::Reply));
    }

    #[test]
    fn blackhole_neither_reads_nor_connects() {
        let m = ProxyMode::Blackhole;
        assert!(!m.connects_upstream());
        assert!(!m.reads());
    }
}
