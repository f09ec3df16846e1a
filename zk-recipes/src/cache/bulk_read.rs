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
                let result = if read.watch {
                    client
                        .get_data(&read.path)
                        .watched()
                        .await
                        .map(|(data, stat, watcher)| (data, stat, Some(watcher)))
                } else {
                    client
                        .get_data(&read.path)
                        .await
                        .map(|(data, stat)| (data, stat, None))
                };
                (read.path, result)
            }
        })
        .buffered(window.max(1))
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
pub(crate) fn read_tree_nodes<I>(
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
                let data = async {
                    if read.data_watch {
                        client
                            .get_data(&read.path)
                            .watched()
                            .await
                            .map(|(data, stat, watcher)| (data, stat, Some(watcher)))
                    } else {
                        client
                            .get_data(&read.path)
                            .await
                            .map(|(data, stat)| (data, stat, None))
                    }
                };
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
