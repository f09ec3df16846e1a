//! Nodes the tests make and look at: creating them, unique base paths, Curator's
//! protected names, and counting the creations an independent observer sees.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use zk_core::framework::WatchStream;
use zk_core::{AddWatchMode, Client, CreateMode, EventType, Stat};

use super::wait::{DEADLINE, eventually};

/// Creates `path` (and its parents) as a persistent node holding `data`.
pub(crate) async fn create(client: &Client, path: &str, data: &[u8]) {
    client
        .create(path, data)
        .create_parents()
        .await
        .unwrap_or_else(|e| panic!("create {path}: {e}"));
}

/// Creates `path` as an ephemeral node of `client`'s session.
pub(crate) async fn create_ephemeral(client: &Client, path: &str, data: &[u8]) {
    client
        .create(path, data)
        .mode(CreateMode::Ephemeral)
        .await
        .unwrap_or_else(|e| panic!("create ephemeral {path}: {e}"));
}

/// A base path no other test uses: `/tests/<name>-<random>`.
pub(crate) fn base(name: &str) -> String {
    format!("/tests/{name}-{}", uuid::Uuid::new_v4().simple())
}

/// The stat of `path` as `client` sees it, `None` if it does not exist.
pub(crate) async fn stat_of(client: &Client, path: &str) -> Option<Stat> {
    client.exists(path).await.expect("exists")
}

/// Waits until `observer` reads `path` as a node created after `before` was (another
/// `czxid`: deleted and created again); returns its data and stat. `what` names the
/// wait in the failure.
pub(crate) async fn recreated(
    what: &str,
    observer: &Client,
    path: &str,
    before: &Stat,
) -> (Bytes, Stat) {
    eventually(what, || async {
        match observer.get_data(path).await {
            Ok((data, stat)) if stat.czxid != before.czxid => Some((data, stat)),
            _ => None,
        }
    })
    .await
}

/// Whether `name` is a protected sequential node name: `_c_<uuid>-<lock_name><10 digits>`.
pub(crate) fn is_protected_sequential(name: &str, lock_name: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    if rest.len() < 37 {
        return false;
    }
    let (uuid, rest) = rest.split_at(36);
    let uuid_ok = uuid
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
        && uuid.matches('-').count() == 4;
    let Some(seq) = rest
        .strip_prefix('-')
        .and_then(|r| r.strip_prefix(lock_name))
    else {
        return false;
    };
    uuid_ok && seq.len() == 10 && seq.chars().all(|c| c.is_ascii_digit())
}

/// Counts NodeCreated events below a path, as an independent observer sees them.
pub(crate) struct CreateCounter {
    client: Client,
    root: String,
    stream: WatchStream,
    marker_seq: u32,
}

impl CreateCounter {
    /// Starts observing everything below `root` (which need not exist yet).
    pub(crate) async fn start(client: &Client, root: &str) -> Self {
        let stream = client
            .watch(root, AddWatchMode::PersistentRecursive)
            .await
            .expect("add watch");
        CreateCounter {
            client: client.clone(),
            root: root.to_string(),
            stream,
            marker_seq: 0,
        }
    }

    /// Lets any duplicate create show up (a quiet window: a second create would follow
    /// the first within milliseconds), then writes a marker node and returns how many
    /// creates of `path` the observer saw before the marker.
    pub(crate) async fn creates_of(&mut self, path: &str, quiet: Duration) -> usize {
        tokio::time::sleep(quiet).await;
        self.marker_seq += 1;
        let marker = format!("{}/zz-marker-{}", self.root, self.marker_seq);
        self.client
            .create(&marker, b"")
            .mode(CreateMode::Ephemeral)
            .create_parents()
            .await
            .expect("create marker");
        let mut count = 0;
        tokio::time::timeout(DEADLINE, async {
            while let Some(ev) = self.stream.next().await {
                let ev = ev.expect("observer session stays alive");
                if ev.event_type == EventType::NodeCreated {
                    if ev.path == marker {
                        return;
                    }
                    if ev.path == path {
                        count += 1;
                    }
                }
            }
            panic!("observer watch ended");
        })
        .await
        .expect("marker seen");
        count
    }
}
