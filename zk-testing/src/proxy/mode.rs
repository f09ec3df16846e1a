//! What a [`Proxy`](super::Proxy) does with bytes in each of its modes.

use std::fmt;
use std::time::Duration;

/// The behaviour of a [`Proxy`](super::Proxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
    /// Bytes flow both ways, each chunk `d` after the proxy read it: a slow link, not a broken
    /// one. Every direction of every connection is one queue, so a chunk read at `t` is written
    /// at `t + d` and never before a chunk read earlier (a connection's close, too, arrives `d`
    /// late). The delay in force applies to what is queued: a new [`delay`](super::Proxy::delay)
    /// moves every queued chunk's due time, and [`heal`](super::Proxy::heal) (back to
    /// [`Forward`](ProxyMode::Forward)) writes the whole queue out at once, in order, and then
    /// forwards with no delay. A new connection reaches the server at once; only its bytes wait.
    /// A clean close travels through the queue like data; a reset (or a write to a peer that
    /// is gone) ends the connection at once, both ways, and what is queued is lost.
    Delay(Duration),
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
        self.reads()
    }

    /// Whether bytes are read from either side (in a blackhole they wait in the kernel) and
    /// released from the proxy's queues (in a blackhole, bytes already read wait there).
    pub(crate) fn reads(self) -> bool {
        matches!(
            self,
            ProxyMode::Forward | ProxyMode::DropReplies | ProxyMode::Delay(_)
        )
    }

    /// How long a chunk waits between being read and being written.
    pub(crate) fn delay(self) -> Duration {
        match self {
            ProxyMode::Delay(d) => d,
            _ => Duration::ZERO,
        }
    }

    /// Whether bytes read in this direction are passed on (rather than thrown away).
    pub(crate) fn delivers(self, direction: Direction) -> bool {
        match self {
            ProxyMode::Forward | ProxyMode::Delay(_) => true,
            ProxyMode::DropReplies => direction == Direction::Request,
            ProxyMode::Cut | ProxyMode::Blackhole => false,
        }
    }
}

impl fmt::Display for ProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyMode::Forward => f.write_str("forward"),
            ProxyMode::Cut => f.write_str("cut"),
            ProxyMode::Blackhole => f.write_str("blackhole"),
            ProxyMode::DropReplies => f.write_str("drop-replies"),
            ProxyMode::Delay(d) => write!(f, "delay {d:?}"),
        }
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
    fn delay_reads_connects_and_delivers_both_ways_late() {
        let m = ProxyMode::Delay(Duration::from_secs(2));
        assert!(m.connects_upstream());
        assert!(m.reads());
        assert!(m.delivers(Direction::Request));
        assert!(m.delivers(Direction::Reply));
        assert_eq!(m.delay(), Duration::from_secs(2));
        assert_eq!(ProxyMode::Forward.delay(), Duration::ZERO);
        assert_eq!(m.to_string(), "delay 2s");
    }

    #[test]
    fn blackhole_neither_reads_nor_connects() {
        let m = ProxyMode::Blackhole;
        assert!(!m.connects_upstream());
        assert!(!m.reads());
    }
}
