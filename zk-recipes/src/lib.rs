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

// Leader election (Curator's LeaderLatch and LeaderSelector); its types are re-exported here.
pub mod leader;
pub use leader::{
    CloseMode, FencingToken, LeaderError, LeaderLatch, LeaderSelector, LeaderSelectorListener,
    LeadershipContext, LeadershipEvent, LeadershipEvents, Participant,
};
