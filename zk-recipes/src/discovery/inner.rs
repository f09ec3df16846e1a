//! The state a [`ServiceDiscovery`](super::ServiceDiscovery) shares with its caches
//! and providers: the client, the base path, the registrations, the caches to close
//! with it, and its lifecycle. Its own file, so the handle, the caches and the
//! providers each depend on it rather than on each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use zk_core::Client;

use super::registration::Registration;
use super::service_cache::CacheInner;
use super::{JsonInstanceSerializer, Payload, ServiceInstance};
use crate::cache::bulk_read::BatchedReads;
use crate::plumbing::{Lifecycle, lock};

/// What the discovery, its caches and its providers share.
#[derive(Debug)]
pub(crate) struct DiscoveryInner<T: Payload> {
    pub(crate) client: Client,
    pub(crate) base_path: String,
    pub(crate) serializer: JsonInstanceSerializer,
    pub(crate) watch_instances: bool,
    pub(crate) this_instance: Option<ServiceInstance<T>>,
    /// Serializes register / update / unregister / close.
    pub(crate) ops: tokio::sync::Mutex<()>,
    pub(crate) registrations: Mutex<HashMap<String, Arc<Registration<T>>>>,
    pub(crate) caches: Mutex<Vec<Weak<CacheInner<T>>>>,
    pub(crate) lifecycle: Lifecycle,
    /// Whether queries may read their instances in multiRead batches.
    pub(crate) batched_reads: BatchedReads,
}

impl<T: Payload> DiscoveryInner<T> {
    /// Records a cache so that `close()` closes it too; forgets dropped ones.
    pub(crate) fn track_cache(&self, cache: &Arc<CacheInner<T>>) {
        let mut caches = lock(&self.caches);
        caches.retain(|c| c.strong_count() > 0);
        caches.push(Arc::downgrade(cache));
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lifecycle.is_closed()
    }
}
