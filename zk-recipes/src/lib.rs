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
