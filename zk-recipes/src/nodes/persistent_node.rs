//! `PersistentNode`: a node that stays in ZooKeeper through connection problems,
//! session expiry and deletion by others, as Curator's `PersistentNode`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tracing::{info, warn};
use zk_core::path::validate_path;
use zk_core::{Client, CreateMode, Error};

use super::error::{NodeError, Result};
use super::keeper;
use super::shared::{NodeOptions, Shared};
use crate::plumbing::Phase;

/// A node that tries to stay present: created in the background by [`start`](Self::start),
/// and created again after it is deleted, after its session expires and whenever a
/// reconnection finds it missing. [`close`](Self::close) deletes it.
///
/// How it differs from Curator's recipe, on purpose:
/// - One task makes every check and create in turn, and each create is preceded by an
///   `exists` that found the node missing: one create per loss, never two.
/// - Ephemeral modes: a node at the path that another session owns is deleted and
///   created again for our session (Curator writes its data to the other session's node
///   and waits for that node to vanish). A node owned by a session this recipe lost
///   is always replaced; a node of an unknown session is replaced once per fight
///   window (twice the session timeout), and if another one appears within the window
///   a live rival owns the path: the recipe warns and waits until that node goes away,
///   so two processes configured with one path never delete each other's node in a loop.
/// - Persistent modes: an existing node gets our data and is kept, as in Curator.
/// - Sequential and protected modes: the server names the node on the first create;
///   after that the node is re-created under the same name (Curator does this too for
///   unprotected nodes; here protected ones keep their name as well), so
///   [`actual_path`](Self::actual_path) changes at most once.
/// - Failures back off (100 ms doubling to 10 s); a reconnection retries at once.
///
/// Use protection with the sequential modes: the first create of an unprotected
/// sequential node that is retried after a connection loss can leave a second node
/// (the server names each attempt anew); the protected name lets the retry find the
/// first one. Later re-creations use a fixed name and need no protection.
/// - [`set_data`](Self::set_data) works before the first create too: the create uses it.
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), zk_recipes::NodeError> {
/// use std::time::Duration;
/// use zk_core::CreateMode;
/// use zk_recipes::PersistentNode;
///
/// let node = PersistentNode::builder(client, "/workers/w1")
///     .mode(CreateMode::Ephemeral)
///     .data(b"up".to_vec())
///     .build()?;
/// node.start()?;
/// assert!(node.wait_for_initial_create(Duration::from_secs(10)).await?);
/// node.set_data(b"busy".to_vec()).await?;
/// node.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PersistentNode {
    shared: Arc<Shared>,
}

/// Builds a [`PersistentNode`]: `PersistentNode::builder(client, path)`, then the
/// mode (ephemeral unless told), protection and data.
#[derive(Debug)]
#[must_use = "a builder does nothing until build()"]
pub struct PersistentNodeBuilder {
    client: Client,
    path: String,
    mode: CreateMode,
    protection: bool,
    data: Bytes,
    options: NodeOptions,
}

impl PersistentNodeBuilder {
    /// The node's mode (default [`CreateMode::Ephemeral`]). The TTL modes are refused
    /// by [`build`](Self::build): this recipe takes no TTL.
    pub fn mode(mut self, mode: CreateMode) -> Self {
        self.mode = mode;
        self
    }

    /// Curator's protection: the first create's name gets the `_c_<uuid>-` prefix (see
    /// [`CreateBuilder::protected`](zk_core::framework::ops::create::CreateBuilder::protected)).
    /// Use it with the sequential modes.
    pub fn protected(self) -> Self {
        self.protection(true)
    }

    /// Protection on or off.
    pub fn protection(mut self, on: bool) -> Self {
        self.protection = on;
        self
    }

    /// The data the node holds (default empty).
    pub fn data(mut self, data: impl Into<Bytes>) -> Self {
        self.data = data.into();
        self
    }

    /// Discovery's settings.
    pub(crate) fn options(mut self, options: NodeOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks the settings and makes the node (not started).
    ///
    /// Fails with [`Error::InvalidPath`] for a bad path and [`Error::InvalidArgument`]
    /// for the root or a TTL mode, wrapped in [`NodeError::ZooKeeper`].
    pub fn build(self) -> Result<PersistentNode> {
        let PersistentNodeBuilder {
            client,
            path,
            mode,
            protection,
            data,
            options,
        } = self;
        validate_path(&path, mode.is_sequential()).map_err(Error::from)?;
        if path == "/" {
            return Err(
                Error::InvalidArgument("a persistent node cannot be the root".into()).into(),
            );
        }
        if mode.is_ttl() {
            return Err(Error::InvalidArgument(
                "TTL modes are not supported by PersistentNode".into(),
            )
            .into());
        }
        Ok(PersistentNode {
            shared: Arc::new(Shared::new(client, mode, protection, path, data, options)),
        })
    }
}

impl PersistentNode {
    /// A builder for a node at `path`.
    pub fn builder(client: Client, path: impl Into<String>) -> PersistentNodeBuilder {
        PersistentNodeBuilder {
            client,
            path: path.into(),
            mode: CreateMode::Ephemeral,
            protection: false,
            data: Bytes::new(),
            options: NodeOptions::default(),
        }
    }

    /// Starts creating the node in the background. Must be called inside a Tokio runtime.
    ///
    /// Fails with [`NodeError::AlreadyStarted`] if already started and
    /// [`NodeError::Closed`] after close.
    pub fn start(&self) -> Result<()> {
        tokio::runtime::Handle::try_current().map_err(|_| {
            Error::InvalidArgument("PersistentNode::start() needs a Tokio runtime".into())
        })?;
        let guard = self.shared.lifecycle.begin_start()?;
        // Subscribe before the first check, so no state change is missed.
        let states = self.shared.client.connection_states();
        let shutdown = self.shared.shutdown.subscribe();
        guard.commit_spawning(keeper::run(self.shared.clone(), states, shutdown))?;
        Ok(())
    }

    /// Waits until the node has been created (or found ours) for the first time, up to
    /// `timeout`: `Ok(false)` on timeout. Fails if the node was never started or is closed.
    pub async fn wait_for_initial_create(&self, timeout: Duration) -> Result<bool> {
        match self.shared.lifecycle.phase() {
            Phase::Latent | Phase::Starting => return Err(NodeError::NotStarted),
            Phase::Closed => return Err(NodeError::Closed),
            Phase::Started => {}
        }
        let mut progress = self.shared.progress.subscribe();
        let waited = tokio::time::timeout(timeout, progress.wait_for(|p| p.created)).await;
        Ok(matches!(waited, Ok(Ok(_))))
    }

    /// Waits for the outcome of the first attempt to make the node: its path once it is
    /// ours, or the error that attempt ended with (the task keeps trying after it).
    pub(crate) async fn first_outcome(&self) -> zk_core::Result<String> {
        let mut progress = self.shared.progress.subscribe();
        let p = progress
            .wait_for(|p| p.created || p.failures > 0)
            .await
            .map_err(|_| Error::Closed)?
            .clone();
        match (p.created, p.last_error) {
            (true, _) => Ok(self.actual_path().unwrap_or_default()),
            (false, Some(e)) => Err(e),
            (false, None) => Err(Error::Closed),
        }
    }

    /// Changes the node's data: kept for every later re-creation, and written to the
    /// node now if it exists and is ours. The error of that write is returned, but the
    /// data stays changed and reaches the node once the connection is back.
    pub async fn set_data(&self, data: impl Into<Bytes>) -> Result<()> {
        if self.shared.lifecycle.is_closed() {
            return Err(NodeError::Closed);
        }
        self.shared.store_data(data.into());
        match self.shared.held_path() {
            Some(path) => Ok(self.shared.write_pending(&path).await?),
            None => Ok(()),
        }
    }

    /// The data this node keeps on the server (the last given, or adopted by discovery).
    pub fn get_data(&self) -> Bytes {
        self.shared.data_snapshot().0
    }

    /// The node's path as last created (it differs from the given path for sequential
    /// and protected modes); `None` before the first create and after close.
    pub fn actual_path(&self) -> Option<String> {
        self.shared.actual_path.borrow().clone()
    }

    /// The path given to [`builder`](Self::builder).
    pub fn base_path(&self) -> &str {
        &self.shared.base_path
    }

    /// Whether the node is ours on the server now, as far as the last check knows.
    pub fn is_held(&self) -> bool {
        self.shared.held_path().is_some()
    }

    /// Stops the task and deletes the node (guaranteed: after a connection error the
    /// delete goes on in the background; quietly: a missing node is fine).
    ///
    /// The task is first allowed to finish what it is doing (up to the client's
    /// connection timeout), so a create in flight cannot leave a node behind. Closing
    /// twice does nothing. The error is that of the first delete attempt.
    pub async fn close(&self) -> Result<()> {
        self.close_deleting(!self.shared.options.keep_on_close)
            .await
    }

    /// As [`close`](Self::close), deleting the node only if `delete` (discovery keeps
    /// static and permanent instances on close, but deletes them on unregister).
    pub(crate) async fn close_deleting(&self, delete: bool) -> Result<()> {
        if self.shared.lifecycle.close() != Phase::Started {
            return Ok(());
        }
        self.shared.shutdown.send_replace(true);
        let grace = self.shared.client.config().connection_timeout();
        if !self.shared.lifecycle.wait_for_task(grace).await {
            warn!(path = %self.shared.base_path, "persistent node: task did not stop in time; aborting it");
        }
        let held = self.shared.held_path();
        self.shared.actual_path.send_replace(None);
        if !delete {
            return Ok(());
        }
        let Some(path) = held else { return Ok(()) };
        info!(%path, "persistent node: closing, deleting the node");
        Ok(self
            .shared
            .client
            .delete(&path)
            .guaranteed()
            .quietly()
            .await?)
    }
}

impl Drop for PersistentNode {
    /// Stops the task. The node is not deleted (that needs `close()`); an ephemeral one
    /// goes with the session.
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        self.shared.lifecycle.abort_task();
    }
}
