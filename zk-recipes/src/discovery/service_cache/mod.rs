//! `ServiceCache`: the instances of one service, kept in memory and up to date.

mod worker;

use std::sync::Arc;

use arc_swap::ArcSwap;

use tokio::sync::watch;
use zk_core::path::{join, validate_path};
use zk_core::{Client, ConnectionState};

use super::inner::DiscoveryInner;
use super::{DiscoveryError, JsonInstanceSerializer, Payload, ServiceInstance};
use crate::plumbing::{FanOut, Lifecycle};

/// The cached list: shared, immutable snapshots.
pub type InstanceList<T> = Arc<Vec<Arc<ServiceInstance<T>>>>;

/// What a [`ServiceCache`] reports, as Curator's `ServiceCacheListener`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceCacheEvent {
    /// The list of instances changed (an instance was added, removed or updated).
    /// Not sent for the initial load.
    Changed,
    /// The client's connection state changed.
    ConnectionStateChanged(ConnectionState),
}

/// The instances of one service, held in memory: [`instances`](Self::instances) does
/// no I/O.
///
/// Kept current by a [`PathChildrenCache`](crate::cache::PathChildrenCache) on
/// `basePath/name`, which re-reads in full after a reconnection and on a new session. Nodes whose data
/// is not an instance are left out (with a warning). As Curator's `ServiceCache`, it
/// creates `basePath/name` as a container node if it is missing.
#[derive(Debug)]
pub struct ServiceCache<T: Payload> {
    inner: Arc<CacheInner<T>>,
}

/// What the cache handle, its task and the discovery share.
#[derive(Debug)]
pub(crate) struct CacheInner<T: Payload> {
    pub(crate) client: Client,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) serializer: JsonInstanceSerializer,
    pub(crate) instances: watch::Sender<InstanceList<T>>,
    /// The same list, for readers on the hot path: loaded without a lock and without
    /// touching the list's reference count.
    pub(crate) current: ArcSwap<Vec<Arc<ServiceInstance<T>>>>,
    /// Set once the first full load is done (or `Err` with why it failed).
    pub(crate) initialized: watch::Sender<Option<Result<(), zk_core::Error>>>,
    listeners: FanOut<ServiceCacheEvent>,
    lifecycle: Lifecycle,
}

impl<T: Payload> ServiceCache<T> {
    /// Starts the cache and waits for the first load of the list. If the first load
    /// fails (say, no connection in time), its error is returned and the cache keeps
    /// trying in the background.
    pub async fn start(&self) -> Result<(), DiscoveryError> {
        let guard = self.inner.lifecycle.begin_start()?;
        let mut initialized = self.inner.initialized.subscribe();
        guard.commit_spawning(worker::run(self.inner.clone()))?;
        let outcome = initialized
            .wait_for(Option::is_some)
            .await
            .map_err(|_| DiscoveryError::Closed)?
            .clone();
        match outcome {
            Some(Err(e)) => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The instances now, in node-name order. No I/O.
    pub fn instances(&self) -> InstanceList<T> {
        self.inner.current.load_full()
    }

    /// The list now, without a lock or a reference-count update: for a caller that
    /// looks at it briefly (a provider picking an instance).
    pub(crate) fn current(&self) -> arc_swap::Guard<InstanceList<T>> {
        self.inner.current.load()
    }

    /// A receiver of the list that also lets you wait for the next change.
    pub fn instances_watch(&self) -> watch::Receiver<InstanceList<T>> {
        self.inner.instances.subscribe()
    }

    /// Change and connection events from now on; the stream ends when the cache closes.
    pub fn events(&self) -> ServiceCacheEvents {
        self.inner.listeners.subscribe()
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Stops the cache's task and ends its event streams. Closing twice does nothing.
    pub async fn close(&self) {
        self.inner.close().await;
    }
}

impl<T: Payload> Drop for ServiceCache<T> {
    fn drop(&mut self) {
        self.inner.stop();
    }
}

impl<T: Payload> CacheInner<T> {
    /// Sends an event to every live listener.
    pub(crate) fn emit(&self, event: ServiceCacheEvent) {
        self.listeners.emit(event);
    }

    pub(crate) async fn close(&self) {
        self.mark_closed();
        self.lifecycle.stop_task().await;
    }

    /// Closes the cache without waiting for its task (for `Drop`).
    fn stop(&self) {
        self.mark_closed();
        self.lifecycle.abort_task();
    }

    fn mark_closed(&self) {
        self.lifecycle.close();
        self.listeners.close();
        self.initialized.send_if_modified(|init| {
            let unset = init.is_none();
            if unset {
                *init = Some(Err(zk_core::Error::Closed));
            }
            unset
        });
    }
}

/// The stream returned by [`ServiceCache::events`].
pub type ServiceCacheEvents = crate::plumbing::Events<ServiceCacheEvent>;

/// Builds a [`ServiceCache`]: `discovery.service_cache_builder().name("api").build()?`.
#[derive(Debug)]
#[must_use]
pub struct ServiceCacheBuilder<T: Payload> {
    discovery: Arc<DiscoveryInner<T>>,
    name: Option<String>,
}

impl<T: Payload> ServiceCacheBuilder<T> {
    pub(crate) fn new(discovery: Arc<DiscoveryInner<T>>) -> Self {
        ServiceCacheBuilder {
            discovery,
            name: None,
        }
    }

    /// The service's name (required).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Builds the cache (not started); the discovery's `close()` closes it too.
    pub fn build(self) -> Result<ServiceCache<T>, DiscoveryError> {
        if self.discovery.is_closed() {
            return Err(DiscoveryError::Closed);
        }
        let name = self.name.ok_or(DiscoveryError::Missing("name"))?;
        let path = join(&self.discovery.base_path, &name);
        validate_path(&path, false).map_err(zk_core::Error::from)?;
        let inner = Arc::new(CacheInner {
            client: self.discovery.client.clone(),
            name,
            path,
            serializer: self.discovery.serializer,
            instances: watch::Sender::new(Arc::new(Vec::new())),
            current: ArcSwap::from_pointee(Vec::new()),
            initialized: watch::Sender::new(None),
            listeners: FanOut::new(),
            lifecycle: Lifecycle::new(),
        });
        self.discovery.track_cache(&inner);
        Ok(ServiceCache { inner })
    }
}
