//! zk-recipes: caches, service discovery, leader election and nodes built on the framework `Client`.
//!
//! - [`discovery`]: service discovery compatible with Apache Curator's `curator-x-discovery`
//!   ([`ServiceInstance`] and its JSON, [`UriSpec`], provider strategies, instance filters and
//!   down-instance tracking). Its public types are also re-exported here.

pub mod discovery;

pub use discovery::{
    DownInstanceManager, DownInstancePolicy, EnabledFilter, InstanceFilter, InstanceJsonError,
    InstanceSelector, JsonInstanceSerializer, ProviderStrategy, Random, RoundRobin,
    ServiceInstance, ServiceInstanceBuilder, ServiceInstanceError, ServiceType, Sticky, UriSpec,
    UriSpecError, UriSpecPart,
};
