//! The quorum links of an ensemble started with
//! [`start_with_quorum_proxies`](crate::TestingCluster::start_with_quorum_proxies): one
//! [`Proxy`] for every ordered pair of servers, carrying `from`'s connection to `to`'s quorum
//! port, and the server lines that make each server connect through them.
//!
//! ZooKeeper binds its quorum port from its own `server.<myid>` line, and a follower connects to
//! the leader at the address its own `zoo.cfg` gives for the leader. So server `i`'s file lists
//! its own real quorum port and, for every other server `j`, the port of the proxy `(i → j)`.
//! Election ports stay direct: a slowed or broken link must not also change who is elected.
//! With `reconfigEnabled=false` no server learns another's view of the ensemble, so these
//! per-server differences stay where they were written.

use std::net::{Ipv4Addr, SocketAddr};

use crate::error::{Error, Result};
use crate::proxy::Proxy;
use crate::server_files::Peer;

/// Every quorum link of an ensemble: `servers * (servers - 1)` forwarding proxies. They outlive
/// restarts of the servers (their ports are in the servers' files) and close when dropped.
#[derive(Debug)]
pub(crate) struct QuorumLinks {
    servers: usize,
    /// `servers * servers` entries, row `from`, column `to`; `None` on the diagonal.
    proxies: Vec<Option<Proxy>>,
}

impl QuorumLinks {
    /// Starts a proxy for every ordered pair of `peers` (server `i` is `peers[i]`), each
    /// forwarding to the real quorum port of its `to` server.
    pub(crate) async fn start(peers: &[Peer]) -> Result<QuorumLinks> {
        let servers = peers.len();
        let mut proxies = Vec::with_capacity(servers * servers);
        for from in 0..servers {
            for (to, peer) in peers.iter().enumerate() {
                proxies.push(if from == to {
                    None
                } else {
                    let real = SocketAddr::from((Ipv4Addr::LOCALHOST, peer.quorum_port));
                    let proxy = Proxy::start(real).await?;
                    tracing::debug!(from, to, proxy = %proxy.addr(), %real, "quorum link");
                    Some(proxy)
                });
            }
        }
        Ok(QuorumLinks { servers, proxies })
    }

    /// The proxy carrying server `from`'s connection to server `to`'s quorum port.
    pub(crate) fn get(&self, from: usize, to: usize) -> Result<&Proxy> {
        for index in [from, to] {
            if index >= self.servers {
                return Err(Error::NoSuchServer {
                    index,
                    len: self.servers,
                });
            }
        }
        self.proxies[from * self.servers + to]
            .as_ref()
            .ok_or_else(|| Error::NoQuorumLink {
                from,
                to,
                reason: "a server has no quorum link to itself".into(),
            })
    }

    /// The server lines for server `from`'s `zoo.cfg`: `peers` with every other server's quorum
    /// port replaced by the port of the link to it.
    pub(crate) fn peers_seen_by(&self, from: usize, peers: &[Peer]) -> Vec<Peer> {
        rewire(peers, from, |to| {
            self.proxies[from * self.servers + to]
                .as_ref()
                .map_or(peers[to].quorum_port, |proxy| proxy.addr().port())
        })
    }
}

/// `peers` as server `from` should list them: its own line as it is, every other server's
/// quorum port replaced by `link_port(to)`.
fn rewire(peers: &[Peer], from: usize, link_port: impl Fn(usize) -> u16) -> Vec<Peer> {
    peers
        .iter()
        .enumerate()
        .map(|(to, peer)| Peer {
            quorum_port: if to == from {
                peer.quorum_port
            } else {
                link_port(to)
            },
            ..*peer
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: u64) -> Peer {
        Peer {
            id,
            quorum_port: 1000 * id as u16 + 1,
            election_port: 1000 * id as u16 + 2,
        }
    }

    #[test]
    fn a_server_keeps_its_own_quorum_port_and_reaches_the_others_through_links() {
        let peers = [peer(1), peer(2), peer(3)];
        let seen = rewire(&peers, 1, |to| 9000 + to as u16);
        let ports: Vec<(u64, u16, u16)> = seen
            .iter()
            .map(|p| (p.id, p.quorum_port, p.election_port))
            .collect();
        assert_eq!(ports, [(1, 9000, 1002), (2, 2001, 2002), (3, 9002, 3002)]);
    }
}
