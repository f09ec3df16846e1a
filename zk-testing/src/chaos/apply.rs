//! Applying a [`Fault`] to a running ensemble and healing it again, every step bounded.

use std::time::Duration;

use tokio::time::sleep;

use super::schedule::{Fault, FaultKind};
use crate::cluster::TestingCluster;
use crate::error::{Error, Result};
use crate::expire::expire_session;
use crate::four_letter::four_letter_word_within;
use crate::proxy::Proxy;

/// How long finding the leader may take before a fault that needs one.
const LEADER_DEADLINE: Duration = Duration::from_secs(60);
/// How long a server may take to serve again once its fault healed.
const SERVING_DEADLINE: Duration = Duration::from_secs(60);
/// How long one `cons` may take when looking for a client's server.
const CONS_TIMEOUT: Duration = Duration::from_secs(2);

/// What a fault may be aimed at on the client side: the proxy the client connects through, and
/// its current session (to find its server, or to expire it).
#[derive(Debug, Clone, Copy)]
pub struct ChaosClient<'a> {
    /// The proxy between this client and the ensemble.
    pub proxy: &'a Proxy,
    /// The client's current session id.
    pub session_id: i64,
    /// The client's current session password.
    pub password: &'a [u8],
}

/// What [`apply_fault`] did, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedFault {
    /// The fault as drawn.
    pub fault: Fault,
    /// The server it broke, when it broke one.
    pub server: Option<usize>,
    /// Anything worth saying about it ("session already gone", "client on no server").
    pub note: Option<String>,
}

/// Breaks what `fault` says, waits its duration, heals it, and returns once every server serves
/// again. `clients[fault.client]` is the client a client fault aims at (a fault for a client
/// index out of range aims at the last client).
///
/// Every step is bounded: a leader to kill is looked for for up to a minute, a server must serve
/// again within a minute of its heal. A step that fails ends the fault there and is returned as
/// the error: the steps after it are not taken, so the ensemble may stay broken (the soak
/// counts that as a violation).
pub async fn apply_fault(
    cluster: &mut TestingCluster,
    fault: Fault,
    clients: &[ChaosClient<'_>],
) -> Result<AppliedFault> {
    let client = clients.get(fault.client).or(clients.last()).copied();
    let mut applied = AppliedFault {
        fault,
        server: None,
        note: None,
    };
    match fault.kind {
        FaultKind::KillLeader | FaultKind::KillFollower => {
            let target = leader_or_follower(cluster, fault.kind == FaultKind::KillLeader).await?;
            applied.server = Some(target);
            cluster.kill(target)?;
            sleep(fault.duration).await;
            cluster.restart(target).await?;
            wait_all_serving(cluster).await?;
        }
        FaultKind::PauseServer => {
            let client = require(client)?;
            let target = match server_of(cluster, client.session_id).await {
                Some(server) => server,
                None => {
                    applied.note = Some("client on no server: paused the leader".into());
                    cluster.wait_for_leader(LEADER_DEADLINE).await?
                }
            };
            applied.server = Some(target);
            cluster.pause(target)?;
            sleep(fault.duration).await;
            cluster.resume(target)?;
            wait_all_serving(cluster).await?;
        }
        FaultKind::CutClient => {
            let client = require(client)?;
            client.proxy.cut().await;
            sleep(fault.duration).await;
            client.proxy.heal().await?;
        }
        FaultKind::DropReplies => {
            let client = require(client)?;
            client.proxy.drop_replies().await?;
            sleep(fault.duration).await;
            client.proxy.heal().await?;
        }
        FaultKind::ExpireSession => {
            let client = require(client)?;
            if let Err(e) = expire_session(
                &cluster.connect_string(),
                client.session_id,
                client.password,
            )
            .await
            {
                // The session may be gone already (expired by an earlier fault, or not yet
                // replaced): nothing to expire is not a failure of the ensemble.
                applied.note = Some(format!("nothing expired: {e}"));
            }
        }
        FaultKind::PartitionLeader | FaultKind::PartitionFollower => {
            let alone =
                leader_or_follower(cluster, fault.kind == FaultKind::PartitionLeader).await?;
            let rest: Vec<usize> = (0..cluster.len()).filter(|&i| i != alone).collect();
            applied.server = Some(alone);
            cluster.partition(&[alone], &rest).await?;
            sleep(fault.duration).await;
            cluster.heal_partition().await?;
            wait_all_serving(cluster).await?;
        }
    }
    Ok(applied)
}

/// The leader (waiting for one, bounded), or with `leader == false` the server after it.
async fn leader_or_follower(cluster: &TestingCluster, leader: bool) -> Result<usize> {
    let current = cluster.wait_for_leader(LEADER_DEADLINE).await?;
    Ok(if leader {
        current
    } else {
        (current + 1) % cluster.len()
    })
}

fn require(client: Option<ChaosClient<'_>>) -> Result<ChaosClient<'_>> {
    client.ok_or_else(|| Error::InvalidConfig("a client fault needs at least one client".into()))
}

/// The server whose `cons` lists `session_id`, if any does.
async fn server_of(cluster: &TestingCluster, session_id: i64) -> Option<usize> {
    let needle = format!("sid=0x{session_id:x}");
    for (index, addr) in cluster.client_addrs().into_iter().enumerate() {
        if let Ok(cons) = four_letter_word_within(addr, "cons", CONS_TIMEOUT).await
            && cons.contains(&needle)
        {
            return Some(index);
        }
    }
    None
}

/// Waits until every server serves again, then until one leads.
async fn wait_all_serving(cluster: &mut TestingCluster) -> Result<()> {
    for index in 0..cluster.len() {
        cluster.wait_serving(index, SERVING_DEADLINE).await?;
    }
    cluster.wait_for_leader(SERVING_DEADLINE).await?;
    Ok(())
}
