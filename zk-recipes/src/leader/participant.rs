//! Who takes part in an election, read from the nodes' data, in queue order.

use zk_core::path;
use zk_core::{Client, Code};

use crate::leader::error::Result;
use crate::plumbing::queue_order::{queue_children, sort_children};

/// One participant in an election, as read from ZooKeeper.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Participant {
    /// The participant id stored in its node (UTF-8; invalid bytes are replaced).
    pub id: String,
    /// Whether its node is first in the queue.
    pub is_leader: bool,
}

/// The children of `base` (an election path) in queue order; none if `base` does
/// not exist.
pub(crate) async fn sorted_children(
    client: &Client,
    base: &str,
    lock_name: &str,
) -> Result<Vec<String>, zk_core::Error> {
    let mut children = queue_children(client, base).await?;
    sort_children(&mut children, lock_name);
    Ok(children)
}

/// Every participant, in queue order: the first whose node can still be read is
/// marked leader. Nodes that vanish while being read are skipped.
pub(crate) async fn read_participants(
    client: &Client,
    base: &str,
    lock_name: &str,
) -> Result<Vec<Participant>> {
    let mut out = Vec::new();
    for name in sorted_children(client, base, lock_name).await? {
        if let Some(id) = read_id(client, &path::join(base, &name)).await? {
            let is_leader = out.is_empty();
            out.push(Participant { id, is_leader });
        }
    }
    Ok(out)
}

/// The leader: the first participant whose node can be read. Like Curator, when
/// there is none this is a participant with an empty id that is not leader.
pub(crate) async fn read_leader(
    client: &Client,
    base: &str,
    lock_name: &str,
) -> Result<Participant> {
    for name in sorted_children(client, base, lock_name).await? {
        if let Some(id) = read_id(client, &path::join(base, &name)).await? {
            return Ok(Participant {
                id,
                is_leader: true,
            });
        }
    }
    Ok(Participant {
        id: String::new(),
        is_leader: false,
    })
}

async fn read_id(client: &Client, node: &str) -> Result<Option<String>> {
    match client.get_data(node).await {
        Ok((data, _)) => Ok(Some(String::from_utf8_lossy(&data).into_owned())),
        Err(e) if e.code() == Some(Code::NoNode) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
