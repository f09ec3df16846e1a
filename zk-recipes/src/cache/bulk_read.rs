//! Many node reads at once on the session's pipeline: at most a window of them in
//! flight, their answers handed back in the order they were asked for, so that a
//! cache applies them (and reports events) in the same order as one read after
//! another would, only without waiting a round trip for each.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use zk_core::framework::Watcher;
use zk_core::{Client, Stat};

/// How many reads a cache keeps in flight by default.
pub(crate) const DEFAULT_READ_WINDOW: usize = 1000;

/// One node to read, and whether the read sets a data watch.
#[derive(Debug, Clone)]
pub(crate) struct NodeRead {
    pub(crate) path: String,
    pub(crate) watch: bool,
}

/// The answer to a [`NodeRead`]: the data, the stat, and the watch if one was asked
/// for.
pub(crate) type NodeReply = (String, zk_core::Result<(Bytes, Stat, Option<Watcher>)>);

/// Reads every node of `reads`, at most `window` (at least 1) at a time; yields the
/// answers in the order of `reads`.
pub(crate) fn read_nodes<I>(
    client: &Client,
    reads: I,
    window: usize,
) -> impl Stream<Item = NodeReply> + Send + 'static
where
    I: IntoIterator<Item = NodeRead>,
    I::IntoIter: Send + 'static,
{
    let client = client.clone();
    futures::stream::iter(reads)
        .map(move |read| {
            let client = client.clone();
            async move {
                let result = read_data(&client, &read.path, read.watch).await;
                (read.path, result)
            }
        })
        .buffered(window.max(1))
}

/// One node's data and stat, with a data watch if `watch`.
async fn read_data(
    client: &Client,
    path: &str,
    watch: bool,
) -> zk_core::Result<(Bytes, Stat, Option<Watcher>)> {
    if watch {
        let (data, stat, watcher) = client.get_data(path).watched().await?;
        Ok((data, stat, Some(watcher)))
    } else {
        let (data, stat) = client.get_data(path).await?;
        Ok((data, stat, None))
    }
}

/// One node of a tree to read: its data (with a data watch if `data_watch`) and,
/// if `children` says so, its children list (with a watch if `Some(true)`).
#[derive(Debug, Clone)]
pub(crate) struct TreeRead {
    pub(crate) path: String,
    pub(crate) data_watch: bool,
    pub(crate) children: Option<bool>,
}

/// A children list and the watch on it if one was asked for.
pub(crate) type ChildrenReply = zk_core::Result<(Vec<String>, Option<Watcher>)>;

/// The answer to a [`TreeRead`]: the path, the data read, and the children read if
/// one was asked for.
pub(crate) type TreeReply = (
    String,
    zk_core::Result<(Bytes, Stat, Option<Watcher>)>,
    Option<ChildrenReply>,
);

/// Reads every node of `reads` (its data and children together), at most `window`
/// nodes at a time; yields the answers in the order of `reads`.
fn read_tree_nodes<I>(
    client: &Client,
    reads: I,
    window: usize,
) -> impl Stream<Item = TreeReply> + Send + 'static
where
    I: IntoIterator<Item = TreeRead>,
    I::IntoIter: Send + 'static,
{
    let client = client.clone();
    futures::stream::iter(reads)
        .map(move |read| {
            let client = client.clone();
            async move {
                let data = read_data(&client, &read.path, read.data_watch);
                let children = async {
                    match read.children {
                        None => None,
                        Some(true) => Some(
                            client
                                .get_children(&read.path)
                                .watched()
                                .await
                                .map(|(names, _, watcher)| (names, Some(watcher))),
                        ),
                        Some(false) => Some(
                            client
                                .get_children(&read.path)
                                .await
                                .map(|names| (names, None)),
                        ),
                    }
                };
                let (data, children) = futures::join!(data, children);
                (read.path, data, children)
            }
        })
        .buffered(window.max(1))
}

/// What a tree walk reads at each node, and where the watches it sets go.
pub(crate) trait WalkPlan {
    /// What to read at `path`.
    fn read(&self, path: &str) -> TreeRead;
    /// Holds a watch the walk set on `path` (on its data, or on its children).
    fn keep(&mut self, path: &str, on: WatchOn, watcher: Watcher);
}

/// What a watch set by a walk is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchOn {
    Data,
    Children,
}

/// Reads every node at and below `top`, level by level, each level's nodes together
/// in a window of `window` reads; `plan` says what to read and keeps the watches.
/// A node gone before its read, or between its data and children reads, is left out
/// with its subtree. Data is kept only if `keep_data`.
pub(crate) async fn walk_levels(
    client: &Client,
    top: &str,
    window: usize,
    keep_data: bool,
    plan: &mut impl WalkPlan,
) -> zk_core::Result<std::collections::BTreeMap<String, crate::cache::ChildData>> {
    let mut fresh = std::collections::BTreeMap::new();
    let mut level = vec![top.to_string()];
    while !level.is_empty() {
        let reads: Vec<TreeRead> = level.drain(..).map(|path| plan.read(&path)).collect();
        let mut replies = read_tree_nodes(client, reads, window);
        while let Some((path, data, children)) = replies.next().await {
            // Watches first: one set on a node that is gone by now still fires (or
            // ends), and must be held to be answered.
            let data = data.map(|(data, stat, watcher)| {
                if let Some(watcher) = watcher {
                    plan.keep(&path, WatchOn::Data, watcher);
                }
                (data, stat)
            });
            let children = children.map(|c| {
                c.map(|(names, watcher)| {
                    if let Some(watcher) = watcher {
                        plan.keep(&path, WatchOn::Children, watcher);
                    }
                    names
                })
            });
            let (data, stat) = match data {
                Ok(read) => read,
                Err(e) if e.code() == Some(zk_core::Code::NoNode) => continue,
                Err(e) => return Err(e),
            };
            let names = match children {
                None => Vec::new(),
                Some(Ok(names)) => names,
                Some(Err(e)) if e.code() == Some(zk_core::Code::NoNode) => continue,
                Some(Err(e)) => return Err(e),
            };
            let data = keep_data.then_some(data);
            fresh.insert(
                path.clone(),
                crate::cache::ChildData::new(&path, stat, data),
            );
            level.extend(names.iter().map(|n| zk_core::path::join(&path, n)));
        }
    }
    Ok(fresh)
}
