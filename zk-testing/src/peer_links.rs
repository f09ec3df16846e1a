//! The proxied links between the servers of an ensemble: for each kind of peer port an
//! ensemble asks to proxy (the quorum port for
//! [`start_with_quorum_proxies`](crate::TestingCluster::start_with_quorum_proxies), the quorum
//! and the election port for [`start_partitionable`](crate::TestingCluster::start_partitionable)),
//! one [`Proxy`] for every ordered pair of servers, carrying `from`'s connections to that port
//! of `to`; and the server lines that make each server connect through them.
//!
//! ZooKeeper binds its quorum and election ports from its own `server.<myid>` line, and
//! connects to another server at the address its own `zoo.cfg` gives for it. So server `i`'s
//! file lists its own real ports and, for every other server `j`, the ports of the proxies
//! `(i → j)`. With `reconfigEnabled=false` no server learns another's view of the ensemble, so
//! these per-server differences stay where they were written.
//!
//! Between two servers, leader election keeps only the connection the higher `myid` opened
//! (the lower one's is closed and answered with a connection back, to the address the lower
//! one sent, which the election links rewrite to the link back), so both directions of an
//! election link carry traffic over time; a partition must stop both.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::election_handshake::connect_back_through;
use crate::error::{Error, Result};
use crate::proxy::{PeerOptions, Proxy};
use crate::server_files::Peer;

/// How long a quorum link holds a follower's new connection while the server it leads to
/// does not listen yet (it starts to once it has won the election; see
/// [`PeerOptions::wait_for_upstream`]).
const LEADER_LISTEN_WAIT: Duration = Duration::from_secs(5);

/// Which server-to-server connections of an ensemble go through proxies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProxiedPorts {
    /// None: servers talk to each other directly.
    Direct,
    /// Each server's connections to the others' quorum ports; leader election is direct.
    Quorum,
    /// Quorum and election connections alike, so that a partition can stop all of them.
    QuorumAndElection,
}

/// One of the two ports by which ensemble members talk to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkKind {
    /// A follower's connection to the leader (proposals, acks, pings).
    Quorum,
    /// Leader election (votes), between every two servers.
    Election,
}

impl LinkKind {
    /// The port of this kind that `peer` listens on.
    fn port(self, peer: &Peer) -> u16 {
        match self {
            LinkKind::Quorum => peer.quorum_port,
            LinkKind::Election => peer.election_port,
        }
    }

    /// The error for a link of this kind that does not exist.
    pub(crate) fn missing(self, from: usize, to: usize, reason: impl Into<String>) -> Error {
        let reason = reason.into();
        match self {
            LinkKind::Quorum => Error::NoQuorumLink { from, to, reason },
            LinkKind::Election => Error::NoElectionLink { from, to, reason },
        }
    }
}

/// Every link of one kind: `servers * (servers - 1)` forwarding proxies.
#[derive(Debug)]
struct LinkGrid {
    kind: LinkKind,
    servers: usize,
    /// `servers * servers` entries, row `from`, column `to`; `None` on the diagonal.
    proxies: Vec<Option<Proxy>>,
}

impl LinkGrid {
    /// Starts a proxy for every ordered pair of `peers` (server `i` is `peers[i]`), each
    /// forwarding to the real port of this kind of its `to` server. A quorum link waits a
    /// little for a new leader to listen. An election link `(i → j)`
    /// also names the link `(j → i)` in `i`'s opening message, so that `j`'s connection back
    /// to `i` goes through it (see [`election_handshake`](crate::election_handshake)).
    async fn start(kind: LinkKind, peers: &[Peer]) -> Result<LinkGrid> {
        let servers = peers.len();
        // Each link's port, known once it has started; the reverse link reads it.
        let ports: Vec<Arc<OnceLock<u16>>> =
            (0..servers * servers).map(|_| Arc::default()).collect();
        let mut proxies = Vec::with_capacity(servers * servers);
        for from in 0..servers {
            for (to, peer) in peers.iter().enumerate() {
                proxies.push(if from == to {
                    None
                } else {
                    let real = SocketAddr::from((Ipv4Addr::LOCALHOST, kind.port(peer)));
                    let options = match kind {
                        LinkKind::Quorum => PeerOptions {
                            opening: None,
                            wait_for_upstream: Some(LEADER_LISTEN_WAIT),
                        },
                        LinkKind::Election => PeerOptions {
                            opening: Some(connect_back_through(Arc::clone(
                                &ports[to * servers + from],
                            ))),
                            wait_for_upstream: None,
                        },
                    };
                    let proxy = Proxy::start_peer(real, options).await?;
                    tracing::debug!(?kind, from, to, proxy = %proxy.addr(), %real, "peer link");
                    Some(proxy)
                });
            }
        }
        for (port, proxy) in ports.iter().zip(&proxies) {
            if let Some(proxy) = proxy {
                // Each cell is set here, once.
                let _ = port.set(proxy.addr().port());
            }
        }
        Ok(LinkGrid {
            kind,
            servers,
            proxies,
        })
    }

    /// The proxy carrying server `from`'s connections to this kind of port of server `to`.
    fn get(&self, from: usize, to: usize) -> Result<&Proxy> {
        if let Some(index) = [from, to].into_iter().find(|&i| i >= self.servers) {
            return Err(Error::NoSuchServer {
                index,
                len: self.servers,
            });
        }
        self.proxies[from * self.servers + to]
            .as_ref()
            .ok_or_else(|| {
                self.kind
                    .missing(from, to, "a server has no link to itself")
            })
    }

    /// The port server `from` must list for server `to`: its link's, or `to`'s own for itself.
    fn port_seen_by(&self, from: usize, to: usize, peers: &[Peer]) -> u16 {
        match &self.proxies[from * self.servers + to] {
            Some(proxy) => proxy.addr().port(),
            None => self.kind.port(&peers[to]),
        }
    }

    /// Every proxy of the grid.
    fn iter(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().flatten()
    }
}

/// The proxied links of an ensemble. They outlive restarts of the servers (their ports are in
/// the servers' files) and close when dropped.
#[derive(Debug)]
pub(crate) struct PeerLinks {
    quorum: LinkGrid,
    /// Only for [`ProxiedPorts::QuorumAndElection`].
    election: Option<LinkGrid>,
}

impl PeerLinks {
    /// Starts the links `proxied` asks for between `peers`; `None` for
    /// [`ProxiedPorts::Direct`].
    pub(crate) async fn start(peers: &[Peer], proxied: ProxiedPorts) -> Result<Option<PeerLinks>> {
        let election = match proxied {
            ProxiedPorts::Direct => return Ok(None),
            ProxiedPorts::Quorum => None,
            ProxiedPorts::QuorumAndElection => {
                Some(LinkGrid::start(LinkKind::Election, peers).await?)
            }
        };
        let quorum = LinkGrid::start(LinkKind::Quorum, peers).await?;
        Ok(Some(PeerLinks { quorum, election }))
    }

    /// Whether election connections go through proxies too.
    pub(crate) fn has_election_links(&self) -> bool {
        self.election.is_some()
    }

    /// The proxy carrying server `from`'s connections to server `to`'s port of `kind`.
    pub(crate) fn get(&self, kind: LinkKind, from: usize, to: usize) -> Result<&Proxy> {
        match kind {
            LinkKind::Quorum => self.quorum.get(from, to),
            LinkKind::Election => match &self.election {
                Some(grid) => grid.get(from, to),
                None => Err(kind.missing(
                    from,
                    to,
                    "the cluster was started with proxies on its quorum links only \
                     (use TestingCluster::start_partitionable)",
                )),
            },
        }
    }

    /// Every proxy, of either kind.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Proxy> {
        self.quorum
            .iter()
            .chain(self.election.iter().flat_map(LinkGrid::iter))
    }

    /// The server lines for server `from`'s `zoo.cfg`: `peers` with every other server's
    /// proxied ports replaced by the ports of the links to them.
    pub(crate) fn peers_seen_by(&self, from: usize, peers: &[Peer]) -> Vec<Peer> {
        rewire(peers, from, |to| PeerPorts {
            quorum: self.quorum.port_seen_by(from, to, peers),
            election: self
                .election
                .as_ref()
                .map_or(peers[to].election_port, |grid| {
                    grid.port_seen_by(from, to, peers)
                }),
        })
    }
}

/// The two peer ports by which one server reaches another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PeerPorts {
    quorum: u16,
    election: u16,
}

/// `peers` as server `from` should list them: its own line as it is, every other server's
/// ports replaced by `link_ports(to)`.
fn rewire(peers: &[Peer], from: usize, link_ports: impl Fn(usize) -> PeerPorts) -> Vec<Peer> {
    peers
        .iter()
        .enumerate()
        .map(|(to, peer)| {
            if to == from {
                *peer
            } else {
                let ports = link_ports(to);
                Peer {
                    quorum_port: ports.quorum,
                    election_port: ports.election,
                    ..*peer
                }
            }
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
    fn a_server_keeps_its_own_ports_and_reaches_the_others_through_links() {
        let peers = [peer(1), peer(2), peer(3)];
        let seen = rewire(&peers, 1, |to| PeerPorts {
            quorum: 9000 + to as u16,
            election: 9100 + to as u16,
        });
        let ports: Vec<(u64, u16, u16)> = seen
            .iter()
            .map(|p| (p.id, p.quorum_port, p.election_port))
            .collect();
        assert_eq!(ports, [(1, 9000, 9100), (2, 2001, 2002), (3, 9002, 9102)]);
    }
}
