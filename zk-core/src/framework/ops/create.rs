//! `client.create(path, data)`: modes, ACLs, protection, parents and idempotency.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::framework::Client;
use crate::framework::acl_provider::AclProvider;
use crate::framework::namespace::make_dirs;
use crate::framework::ops::OpFuture;
use crate::framework::ops::protected::{find_protected_node, protected_path, split};
use crate::proto::{Acl, Code, CreateMode, Stat};
use crate::session::Session;

/// Builds a create. Await it for the created path (namespace removed), or call
/// [`CreateBuilder::with_stat`] for the path and the node's stat.
#[derive(Debug)]
#[must_use = "builders do nothing unless awaited"]
pub struct CreateBuilder<'a> {
    client: &'a Client,
    path: &'a str,
    data: &'a [u8],
    mode: CreateMode,
    acl: Option<Vec<Acl>>,
    ttl: Option<Duration>,
    protected: bool,
    parents: Option<bool>,
    idempotent: bool,
}

impl<'a> CreateBuilder<'a> {
    pub(crate) fn new(client: &'a Client, path: &'a str, data: &'a [u8]) -> Self {
        CreateBuilder {
            client,
            path,
            data,
            mode: CreateMode::Persistent,
            acl: None,
            ttl: None,
            protected: false,
            parents: None,
            idempotent: false,
        }
    }

    /// The node's mode (default persistent).
    pub fn mode(mut self, mode: CreateMode) -> Self {
        self.mode = mode;
        self
    }

    /// The node's ACL (default: what the client's
    /// [`AclProvider`] gives the path, open to all unless one was
    /// installed). Parents made by [`create_parents`](Self::create_parents) get the
    /// provider's ACL for their own paths, not this one.
    pub fn acl(mut self, acl: Vec<Acl>) -> Self {
        self.acl = Some(acl);
        self
    }

    /// A time to live, for the TTL modes.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Protection: the name gets a `_c_<uuid>-` prefix, so that a retry after
    /// ConnectionLoss finds the node an earlier attempt made instead of making a
    /// second one. For ephemeral modes a node left by an older session is replaced.
    /// If the create finally fails, a background task removes any node an attempt
    /// may have left.
    ///
    /// What it guarantees: one logical create leaves at most one node, on an
    /// ensemble too. The retry's lookup (and the background cleanup's) starts with a
    /// `sync` of the parent, so the server the client reconnected to has applied
    /// every write the leader accepted before it lists the children; a write of the
    /// lost connection that the leader had not yet accepted is refused as
    /// SessionMoved once the session has moved. Without the sync a follower that
    /// lags behind the first attempt answers without its node and the retry makes a
    /// second one (Curator has that gap). What it costs: one round trip, on the
    /// retry path only; a create that succeeds at once pays nothing.
    pub fn protected(mut self) -> Self {
        self.protected = true;
        self
    }

    /// Creates missing parents as persistent nodes.
    pub fn create_parents(mut self) -> Self {
        self.parents = Some(false);
        self
    }

    /// Creates missing parents as container nodes (persistent on servers that lack them).
    pub fn create_parent_containers(mut self) -> Self {
        self.parents = Some(true);
        self
    }

    /// Succeed when the node already exists with exactly this data (and, for
    /// ephemeral modes, belongs to this session): a create retried after
    /// ConnectionLoss then does not fail with NodeExists. Not for sequential modes.
    ///
    /// The check needs no `sync`: it reads the node only after the server answered
    /// this very attempt with NodeExists, and that answer went through the leader,
    /// so the server has applied everything up to it, the lost attempt included.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Runs the create and returns the created path and the node's stat.
    pub async fn with_stat(self) -> Result<(String, Stat)> {
        self.run().await
    }

    async fn run(self) -> Result<(String, Stat)> {
        let client = self.client;
        let ns = &client.inner.namespace;
        let full = ns.apply(self.path, self.mode.is_sequential())?;
        if self.idempotent && self.mode.is_sequential() {
            return Err(Error::InvalidArgument(
                "idempotent() cannot be used with sequential modes".into(),
            ));
        }
        if self.mode.is_ttl() != self.ttl.is_some() {
            return Err(Error::InvalidArgument(
                "a TTL is required by, and only by, the TTL modes".into(),
            ));
        }
        let id = self.protected.then(|| uuid::Uuid::new_v4().to_string());
        let target = match &id {
            Some(id) => protected_path(&full, id),
            None => full,
        };
        let acls = client.inner.config.acl_provider.as_ref();
        let acl = self.acl.unwrap_or_else(|| acls.acl_for_path(&target));
        let spec = CreateSpec {
            path: &target,
            data: self.data,
            acl: &acl,
            acls,
            mode: self.mode,
            ttl: self.ttl,
            parents: self.parents,
            idempotent: self.idempotent,
        };
        // Dropped before the create has answered (a timeout, a `select!`, an aborted
        // task), a protected create cleans up after itself like a failed one.
        let cancelled = id.as_ref().map(|id| CancelledCreate {
            client,
            target: target.clone(),
            id: id.clone(),
            ephemeral: self.mode.is_ephemeral(),
            armed: true,
        });
        let tried = AtomicBool::new(false);
        let (id_ref, spec_ref, tried_ref) = (&id, &spec, &tried);
        let result = client
            .with_retry(|s| async move {
                if let Some(id) = id_ref
                    && tried_ref.swap(true, Ordering::AcqRel)
                    && let Some(found) =
                        find_protected_node(&s, spec_ref.path, id, spec_ref.mode.is_ephemeral())
                            .await?
                {
                    info!(path = %found.0, "protected create found the node of an earlier attempt");
                    return Ok(found);
                }
                tried_ref.store(true, Ordering::Release);
                spec_ref.create(&s).await
            })
            .await;
        if let Some(mut cancelled) = cancelled {
            cancelled.armed = false;
        }
        match result {
            Ok((path, stat)) => Ok((ns.strip(&path), stat)),
            Err(e) => {
                if let Some(id) = id
                    && e.is_retryable()
                {
                    delete_orphan_in_background(
                        client,
                        target.clone(),
                        id,
                        self.mode.is_ephemeral(),
                    );
                }
                Err(e)
            }
        }
    }
}

impl<'a> IntoFuture for CreateBuilder<'a> {
    type Output = Result<String>;
    type IntoFuture = OpFuture<'a, String>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.run().await.map(|(p, _)| p) })
    }
}

/// One create attempt's settings.
struct CreateSpec<'a> {
    path: &'a str,
    data: &'a [u8],
    acl: &'a [Acl],
    /// The ACLs of the parents it makes.
    acls: &'a dyn AclProvider,
    mode: CreateMode,
    ttl: Option<Duration>,
    parents: Option<bool>,
    idempotent: bool,
}

impl CreateSpec<'_> {
    /// One attempt: create; on NoNode make the parents and create again; on
    /// NodeExists under idempotency, accept a node that holds exactly our data.
    async fn create(&self, s: &Session) -> Result<(String, Stat)> {
        let mut result = self.create_node(s).await;
        if let (
            Err(Error::Server {
                code: Code::NoNode, ..
            }),
            Some(containers),
        ) = (&result, self.parents)
        {
            let (parent, _) = split(self.path);
            if parent != "/" {
                make_dirs(s, parent, containers, self.acls).await?;
            }
            result = self.create_node(s).await;
        }
        match result {
            Err(Error::Server {
                code: Code::NodeExists,
                ..
            }) if self.idempotent => {
                let (data, stat) = s.get_data(self.path).await?;
                let ours = !self.mode.is_ephemeral() || stat.ephemeral_owner == s.session_id();
                if data.as_ref() == self.data && ours {
                    Ok((self.path.to_string(), stat))
                } else {
                    Err(Error::server(Code::NodeExists, Some(self.path.to_string())))
                }
            }
            other => other,
        }
    }

    async fn create_node(&self, s: &Session) -> Result<(String, Stat)> {
        match self.ttl {
            Some(ttl) => {
                s.create_ttl(self.path, self.data, self.acl, self.mode, ttl)
                    .await
            }
            None => s.create(self.path, self.data, self.acl, self.mode).await,
        }
    }
}

/// A protected create in flight: dropped while armed, it starts the orphan
/// cleanup; disarmed once the create has an outcome.
struct CancelledCreate<'a> {
    client: &'a Client,
    target: String,
    id: String,
    ephemeral: bool,
    armed: bool,
}

impl Drop for CancelledCreate<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        info!(path = %self.target, "protected create cancelled; cleaning up in the background");
        delete_orphan_in_background(
            self.client,
            std::mem::take(&mut self.target),
            std::mem::take(&mut self.id),
            self.ephemeral,
        );
    }
}

/// After a protected create failed for good, keeps looking for a node an attempt
/// may have made and deletes it, while the client is open.
fn delete_orphan_in_background(client: &Client, protected: String, id: String, ephemeral: bool) {
    let weak = client.downgrade();
    client.spawn_background(async move {
        for attempt in 0u32.. {
            let Some(client) = weak.upgrade() else { return };
            let done = async {
                let s = client.connected_session().await?;
                match find_protected_node(&s, &protected, &id, false).await? {
                    None => Ok::<_, Error>(()),
                    Some((path, _)) => match s.delete(&path, None).await {
                        Ok(()) | Err(Error::Server { code: Code::NoNode, .. }) => {
                            info!(%path, "deleted the node of a failed protected create");
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                }
            }
            .await;
            match done {
                Ok(()) => return,
                Err(e) if e.is_retryable() => {
                    drop(client);
                    tokio::time::sleep(BACKGROUND_BACKOFF.delay_for(attempt)).await;
                }
                Err(e) => {
                    warn!(error = %e, path = %protected, ephemeral, "cannot clean up after a failed protected create");
                    return;
                }
            }
        }
    })
}

/// The pause between background attempts (orphan cleanup, guaranteed deletes):
/// 100 ms doubling up to 5 s, for as long as the client is open.
pub(crate) const BACKGROUND_BACKOFF: zk_retry::ExponentialBackoffForever =
    zk_retry::ExponentialBackoffForever::new(Duration::from_millis(100), Duration::from_secs(5));
