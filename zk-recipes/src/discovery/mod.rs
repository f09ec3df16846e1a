//! Service discovery, compatible with Apache Curator's `curator-x-discovery`.
//!
//! The ZooKeeper-facing half:
//!
//! - [`ServiceDiscovery`] / [`ServiceDiscoveryBuilder`]: registers instances at
//!   `basePath/name/id` (kept registered through session loss and deletion) and queries them.
//! - [`ServiceCache`]: the instances of one service in memory, with change events.
//! - [`ServiceProvider`]: picks an instance from a cache with a strategy, no round trip.
//! - [`DiscoveryError`]: what they fail with.
//!
//! The data model, which does no I/O:
//!
//! - [`ServiceInstance`] / [`ServiceInstanceBuilder`]: one instance, stored at `basePath/name/id`.
//! - [`JsonInstanceSerializer`]: Curator's JSON, byte for byte.
//! - [`UriSpec`]: `{scheme}://{address}:{port}` templates.
//! - [`ServiceType`]: dynamic (ephemeral), static, permanent, dynamic sequential.
//! - [`ProviderStrategy`] with [`RoundRobin`], [`Random`] and [`Sticky`].
//! - [`InstanceFilter`], [`EnabledFilter`], [`DownInstancePolicy`] and [`DownInstanceManager`].
//! - [`InstanceSelector`]: filters plus strategy, what a service provider runs on its cached list.
//! - `local_ip`: the default address rule of Curator's builder (internal).

mod down_instance;
mod error;
mod filter;
mod inner;
mod instance;
mod json;
mod local_ip;
mod registration;
mod selector;
mod service_cache;
mod service_discovery;
mod service_provider;
mod service_type;
mod strategy;
pub mod uri_spec;

pub use down_instance::{DownInstanceManager, DownInstancePolicy};
pub use error::DiscoveryError;
pub use filter::{EnabledFilter, InstanceFilter};
pub use instance::{ServiceInstance, ServiceInstanceBuilder, ServiceInstanceError};
pub use json::{InstanceJsonError, JsonInstanceSerializer};

pub use selector::InstanceSelector;
pub use service_cache::{
    InstanceList, ServiceCache, ServiceCacheBuilder, ServiceCacheEvent, ServiceCacheEvents,
};
pub use service_discovery::{ServiceDiscovery, ServiceDiscoveryBuilder};
pub use service_provider::{ServiceProvider, ServiceProviderBuilder};
pub use service_type::ServiceType;
pub use strategy::{ProviderStrategy, Random, RoundRobin, Sticky};
pub use uri_spec::{UriSpec, UriSpecError, UriSpecPart};

/// What a service instance's payload must be for the ZooKeeper-facing types: readable
/// and writable as JSON, comparable (for down-instance tracking and change detection),
/// and shareable across tasks. Implemented for every such type (`serde_json::Value` is
/// the default payload).
pub trait Payload:
    serde::Serialize
    + serde::de::DeserializeOwned
    + Clone
    + PartialEq
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
}

impl<T> Payload for T where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + PartialEq
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}
