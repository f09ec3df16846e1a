//! Many node reads at once on the session's pipeline: at most a window of them in
//! flight, their answers handed back in the order they were asked for, so that a
//! cache applies them (and reports events) in the same order as one read after
//! another would, only without waiting a round trip for each.
//!
//! Reads that set no watch go in `multiRead` batches ([`BatchedReads`]): measured
//! with `zk-bench reads` (BENCHMARKS.md), a batch of a few hundred reads costs the
//! server a twentieth of what as many single requests cost, and the whole read
//! finishes 20 times sooner. A multiRead sets no watch: `PathChildrenCache` reads in
//! batches and then sets its children's data watches with
//! `Client::watch_data_since`; `TreeCache`, which needs data and child watches on
//! every node, still sends one watched read per node.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tracing::{debug, warn};
use zk_core::framework::Watcher;
use zk_core::{Client, Code, OpResult, Stat};

/// How many reads a cache keeps in flight by default.
pub(crate) const DEFAULT_READ_WINDOW: usize = 1000;

/// How many reads one `multiRead` carries: small enough that a batch of nodes with
/// ordinary data stays far below the 1 MiB frame limit, large enough that the
/// per-request cost is spread thin (100 and 1000 measured within 25% of each other).
pub(crate) const READ_BATCH: usize = 200;

/// Whether unwatched reads may go in `multiRead` batches: yes until a server
/// answers `Unimplemented` (ZooKeeper before 3.6), then single reads for good.
/// One per recipe, shared by its clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct BatchedReads {
    refused: Arc<AtomicBool>,
}

impl BatchedReads {
    /// Batching allowed until a server refuses it.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Whether batches may be sent (no server has refused one).
    pub(crate) fn allowed(&self) -> bool {
        !self.refused.load(Ordering::Relaxed)
    }

    fn refuse(&self) {
        if !self.refused.swap(true, Ordering::Relaxed) {
            warn!(
                "the server does not know multiRead (ZooKeeper before 3.6): \
                 reading one node per request from now on"
            );
        }
    }
}

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

impl TreeRead {
    /// Whether the read sets no watch, and so may go in a `multiRead`.
    fn is_unwatched(&self) -> bool {
        !self.data_watch && self.children != Some(true)
    }
}

/// How a walk reads: its window of reads in flight, and whether unwatched reads may
/// be batched (`None`: one request per read, always).
#[derive(Debug, Clone)]
pub(crate) struct TreeReading {
    pub(crate) window: usize,
    pub(crate) batched: Option<BatchedReads>,
}

/// Reads every node of `reads`, none with a watch, in `multiRead` batches of
/// [`READ_BATCH`], as many batches in flight as fit in `window` reads; yields the
/// answers in the order of `reads`. A batch whose reply would be over the frame
/// limit is read again one request per node (so only a node too large on its own
/// fails), and so is every batch once the server refuses multiRead.
pub(crate) fn read_unwatched(
    client: &Client,
    reads: Vec<TreeRead>,
    window: usize,
    batched: BatchedReads,
) -> impl Stream<Item = TreeReply> + Send + 'static {
    let client = client.clone();
    let batches: Vec<Vec<TreeRead>> = reads.chunks(READ_BATCH).map(<[_]>::to_vec).collect();
    let in_flight = (window / READ_BATCH).max(1);
    futures::stream::iter(batches)
        .map(move |batch| {
            let client = client.clone();
            let batched = batched.clone();
            async move { read_batch(&client, batch, &batched).await }
        })
        .buffered(in_flight)
        .flat_map(futures::stream::iter)
}

/// One batch of unwatched reads: one `multiRead`, or single reads if that cannot be.
async fn read_batch(
    client: &Client,
    batch: Vec<TreeRead>,
    batched: &BatchedReads,
) -> Vec<TreeReply> {
    if batched.allowed() {
        let mut request = client.multi_read();
        for read in &batch {
            request = request.get_data(read.path.clone());
            if read.children.is_some() {
                request = request.get_children(read.path.clone());
            }
        }
        match request.await {
            Ok(results) => return batch_replies(batch, results),
            Err(e) if e.code() == Some(Code::Unimplemented) => batched.refuse(),
            Err(zk_core::Error::ReplyTooLarge { .. }) => {
                debug!(
                    reads = batch.len(),
                    "a multiRead reply is over the frame limit: reading its nodes one by one"
                );
            }
            Err(e) => {
                return batch
                    .into_iter()
                    .map(|r| (r.path, Err(e.clone()), None))
                    .collect();
            }
        }
    }
    read_tree_nodes(client, batch, READ_BATCH).collect().await
}

/// Pairs a batch's reads with the multiRead's results (data, then children when
/// asked, for each read in turn).
fn batch_replies(batch: Vec<TreeRead>, results: Vec<OpResult>) -> Vec<TreeReply> {
    let mut results = results.into_iter();
    batch
        .into_iter()
        .map(|read| {
            let data = match results.next() {
                Some(OpResult::GetData { data, stat }) => Ok((data, stat, None)),
                other => Err(unexpected(other, &read.path)),
            };
            let children = read.children.map(|_| match results.next() {
                Some(OpResult::GetChildren { children }) => Ok((children, None)),
                other => Err(unexpected(other, &read.path)),
            });
            (read.path, data, children)
        })
        .collect()
}

/// The error for a multiRead result that is not the read asked for: the server's
/// code for a failed read; a marshalling error for a missing or mismatched result
/// (the session has already checked the reply's shape, so this is not expected).
fn unexpected(result: Option<OpResult>, path: &str) -> zk_core::Error {
    let code = match result {
        Some(OpResult::Error { code }) => code,
        _ => Code::MarshallingError,
    };
    zk_core::Error::server(code, Some(path.to_string()))
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
    reading: &TreeReading,
    keep_data: bool,
    plan: &mut impl WalkPlan,
) -> zk_core::Result<std::collections::BTreeMap<String, crate::cache::ChildData>> {
    let mut fresh = std::collections::BTreeMap::new();
    let mut level = vec![top.to_string()];
    while !level.is_empty() {
        let reads: Vec<TreeRead> = level.drain(..).map(|path| plan.read(&path)).collect();
        let mut replies = match &reading.batched {
            Some(batched) if reads.iter().all(TreeRead::is_unwatched) => {
                read_unwatched(client, reads, reading.window, batched.clone()).left_stream()
            }
            _ => read_tree_nodes(client, reads, reading.window).right_stream(),
        };
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
