//! zk-recipes: caches, service discovery, leader election and nodes built on the framework `Client`.
//!
//! - [`cache`]: local copies of part of the tree kept up to date by watches, with events:
//!   [`PathChildrenCache`], [`NodeCache`], [`TreeCache`] and [`CuratorCache`] (one persistent
//!   recursive watch). Their public types are also re-exported here.
//! - [`discovery`]: service discovery compatible with Apache Curator's `curator-x-discovery`
//!   ([`ServiceInstance`] and its JSON, [`UriSpec`], provider strategies, instance filters and
//!   down-instance tracking). Its public types are also re-exported here.

pub mod cache;
pub mod discovery;

pub use cache::{
    CacheError, CacheEvents, ChildData, CuratorCache, CuratorCacheBuilder, CuratorCacheEvent,
    NodeCache, NodeCacheEvent, PathChildrenCache, PathChildrenCacheBuilder, PathChildrenCacheEvent,
    StartMode, TreeCache, TreeCacheBuilder, TreeCacheEvent,
};

pub use discovery::{
    DownInstanceManager, DownInstancePolicy, EnabledFilter, InstanceFilter, InstanceJsonError,
    InstanceSelector, JsonInstanceSerializer, ProviderStrategy, Random, RoundRobin,
    ServiceInstance, ServiceInstanceBuilder, ServiceInstanceError, ServiceType, Sticky, UriSpec,
    UriSpecError, UriSpecPart,
};

// Leader election (Curator's LeaderLatch and LeaderSelector); its types are re-exported here.
pub mod leader;
pub use leader::{
    CloseMode, FencingToken, LeaderError, LeaderLatch, LeaderSelector, LeaderSelectorListener,
    LeadershipContext, LeadershipEvent, LeadershipEvents, Participant,
};
