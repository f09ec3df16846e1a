//! zk-recipes: caches, service discovery, leader election and nodes built on the framework `Client`.
//!
//! - [`discovery`]: service discovery compatible with Apache Curator's `curator-x-discovery`:
//!   [`ServiceDiscovery`] registers instances (kept registered through session loss and
//!   deletion) and queries them, [`ServiceCache`] keeps one service's instances in memory,
//!   [`ServiceProvider`] picks one with a strategy; and the data model: [`ServiceInstance`]
//!   and its JSON, [`UriSpec`], provider strategies, instance filters and down-instance
//!   tracking. Its public types are also re-exported here.
//! - [`nodes`]: [`PersistentNode`], a node that is created again after deletion or session
//!   loss.

pub mod discovery;
pub mod nodes;

pub use discovery::{
    DiscoveryError, DownInstanceManager, DownInstancePolicy, EnabledFilter, InstanceFilter,
    InstanceJsonError, InstanceList, InstanceSelector, JsonInstanceSerializer, Payload,
    ProviderStrategy, Random, RoundRobin, ServiceCache, ServiceCacheBuilder, ServiceCacheEvent,
    ServiceCacheEvents, ServiceDiscovery, ServiceDiscoveryBuilder, ServiceInstance,
    ServiceInstanceBuilder, ServiceInstanceError, ServiceProvider, ServiceProviderBuilder,
    ServiceType, Sticky, UriSpec, UriSpecError, UriSpecPart,
};
pub use nodes::PersistentNode;
