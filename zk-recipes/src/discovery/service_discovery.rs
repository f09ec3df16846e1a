//! `ServiceDiscovery`: registers this process's instances and reads everyone's, as
//! Curator's `ServiceDiscoveryImpl`, with the re-registration fixes Curator never shipped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use futures::StreamExt;
use tracing::{info, warn};
use zk_core::path::{join, validate_path};
use zk_core::{Client, Code};

use super::inner::DiscoveryInner;
use super::registration::{Registration, instance_path};
use super::service_cache::ServiceCacheBuilder;
use super::service_provider::ServiceProviderBuilder;
use super::{DiscoveryError, JsonInstanceSerializer, Payload, ServiceInstance};
use crate::cache::bulk_read::{BatchedReads, DEFAULT_READ_WINDOW, TreeRead, read_unwatched};
use crate::plumbing::{Lifecycle, Phase, lock};

/// Registers service instances in ZooKeeper and queries them, in Curator's layout:
/// `basePath/name/id`, holding the instance as Curator's JSON.
///
/// Registration ([`register_service`](Self::register_service), and `this_instance` at
/// [`start`](Self::start)) keeps the instance's node present for as long as it is
/// registered: the node is created again after a new session, after a reconnection
/// that finds it missing and after someone deletes it, one create per loss. A node at
/// the same path owned by another session (a leftover of an expired session, or of this
/// process before a restart) is deleted and created again for our session; a node that
/// is ours already is left alone. Failed attempts back off and are logged.
///
/// Node modes (Curator's): `Dynamic` is ephemeral, `DynamicSequential` ephemeral
/// sequential (the node keeps the name the server gave it when re-created), `Static`
/// and `Permanent` persistent. Missing parents are created as containers.
///
/// [`close`](Self::close) closes the caches and providers made from this discovery
/// and unregisters the `Dynamic`/`DynamicSequential` instances; `Static` and
/// `Permanent` ones are left in ZooKeeper (Curator deletes them too).
///
/// ```no_run
/// # async fn demo(client: zk_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use zk_recipes::{RoundRobin, ServiceDiscovery, ServiceInstance};
///
/// let discovery = ServiceDiscovery::builder()
///     .client(client)
///     .base_path("/services")
///     .this_instance(ServiceInstance::builder().name("api.user").port(8080).build()?)
///     .build()?;
/// discovery.start().await?;
/// let names = discovery.query_for_names().await?;
/// let provider = discovery.service_provider("api.user").strategy(RoundRobin::new()).build().await?;
/// let instance = provider.get_instance(); // from memory
/// # let _ = (names, instance);
/// discovery.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ServiceDiscovery<T: Payload = serde_json::Value> {
    pub(crate) inner: Arc<DiscoveryInner<T>>,
}

impl<T: Payload> Clone for ServiceDiscovery<T> {
    fn clone(&self) -> Self {
        ServiceDiscovery {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Payload> ServiceDiscovery<T> {
    /// A builder; `client` and `base_path` are required.
    pub fn builder() -> ServiceDiscoveryBuilder<T> {
        ServiceDiscoveryBuilder::default()
    }

    /// Creates the base path (persistent) if it is missing and registers `this_instance`.
    ///
    /// If registering fails with a connection error, the instance stays registered and
    /// its node is created once the connection is back; the error is still returned.
    pub async fn start(&self) -> Result<(), DiscoveryError> {
        self.inner.lifecycle.start()?;
        let base = &self.inner.base_path;
        if base != "/" {
            match self.inner.client.create(base, b"").create_parents().await {
                Ok(_) => info!(path = %base, "service discovery: created the base path"),
                Err(e) if e.code() == Some(Code::NodeExists) => {}
                // The base path exists under an ACL that lets this client read it only.
                Err(e) if e.code() == Some(Code::NoAuth) => {
                    crate::cache::ensure_path::exists_or(&self.inner.client, base, e).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(instance) = self.inner.this_instance.clone() {
            self.register_service(&instance).await?;
        }
        Ok(())
    }

    /// Registers `instance` (or, for an id registered already, re-registers it with
    /// this record) and keeps it registered until it is unregistered or the discovery
    /// closes. Returns once its node exists.
    ///
    /// If the first attempt fails with a connection error, the instance stays
    /// registered and its node is created once the connection is back; the error is
    /// still returned. Any other error leaves the instance unregistered.
    pub async fn register_service(
        &self,
        instance: &ServiceInstance<T>,
    ) -> Result<(), DiscoveryError> {
        self.check_open()?;
        let _op = self.inner.ops.lock().await;
        self.check_open()?;
        if let Some(existing) = self.registration(instance.id()) {
            let same_place = {
                let old = existing.instance();
                old.name() == instance.name() && old.service_type() == instance.service_type()
            };
            if same_place {
                return existing
                    .update(self.inner.serializer, instance.clone())
                    .await;
            }
            // Moved to another name or mode: drop the old node, then register anew.
            lock(&self.inner.registrations).remove(instance.id());
            existing.close(true).await?;
        }
        let registration = Arc::new(Registration::new(
            self.inner.client.clone(),
            &self.inner.base_path,
            self.inner.serializer,
            instance.clone(),
            self.inner.watch_instances,
        )?);
        match registration.start().await {
            Ok(path) => {
                info!(%path, "service discovery: registered");
                lock(&self.inner.registrations).insert(instance.id().to_string(), registration);
                Ok(())
            }
            Err(DiscoveryError::ZooKeeper(e)) if e.is_retryable() => {
                warn!(name = instance.name(), id = instance.id(), error = %e, "service discovery: not registered yet; will keep trying");
                lock(&self.inner.registrations).insert(instance.id().to_string(), registration);
                Err(e.into())
            }
            Err(e) => {
                let _ = registration.close(true).await;
                Err(e)
            }
        }
    }

    /// Writes a changed record for a registered instance (same id, name and service
    /// type); re-creations use it from now on.
    pub async fn update_service(
        &self,
        instance: &ServiceInstance<T>,
    ) -> Result<(), DiscoveryError> {
        self.check_open()?;
        let _op = self.inner.ops.lock().await;
        let Some(existing) = self.registration(instance.id()) else {
            return Err(DiscoveryError::NotRegistered {
                name: instance.name().to_string(),
                id: instance.id().to_string(),
            });
        };
        let old = existing.instance();
        if old.name() != instance.name() {
            return Err(DiscoveryError::InvalidUpdate {
                id: instance.id().to_string(),
                what: "name",
            });
        }
        if old.service_type() != instance.service_type() {
            return Err(DiscoveryError::InvalidUpdate {
                id: instance.id().to_string(),
                what: "service type",
            });
        }
        existing
            .update(self.inner.serializer, instance.clone())
            .await
    }

    /// Unregisters an instance and deletes its node, whatever its service type
    /// (guaranteed: after a connection error the delete goes on in the background).
    /// An instance not registered here is deleted at `basePath/name/id` if it exists,
    /// so static instances can be removed by hand.
    pub async fn unregister_service(
        &self,
        instance: &ServiceInstance<T>,
    ) -> Result<(), DiscoveryError> {
        self.check_open()?;
        let _op = self.inner.ops.lock().await;
        let removed = lock(&self.inner.registrations).remove(instance.id());
        match removed {
            Some(registration) => {
                info!(
                    name = instance.name(),
                    id = instance.id(),
                    "service discovery: unregistering"
                );
                registration.close(true).await
            }
            None => {
                let path = instance_path(&self.inner.base_path, instance.name(), instance.id());
                validate_path(&path, false).map_err(zk_core::Error::from)?;
                Ok(self
                    .inner
                    .client
                    .delete(&path)
                    .guaranteed()
                    .quietly()
                    .await?)
            }
        }
    }

    /// The names of every service (the children of the base path), sorted; empty if
    /// the base path does not exist.
    pub async fn query_for_names(&self) -> Result<Vec<String>, DiscoveryError> {
        match self.inner.client.get_children(&self.inner.base_path).await {
            Ok(mut names) => {
                names.sort();
                Ok(names)
            }
            Err(e) if e.code() == Some(Code::NoNode) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every instance of service `name`, in node-name order; empty if there are none.
    /// Nodes that vanish meanwhile are skipped, and so are nodes whose data is not an
    /// instance (with a warning).
    pub async fn query_for_instances(
        &self,
        name: &str,
    ) -> Result<Vec<ServiceInstance<T>>, DiscoveryError> {
        let service_path = join(&self.inner.base_path, name);
        validate_path(&service_path, false).map_err(zk_core::Error::from)?;
        let mut ids = match self.inner.client.get_children(&service_path).await {
            Ok(ids) => ids,
            Err(e) if e.code() == Some(Code::NoNode) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        ids.sort();
        // Every instance is read at once, in multiRead batches (no watch is needed),
        // the answers taken in id order.
        let reads = ids
            .iter()
            .map(|id| TreeRead {
                path: instance_path(&self.inner.base_path, name, id),
                data_watch: false,
                children: None,
            })
            .collect();
        let mut replies = read_unwatched(
            &self.inner.client,
            reads,
            DEFAULT_READ_WINDOW,
            self.inner.batched_reads.clone(),
        );
        let mut instances = Vec::new();
        while let Some((path, data, _)) = replies.next().await {
            let bytes = match data {
                Ok((bytes, _, _)) => bytes,
                Err(e) if e.code() == Some(Code::NoNode) => continue,
                Err(e) => return Err(e.into()),
            };
            match self.inner.serializer.deserialize(&bytes) {
                Ok(instance) => instances.push(instance),
                Err(e) => {
                    warn!(%name, %path, error = %e, "service discovery: skipping a node that is not a service instance")
                }
            }
        }
        Ok(instances)
    }

    /// The instance at `basePath/name/id`, or `None` if there is no such node.
    pub async fn query_for_instance(
        &self,
        name: &str,
        id: &str,
    ) -> Result<Option<ServiceInstance<T>>, DiscoveryError> {
        let path = instance_path(&self.inner.base_path, name, id);
        validate_path(&path, false).map_err(zk_core::Error::from)?;
        match self.inner.client.get_data(&path).await {
            Ok((bytes, _)) => Ok(Some(self.inner.serializer.deserialize(&bytes)?)),
            Err(e) if e.code() == Some(Code::NoNode) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The instances registered by this discovery now (with `watch_instances`, as last
    /// seen on their nodes), in id order.
    pub fn registered_instances(&self) -> Vec<ServiceInstance<T>> {
        let mut all: Vec<_> = lock(&self.inner.registrations)
            .values()
            .map(|r| r.instance())
            .collect();
        all.sort_by(|a, b| a.id().cmp(b.id()));
        all
    }

    /// The node path of a registered instance, once created (for dynamic sequential
    /// instances it ends with the server's sequence number).
    pub fn registered_path(&self, id: &str) -> Option<String> {
        self.registration(id).and_then(|r| r.node_path())
    }

    /// A builder for a [`ServiceCache`](super::ServiceCache) of one service.
    pub fn service_cache_builder(&self) -> ServiceCacheBuilder<T> {
        ServiceCacheBuilder::new(self.inner.clone())
    }

    /// A builder for a [`ServiceProvider`](super::ServiceProvider) of service `name`
    /// (round robin and the default down-instance policy unless set).
    pub fn service_provider(&self, name: impl Into<String>) -> ServiceProviderBuilder<T> {
        ServiceProviderBuilder::new(self.inner.clone(), name.into())
    }

    /// The client this discovery uses.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The base path.
    pub fn base_path(&self) -> &str {
        &self.inner.base_path
    }

    /// Closes the caches and providers made from this discovery, then unregisters
    /// every dynamic instance (their nodes are deleted; static and permanent ones stay).
    /// Closing twice does nothing. Returns the first error; every instance is tried.
    pub async fn close(&self) -> Result<(), DiscoveryError> {
        if self.inner.lifecycle.close() == Phase::Closed {
            return Ok(());
        }
        let caches: Vec<_> = lock(&self.inner.caches).drain(..).collect();
        for cache in caches.iter().filter_map(Weak::upgrade) {
            cache.close().await;
        }
        let _op = self.inner.ops.lock().await;
        let registrations: Vec<_> = lock(&self.inner.registrations).drain().collect();
        let mut first_error = None;
        for (id, registration) in registrations {
            let delete = registration.instance().service_type().is_dynamic();
            if let Err(e) = registration.close(delete).await {
                warn!(%id, error = %e, "service discovery: could not unregister on close");
                first_error.get_or_insert(e);
            }
        }
        info!(base = %self.inner.base_path, "service discovery closed");
        first_error.map_or(Ok(()), Err)
    }

    fn check_open(&self) -> Result<(), DiscoveryError> {
        if self.inner.is_closed() {
            Err(DiscoveryError::Closed)
        } else {
            Ok(())
        }
    }

    fn registration(&self, id: &str) -> Option<Arc<Registration<T>>> {
        lock(&self.inner.registrations).get(id).cloned()
    }
}

/// Builds a [`ServiceDiscovery`], as Curator's `ServiceDiscoveryBuilder`.
#[derive(Debug)]
#[must_use]
pub struct ServiceDiscoveryBuilder<T: Payload> {
    client: Option<Client>,
    base_path: Option<String>,
    this_instance: Option<ServiceInstance<T>>,
    watch_instances: bool,
    serializer: JsonInstanceSerializer,
}

impl<T: Payload> Default for ServiceDiscoveryBuilder<T> {
    fn default() -> Self {
        ServiceDiscoveryBuilder {
            client: None,
            base_path: None,
            this_instance: None,
            watch_instances: false,
            serializer: JsonInstanceSerializer::new(),
        }
    }
}

impl<T: Payload> ServiceDiscoveryBuilder<T> {
    /// The client (required).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The base path under which services live (required), e.g. `/services`.
    pub fn base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = Some(base_path.into());
        self
    }

    /// This process's own instance, registered by [`ServiceDiscovery::start`].
    pub fn this_instance(mut self, instance: ServiceInstance<T>) -> Self {
        self.this_instance = Some(instance);
        self
    }

    /// Whether data other clients write to our instances' nodes replaces our records
    /// (Curator's `watchInstances`, default false). Our nodes are watched either way,
    /// to create them again when they are deleted.
    pub fn watch_instances(mut self, watch: bool) -> Self {
        self.watch_instances = watch;
        self
    }

    /// The JSON serializer (default: Curator's default, without the `enabled` field).
    pub fn serializer(mut self, serializer: JsonInstanceSerializer) -> Self {
        self.serializer = serializer;
        self
    }

    /// Builds the discovery (nothing happens in ZooKeeper until `start`).
    pub fn build(self) -> Result<ServiceDiscovery<T>, DiscoveryError> {
        let client = self.client.ok_or(DiscoveryError::Missing("client"))?;
        let base_path = self.base_path.ok_or(DiscoveryError::Missing("base_path"))?;
        validate_path(&base_path, false).map_err(zk_core::Error::from)?;
        Ok(ServiceDiscovery {
            inner: Arc::new(DiscoveryInner {
                client,
                base_path,
                serializer: self.serializer,
                watch_instances: self.watch_instances,
                this_instance: self.this_instance,
                ops: tokio::sync::Mutex::new(()),
                registrations: Mutex::new(HashMap::new()),
                caches: Mutex::new(Vec::new()),
                lifecycle: Lifecycle::new(),
                batched_reads: BatchedReads::new(),
            }),
        })
    }
}
