//! Bringing a set of servers up together: lease ports, write every server's files, start the
//! JVMs, wait until they all serve (and, for an ensemble, until there is a leader), and start over
//! with fresh ports when another process took one of ours in the meantime.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::error::{Error, Result};
use crate::four_letter::{ServerMode, server_mode};
use crate::install::Installation;
use crate::member::Member;
use crate::peer_links::{PeerLinks, ProxiedPorts};
use crate::ports::{PortLease, lease_free_ports};
use crate::server_files::{Peer, Role};

/// How many times a launch starts over with fresh ports after a port conflict.
const MAX_LAUNCH_ATTEMPTS: usize = 4;
/// Deadline for one `srvr` while looking for the leader.
const LEADER_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What to launch.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// One `ZooKeeperServerMain`.
    Standalone,
    /// Quorum peers, connected to each other directly or through [`PeerLinks`] proxies on the
    /// ports `proxied` names.
    Ensemble {
        servers: usize,
        proxied: ProxiedPorts,
    },
}

/// Servers that all serve, and how long that took.
#[derive(Debug)]
pub(crate) struct Launched {
    pub(crate) members: Vec<Member>,
    /// The proxies between the servers, when the shape asked for them.
    pub(crate) peer_links: Option<PeerLinks>,
    pub(crate) startup_time: Duration,
}

/// Launches `shape`, retrying on port conflicts. The whole launch (all attempts) is bounded by
/// the configured startup timeout.
pub(crate) async fn launch(
    install: &Installation,
    config: &ServerConfig,
    shape: Shape,
) -> Result<Launched> {
    let started = Instant::now();
    let deadline = started + config.startup_timeout();
    let mut attempt = 1;
    loop {
        let (mut members, peer_links) = prepare(install, config, shape).await?;
        match start_all(&mut members, shape, deadline).await {
            Ok(()) => {
                return Ok(Launched {
                    members,
                    peer_links,
                    startup_time: started.elapsed(),
                });
            }
            Err(err) => {
                let conflict = members
                    .iter()
                    .find_map(|m| m.bind_failure().map(|line| (m.label().to_owned(), line)));
                let retry = matches!(err, Error::PortConflict { .. }) || conflict.is_some();
                if !retry || attempt >= MAX_LAUNCH_ATTEMPTS || Instant::now() >= deadline {
                    return Err(match (err, conflict) {
                        (Error::Timeout { .. }, Some((server, detail))) => {
                            Error::PortConflict { server, detail }
                        }
                        (err, _) => err,
                    });
                }
                tracing::warn!(attempt, error = %err, "port conflict while starting ZooKeeper; retrying with new ports");
                attempt += 1;
                // `members` drops here: every JVM is killed and every directory removed (and
                // the peer links, which lead to the old ports, close).
            }
        }
    }
}

/// Leases the ports, starts the peer links if asked, and writes every server's files.
async fn prepare(
    install: &Installation,
    config: &ServerConfig,
    shape: Shape,
) -> Result<(Vec<Member>, Option<PeerLinks>)> {
    match shape {
        Shape::Standalone => {
            let client = take_one(lease_free_ports(1)?)?;
            let member = Member::prepare(
                "standalone server".to_owned(),
                install,
                config,
                Role::Standalone,
                client,
                secure_port(config)?,
                Vec::new(),
            )?;
            Ok((vec![member], None))
        }
        Shape::Ensemble {
            servers: n,
            proxied,
        } => {
            let mut leases = lease_free_ports(3 * n)?.into_iter();
            let mut planned = Vec::with_capacity(n);
            for _ in 0..n {
                let (Some(client), Some(quorum), Some(election)) =
                    (leases.next(), leases.next(), leases.next())
                else {
                    return Err(Error::io(
                        "leasing ensemble ports",
                        std::io::Error::other("fewer ports than asked for"),
                    ));
                };
                planned.push((client, quorum, election));
            }
            let peers: Vec<Peer> = planned
                .iter()
                .zip(1u64..)
                .map(|((_, quorum, election), id)| Peer {
                    id,
                    quorum_port: quorum.port(),
                    election_port: election.port(),
                })
                .collect();
            let links = PeerLinks::start(&peers, proxied).await?;
            let members = planned
                .into_iter()
                .zip(1u64..)
                .enumerate()
                .map(|(index, ((client, quorum, election), myid))| {
                    let peers = match &links {
                        Some(links) => links.peers_seen_by(index, &peers),
                        None => peers.clone(),
                    };
                    Member::prepare(
                        format!("server {index}"),
                        install,
                        config,
                        Role::Quorum { myid, peers },
                        client,
                        secure_port(config)?,
                        vec![quorum, election],
                    )
                })
                .collect::<Result<_>>()?;
            Ok((members, links))
        }
    }
}

/// A port for the TLS listener, when the configuration asks for TLS.
fn secure_port(config: &ServerConfig) -> Result<Option<PortLease>> {
    match config.tls() {
        Some(_) => Ok(Some(take_one(lease_free_ports(1)?)?)),
        None => Ok(None),
    }
}

fn take_one(leases: Vec<PortLease>) -> Result<PortLease> {
    leases.into_iter().next().ok_or_else(|| {
        Error::io(
            "leasing a port",
            std::io::Error::other("no port was leased"),
        )
    })
}

async fn start_all(members: &mut [Member], shape: Shape, deadline: Instant) -> Result<()> {
    for member in members.iter_mut() {
        member.spawn()?;
    }
    let mut modes = Vec::with_capacity(members.len());
    for member in members.iter_mut() {
        modes.push(member.wait_serving(deadline).await?);
    }
    if matches!(shape, Shape::Ensemble { .. }) && !modes.contains(&ServerMode::Leader) {
        // Every member follows someone, so a leader exists; it just answered before it won.
        wait_for_leader(members, deadline).await?;
    }
    Ok(())
}

/// Polls `srvr` on every running, unpaused member until one reports `Mode: leader`.
pub(crate) async fn wait_for_leader(members: &[Member], deadline: Instant) -> Result<usize> {
    let started = Instant::now();
    loop {
        if let Some(index) = find_leader(members).await {
            return Ok(index);
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: "the ensemble to elect a leader".to_owned(),
                waited: started.elapsed(),
                log_hint: String::new(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The index of the member that reports `Mode: leader`, asking every running, unpaused member
/// at once.
pub(crate) async fn find_leader(members: &[Member]) -> Option<usize> {
    let probes = members
        .iter()
        .enumerate()
        .filter(|(_, member)| member.is_started() && !member.is_paused())
        .map(|(index, member)| async move {
            let mode = server_mode(member.client_addr(), LEADER_PROBE_TIMEOUT).await;
            (index, mode)
        });
    futures::future::join_all(probes)
        .await
        .into_iter()
        .find(|(_, mode)| matches!(mode, Ok(Some(ServerMode::Leader))))
        .map(|(index, _)| index)
}
