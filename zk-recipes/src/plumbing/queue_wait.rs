//! Waiting in an election queue, for the latch and the selector alike: watch the
//! node just before ours *and* our own node.
//!
//! Curator's waiters watch only the node before theirs, so a waiter whose own node
//! disappears (deleted by an administrator, or owned by an older session of the
//! client that the server has just expired) never learns it: it waits behind a
//! live node for ever, out of the election without knowing. Here the waiter also
//! holds a watch on its own node and checks that the client's current session owns
//! it, so either loss ends the wait at once.
//!
//! It also removes its own duplicates: other nodes with its node's protection
//! prefix. Only one create makes a given `_c_<uuid>-` name, so such a node is a
//! second node of that one create (an attempt whose reply was lost), and left
//! alone it would hold a place in the queue for as long as the session lives,
//! blocking whoever waits behind it.

use zk_core::framework::Watcher;
use zk_core::framework::protection_prefix_of;
use zk_core::path;
use zk_core::{Client, Code, Error};

/// Where a waiter stands after setting its watches.
#[derive(Debug)]
pub(crate) enum QueueWatch {
    /// Both watches are set: wait on them.
    Waiting(BothWatches),
    /// The node before ours is already gone: look at the queue again.
    PreviousGone,
    /// Our node is gone, or belongs to an older session of this client (so it
    /// will go when the server expires that session): make a new one.
    OursGone,
}

/// The watches on the node before ours and on our own.
#[derive(Debug)]
pub(crate) struct BothWatches {
    previous: Watcher,
    ours: Watcher,
}

/// What ended a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// One of the two nodes changed: look at the queue again.
    Changed,
    /// The session that held the watches ended: look again once reconnected.
    SessionEnded,
}

/// Sets a watch on `previous` (the node before ours) and on `ours`, and checks that
/// `ours` belongs to the client's current session.
pub(crate) async fn watch_queue(
    client: &Client,
    previous: &str,
    ours: &str,
) -> Result<QueueWatch, Error> {
    let previous = match client.get_data(previous).watched().await {
        Ok((_, _, watcher)) => watcher,
        Err(e) if e.code() == Some(Code::NoNode) => return Ok(QueueWatch::PreviousGone),
        Err(e) => return Err(e),
    };
    match client.get_data(ours).watched().await {
        Ok((_, stat, ours)) if stat.ephemeral_owner == client.session_id() => {
            Ok(QueueWatch::Waiting(BothWatches { previous, ours }))
        }
        Ok((_, stat, _)) => {
            tracing::info!(
                node = ours,
                owner = format_args!("{:#x}", stat.ephemeral_owner),
                "our election node belongs to an older session"
            );
            Ok(QueueWatch::OursGone)
        }
        Err(e) if e.code() == Some(Code::NoNode) => {
            tracing::info!(node = ours, "our election node is gone");
            Ok(QueueWatch::OursGone)
        }
        Err(e) => Err(e),
    }
}

impl BothWatches {
    /// Resolves when either node changes, or when the session that holds the
    /// watches ends.
    pub(crate) async fn changed(self) -> Wake {
        let event = tokio::select! {
            e = self.previous => e,
            e = self.ours => e,
        };
        match event {
            Ok(_) => Wake::Changed,
            Err(_) => Wake::SessionEnded,
        }
    }
}

/// The children other than `ours` that carry our protection prefix.
pub(crate) fn own_duplicates<'a>(children: &'a [String], ours: &str) -> Vec<&'a str> {
    let Some(prefix) = protection_prefix_of(ours) else {
        return Vec::new();
    };
    children
        .iter()
        .filter(|c| c.as_str() != ours && c.starts_with(prefix))
        .map(String::as_str)
        .collect()
}

/// Deletes our duplicates under `base` and drops them from `children`.
pub(crate) async fn remove_own_duplicates(
    client: &Client,
    base: &str,
    children: &mut Vec<String>,
    ours: &str,
) -> Result<(), Error> {
    let duplicates: Vec<String> = own_duplicates(children, ours)
        .into_iter()
        .map(str::to_string)
        .collect();
    for name in &duplicates {
        let node = path::join(base, name);
        tracing::warn!(%node, "deleting a second node of our own protected create");
        match client.delete(&node).await {
            Err(e) if e.code() != Some(Code::NoNode) => return Err(e),
            _ => {}
        }
    }
    children.retain(|c| !duplicates.contains(c));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn only_other_nodes_with_our_protection_prefix_are_duplicates() {
        let ours = format!("_c_{ID}-latch-0000000005");
        let dup = format!("_c_{ID}-latch-0000000004");
        let children = vec![
            "_c_ffffffff-d9cb-469f-a165-70867728950e-latch-0000000001".to_string(),
            dup.clone(),
            ours.clone(),
            "latch-0000000006".to_string(),
        ];
        assert_eq!(own_duplicates(&children, &ours), vec![dup.as_str()]);
        // An unprotected node has no duplicates.
        assert!(own_duplicates(&children, "latch-0000000006").is_empty());
    }
}
