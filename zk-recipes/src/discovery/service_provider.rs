//! `ServiceProvider`: picks an instance of one service from a [`ServiceCache`], with no
//! round trip, as Curator's `ServiceProviderImpl`.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::inner::DiscoveryInner;
use super::service_cache::ServiceCacheBuilder;
use super::{
    DiscoveryError, DownInstancePolicy, InstanceFilter, InstanceList, InstanceSelector, Payload,
    ProviderStrategy, RoundRobin, ServiceCache, ServiceInstance,
};

/// Hands out instances of one service from memory: its [`ServiceCache`] keeps the list,
/// an [`InstanceSelector`] filters it (user filters, instances noted down, disabled
/// instances) and lets the strategy pick.
///
/// ```no_run
/// # async fn demo(discovery: zk_recipes::ServiceDiscovery) -> Result<(), zk_recipes::DiscoveryError> {
/// use zk_recipes::{DownInstancePolicy, RoundRobin, ServiceInstance};
///
/// let provider = discovery
///     .service_provider("api.user")
///     .strategy(RoundRobin::new())
///     .filter(|i: &ServiceInstance| i.port().is_some())
///     .down_instance_policy(DownInstancePolicy::default())
///     .build()
///     .await?;
/// if let Some(instance) = provider.get_instance() {
///     // ... call it; on failure:
///     provider.note_error(&instance);
/// }
/// provider.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ServiceProvider<T: Payload> {
    cache: ServiceCache<T>,
    selector: InstanceSelector<T>,
    /// The cache's list as last seen, with the user's filters and the enabled check
    /// applied: filters run once per list, not once per call.
    prepared: ArcSwap<Prepared<T>>,
}

/// A list of the cache and what passes the filters in it.
#[derive(Debug)]
struct Prepared<T> {
    source: InstanceList<T>,
    usable: Vec<Arc<ServiceInstance<T>>>,
}

impl<T: Payload> ServiceProvider<T> {
    /// An instance for a single use, or `None` if none is available. No I/O, no lock
    /// and no allocation while the list is unchanged and no error has been noted.
    /// Don't keep it: ask again for the next call.
    ///
    /// Filters are applied once per list the cache publishes, so they must decide
    /// from the instance alone (as Curator's `InstanceFilter`s do).
    pub fn get_instance(&self) -> Option<Arc<ServiceInstance<T>>> {
        let current = self.cache.current();
        let prepared = self.prepared.load();
        if Arc::ptr_eq(&prepared.source, &current) {
            return self.selector.pick_usable(&prepared.usable);
        }
        let fresh = Arc::new(Prepared {
            usable: self.selector.usable(&current),
            source: Arc::clone(&current),
        });
        self.prepared.store(Arc::clone(&fresh));
        self.selector.pick_usable(&fresh.usable)
    }

    /// Every instance that passes the filters now (Curator's `getAllInstances`). No I/O.
    pub fn get_all_instances(&self) -> Vec<Arc<ServiceInstance<T>>> {
        self.selector.filtered(&self.cache.instances())
    }

    /// Reports that a call to `instance` failed; enough errors within the policy's
    /// window take it out of rotation for a while.
    pub fn note_error(&self, instance: &ServiceInstance<T>) {
        self.selector.note_error(instance);
    }

    /// The cache under this provider (for its events or the raw list).
    pub fn cache(&self) -> &ServiceCache<T> {
        &self.cache
    }

    /// Closes the provider's cache.
    pub async fn close(&self) {
        self.cache.close().await;
    }
}

/// Builds a [`ServiceProvider`]: `discovery.service_provider(name)...build().await?`.
#[must_use]
pub struct ServiceProviderBuilder<T: Payload> {
    discovery: Arc<DiscoveryInner<T>>,
    name: String,
    strategy: Option<Box<dyn ProviderStrategy<T>>>,
    filters: Vec<Box<dyn InstanceFilter<T>>>,
    policy: DownInstancePolicy,
}

impl<T: Payload> std::fmt::Debug for ServiceProviderBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceProviderBuilder")
            .field("name", &self.name)
            .field("custom_strategy", &self.strategy.is_some())
            .field("filters", &self.filters.len())
            .field("policy", &self.policy)
            .finish()
    }
}

impl<T: Payload> ServiceProviderBuilder<T> {
    pub(crate) fn new(discovery: Arc<DiscoveryInner<T>>, name: String) -> Self {
        ServiceProviderBuilder {
            discovery,
            name,
            strategy: None,
            filters: Vec::new(),
            policy: DownInstancePolicy::default(),
        }
    }

    /// The strategy (default [`RoundRobin`]).
    pub fn strategy(mut self, strategy: impl ProviderStrategy<T> + 'static) -> Self {
        self.strategy = Some(Box::new(strategy));
        self
    }

    /// Adds a filter, applied after those added before it.
    pub fn filter(mut self, filter: impl InstanceFilter<T> + 'static) -> Self {
        self.filters.push(Box::new(filter));
        self
    }

    /// The down-instance policy (default: Curator's, 30 s after 2 errors).
    pub fn down_instance_policy(mut self, policy: DownInstancePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Builds the provider and starts its cache (waiting for the first load).
    pub async fn build(self) -> Result<ServiceProvider<T>, DiscoveryError> {
        let cache = ServiceCacheBuilder::new(self.discovery.clone())
            .name(self.name)
            .build()?;
        let strategy = self.strategy.unwrap_or_else(|| Box::new(RoundRobin::new()));
        let mut selector = InstanceSelector::new(strategy).with_down_instance_policy(self.policy);
        for filter in self.filters {
            selector = selector.with_filter(move |i: &ServiceInstance<T>| filter.accepts(i));
        }
        cache.start().await?;
        let source = cache.instances();
        let prepared = ArcSwap::from_pointee(Prepared {
            usable: selector.usable(&source),
            source,
        });
        Ok(ServiceProvider {
            cache,
            selector,
            prepared,
        })
    }
}
