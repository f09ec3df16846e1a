//! Service discovery, compatible with Apache Curator's `curator-x-discovery`.
//!
//! The pieces here do no I/O: the instance record and its JSON, URI templates, the strategies
//! that pick an instance, the filters applied before them and the down-instance bookkeeping.
//!
//! - [`ServiceInstance`] / [`ServiceInstanceBuilder`]: one instance, stored at `basePath/name/id`.
//! - [`JsonInstanceSerializer`]: Curator's JSON, byte for byte.
//! - [`UriSpec`]: `{scheme}://{address}:{port}` templates.
//! - [`ServiceType`]: dynamic (ephemeral), static, permanent, dynamic sequential.
//! - [`ProviderStrategy`] with [`RoundRobin`], [`Random`] and [`Sticky`].
//! - [`InstanceFilter`], [`EnabledFilter`], [`DownInstancePolicy`] and [`DownInstanceManager`].
//! - [`InstanceSelector`]: filters plus strategy, what a service provider runs on its cached list.
//! - [`local_ipv4_addresses`]: the default address rule of Curator's builder.

mod down_instance;
mod filter;
mod instance;
mod json;
mod local_ip;
mod selector;
mod service_type;
mod strategy;
pub mod uri_spec;

pub use down_instance::{DownInstanceManager, DownInstancePolicy};
pub use filter::{EnabledFilter, InstanceFilter};
pub use instance::{ServiceInstance, ServiceInstanceBuilder, ServiceInstanceError};
pub use json::{InstanceJsonError, JsonInstanceSerializer};
pub use local_ip::{default_instance_address, local_ipv4_addresses};
pub use selector::InstanceSelector;
pub use service_type::ServiceType;
pub use strategy::{ProviderStrategy, Random, RoundRobin, Sticky};
pub use uri_spec::{UriSpec, UriSpecError, UriSpecPart};
