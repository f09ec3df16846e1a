//! The state a [`PersistentNode`](super::PersistentNode) shares with its background task:
//! settings, the data to keep on the node, the node's path, progress and the single
//! writer lock that orders every create and data write.

use std::sync::{Arc, Mutex};

use crate::plumbing::{Lifecycle, lock};
use bytes::Bytes;
use tokio::sync::watch;
use zk_core::{Client, Code, CreateMode, Error, Result};

/// Called with the node's new data when someone else changed it (only when asked for).
pub(crate) type DataHook = Arc<dyn Fn(&Bytes) + Send + Sync>;

/// Settings that only other recipes of this crate use.
#[derive(Clone, Default)]
pub(crate) struct NodeOptions {
    /// Keep the node when closing (discovery's static and permanent instances).
    pub keep_on_close: bool,
    /// Adopt data other clients write to the node, and report it through this hook
    /// (discovery's `watch_instances`).
    pub on_external_data: Option<DataHook>,
}

impl std::fmt::Debug for NodeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeOptions")
            .field("keep_on_close", &self.keep_on_close)
            .field("on_external_data", &self.on_external_data.is_some())
            .finish()
    }
}

/// The data to keep on the node and how much of it is on the server.
#[derive(Debug)]
pub(crate) struct NodeData {
    pub bytes: Bytes,
    /// Bumped on every local change.
    pub generation: u64,
    /// The generation known to be on the node.
    pub written: u64,
    /// The node's mzxid after our last write (or the last data we adopted): a node
    /// whose mzxid differs was changed by someone else.
    pub mzxid: i64,
}

/// Where the node is.
#[derive(Debug, Default)]
pub(crate) struct NodePath {
    /// The path to (re)create the node at; `None` until a sequential or protected node
    /// has been created for the first time.
    pub target: Option<String>,
    /// Whether the node at `target` is ours now (created or kept by us).
    pub held: bool,
}

/// What the task has achieved so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    /// The node has been ours at least once.
    pub created: bool,
    /// Attempts to make the node that failed.
    pub failures: u64,
    /// The most recent failure.
    pub last_error: Option<Error>,
}

/// Everything the handle and the task share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub client: Client,
    pub base_path: String,
    pub mode: CreateMode,
    pub protection: bool,
    pub options: NodeOptions,
    pub lifecycle: Lifecycle,
    pub data: Mutex<NodeData>,
    pub path: Mutex<NodePath>,
    /// Held across every create and data write, so they reach the server in the order
    /// the data changed.
    pub writes: tokio::sync::Mutex<()>,
    pub actual_path: watch::Sender<Option<String>>,
    pub progress: watch::Sender<Progress>,
    pub shutdown: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(
        client: Client,
        mode: CreateMode,
        protection: bool,
        base_path: String,
        data: Bytes,
        options: NodeOptions,
    ) -> Self {
        let fixed = !protection && !mode.is_sequential();
        Shared {
            client,
            mode,
            protection,
            options,
            lifecycle: Lifecycle::new(),
            data: Mutex::new(NodeData {
                bytes: data,
                generation: 1,
                written: 0,
                mzxid: 0,
            }),
            path: Mutex::new(NodePath {
                target: fixed.then(|| base_path.clone()),
                held: false,
            }),
            base_path,
            writes: tokio::sync::Mutex::new(()),
            actual_path: watch::Sender::new(None),
            progress: watch::Sender::new(Progress::default()),
            shutdown: watch::Sender::new(false),
        }
    }

    /// The data to keep on the node, with its generation.
    pub(crate) fn data_snapshot(&self) -> (Bytes, u64) {
        let d = lock(&self.data);
        (d.bytes.clone(), d.generation)
    }

    /// Replaces the data to keep on the node; returns its generation.
    pub(crate) fn store_data(&self, bytes: Bytes) -> u64 {
        let mut d = lock(&self.data);
        d.bytes = bytes;
        d.generation += 1;
        d.generation
    }

    /// Records that generation `generation` is on the node, which now has `mzxid`.
    pub(crate) fn mark_written(&self, generation: u64, mzxid: i64) {
        let mut d = lock(&self.data);
        d.written = d.written.max(generation);
        d.mzxid = mzxid;
    }

    /// Whether the node, last modified at `mzxid`, was changed by someone else since
    /// our last write, while we have no write of our own pending.
    pub(crate) fn changed_by_others(&self, mzxid: i64) -> bool {
        let d = lock(&self.data);
        d.written >= d.generation && d.mzxid != mzxid
    }

    /// The path of the node we hold now, if we hold one.
    pub(crate) fn held_path(&self) -> Option<String> {
        let p = lock(&self.path);
        if p.held { p.target.clone() } else { None }
    }

    pub(crate) fn target(&self) -> Option<String> {
        lock(&self.path).target.clone()
    }

    /// Records the node at `path` as ours (or not).
    pub(crate) fn set_held(&self, path: &str, held: bool) {
        {
            let mut p = lock(&self.path);
            p.target = Some(path.to_string());
            p.held = held;
        }
        if held {
            self.actual_path.send_if_modified(|current| {
                let changed = current.as_deref() != Some(path);
                if changed {
                    *current = Some(path.to_string());
                }
                changed
            });
            self.progress.send_if_modified(|p| {
                let changed = !p.created || p.last_error.is_some();
                p.created = true;
                p.last_error = None;
                changed
            });
        }
    }

    pub(crate) fn note_failure(&self, e: &Error) {
        self.progress.send_modify(|p| {
            p.failures += 1;
            p.last_error = Some(e.clone());
        });
    }

    /// Writes the data to the node if the node lacks its latest generation. A missing
    /// node is not an error: the task creates it again with the latest data.
    pub(crate) async fn write_pending(&self, path: &str) -> Result<()> {
        let _order = self.writes.lock().await;
        let (bytes, generation, written) = {
            let d = lock(&self.data);
            (d.bytes.clone(), d.generation, d.written)
        };
        if written >= generation {
            return Ok(());
        }
        match self.client.set_data(path, &bytes).await {
            Ok(stat) => {
                self.mark_written(generation, stat.mzxid);
                Ok(())
            }
            Err(e) if e.code() == Some(Code::NoNode) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
