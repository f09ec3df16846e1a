//! Which server to try next: the connect string's hosts, shuffled once and tried in
//! turn. Names are resolved on every attempt, so a server that moved is found.

use std::net::SocketAddr;

use rand::seq::{IndexedRandom, SliceRandom};

use crate::session::connect_string::HostAddr;

/// A rotation over the hosts of a connect string.
#[derive(Debug)]
pub(crate) struct HostRotation {
    hosts: Vec<HostAddr>,
    next: usize,
    /// Attempts since the last successful connection.
    failed_in_a_row: usize,
}

impl HostRotation {
    /// A rotation over `hosts` in a random order.
    pub(super) fn new(mut hosts: Vec<HostAddr>) -> Self {
        hosts.shuffle(&mut rand::rng());
        HostRotation {
            hosts,
            next: 0,
            failed_in_a_row: 0,
        }
    }

    /// How many hosts there are.
    pub(super) fn len(&self) -> usize {
        self.hosts.len()
    }

    /// The next host to try.
    pub(super) fn next_host(&mut self) -> HostAddr {
        let h = self.hosts[self.next % self.hosts.len()].clone();
        self.next = (self.next + 1) % self.hosts.len();
        h
    }

    /// Records a failed attempt; returns true when every host has failed once since
    /// the last success, which is when the caller should pause before going on.
    pub(super) fn failed(&mut self) -> bool {
        self.failed_in_a_row += 1;
        self.failed_in_a_row.is_multiple_of(self.hosts.len())
    }

    /// Records a successful connection.
    pub(super) fn connected(&mut self) {
        self.failed_in_a_row = 0;
    }
}

/// Resolves `host` now and picks one of its addresses at random.
pub(crate) async fn resolve(host: &HostAddr) -> std::io::Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.host.as_str(), host.port))
        .await?
        .collect();
    addrs.choose(&mut rand::rng()).copied().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(p: u16) -> HostAddr {
        HostAddr {
            host: "127.0.0.1".into(),
            port: p,
        }
    }

    #[test]
    fn every_host_is_tried_once_per_cycle() {
        let mut r = HostRotation::new(vec![h(1), h(2), h(3)]);
        let mut seen: Vec<u16> = (0..3).map(|_| r.next_host().port).collect();
        seen.sort();
        assert_eq!(seen, vec![1, 2, 3]);
        assert!(!r.failed());
        assert!(!r.failed());
        assert!(r.failed(), "a full cycle of failures asks for a pause");
        r.connected();
        assert!(!r.failed());
    }
}
