//! `ServiceInstance`: one registered instance of a service, and its builder.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;
use uuid::Uuid;

use super::local_ip::default_instance_address;
use super::{ServiceType, UriSpec};

/// Why a [`ServiceInstanceBuilder`] refused to build.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ServiceInstanceError {
    /// No name was given.
    #[error("a service instance needs a name")]
    MissingName,
    /// The name cannot be a ZooKeeper path segment.
    #[error("invalid service name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The id cannot be a ZooKeeper path segment.
    #[error("invalid service instance id {id:?}: {reason}")]
    InvalidId {
        /// The rejected id.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// One instance of a service, as Curator's `ServiceInstance<T>`.
///
/// The name and id become ZooKeeper path segments (`basePath/name/id`); the payload `T` is any
/// serde type, `serde_json::Value` by default. Build one with [`ServiceInstance::builder`];
/// read and write Curator's JSON with [`JsonInstanceSerializer`](super::JsonInstanceSerializer)
/// or [`to_json_bytes`](ServiceInstance::to_json_bytes) /
/// [`from_json_bytes`](ServiceInstance::from_json_bytes). It is also serde's `Serialize` and
/// `Deserialize` in the same layout, so `serde_json::to_string(&instance)` writes Curator's JSON
/// and an instance can sit inside a larger serde type.
///
/// Equality compares every field, payload included, as Curator's `equals` does; the
/// [`DownInstanceManager`](super::DownInstanceManager) and [`Sticky`](super::Sticky) strategy
/// rely on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInstance<T = serde_json::Value> {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) address: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) ssl_port: Option<u16>,
    pub(super) payload: Option<T>,
    pub(super) registration_time_utc: i64,
    pub(super) service_type: ServiceType,
    pub(super) uri_spec: Option<UriSpec>,
    pub(super) enabled: bool,
}

impl ServiceInstance {
    /// A builder for an instance whose payload is a `serde_json::Value`; call
    /// [`payload`](ServiceInstanceBuilder::payload) with another type to change it, or use
    /// [`ServiceInstanceBuilder::new`] for a typed instance without a payload.
    ///
    /// ```
    /// use zk_recipes::{ServiceInstance, ServiceType};
    ///
    /// let instance = ServiceInstance::builder()
    ///     .name("api.user")
    ///     .address("10.0.0.7")
    ///     .port(8080)
    ///     .payload(serde_json::json!({"zone": "eu-1"}))
    ///     .build()?;
    /// assert_eq!(instance.name(), "api.user");
    /// assert_eq!(instance.service_type(), ServiceType::Dynamic);
    /// assert_eq!(instance.id().len(), 36); // a random UUID
    /// # Ok::<(), zk_recipes::ServiceInstanceError>(())
    /// ```
    pub fn builder() -> ServiceInstanceBuilder<serde_json::Value> {
        ServiceInstanceBuilder::new()
    }
}

impl<T> ServiceInstance<T> {
    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This instance's id, unique within the service.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The address clients connect to, if any.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// The plain port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The SSL port, if any.
    pub fn ssl_port(&self) -> Option<u16> {
        self.ssl_port
    }

    /// The user payload, if any.
    pub fn payload(&self) -> Option<&T> {
        self.payload.as_ref()
    }

    /// When the instance was registered, in milliseconds since the Unix epoch.
    pub fn registration_time_utc(&self) -> i64 {
        self.registration_time_utc
    }

    /// How the instance is registered.
    pub fn service_type(&self) -> ServiceType {
        self.service_type
    }

    /// The URI template, if any.
    pub fn uri_spec(&self) -> Option<&UriSpec> {
        self.uri_spec.as_ref()
    }

    /// Whether the instance takes traffic; providers skip disabled instances.
    ///
    /// Curator's default (compatible) JSON does not carry this flag, so it is `true` for every
    /// instance read from such JSON.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The instance's URI from its [`UriSpec`], or the empty string when it has none.
    pub fn build_uri_spec(&self) -> String {
        self.uri_spec
            .as_ref()
            .map(|spec| spec.build_for(self))
            .unwrap_or_default()
    }

    /// As [`build_uri_spec`](Self::build_uri_spec), with extra variables that override the
    /// instance's own fields.
    pub fn build_uri_spec_with(&self, variables: &HashMap<String, String>) -> String {
        self.uri_spec
            .as_ref()
            .map(|spec| spec.build_with(self, variables))
            .unwrap_or_default()
    }

    /// A builder holding this instance's fields, to make a changed copy.
    pub fn to_builder(&self) -> ServiceInstanceBuilder<T>
    where
        T: Clone,
    {
        ServiceInstanceBuilder {
            name: Some(self.name.clone()),
            id: Some(self.id.clone()),
            address: Some(self.address.clone()),
            port: self.port,
            ssl_port: self.ssl_port,
            payload: self.payload.clone(),
            registration_time_utc: Some(self.registration_time_utc),
            service_type: self.service_type,
            uri_spec: self.uri_spec.clone(),
            enabled: self.enabled,
        }
    }
}

/// Builds a [`ServiceInstance`], filling in Curator's defaults.
///
/// Defaults: id a random UUID, address the machine's first non-loopback IPv4 address
/// (the first non-loopback IPv4 address of this machine, `127.0.0.1` if none), registration
/// time now, service type [`ServiceType::Dynamic`], enabled. The name is required.
#[derive(Debug, Clone)]
#[must_use]
pub struct ServiceInstanceBuilder<T = serde_json::Value> {
    name: Option<String>,
    id: Option<String>,
    /// `None`: not set, use the local address; `Some(None)`: explicitly no address.
    address: Option<Option<String>>,
    port: Option<u16>,
    ssl_port: Option<u16>,
    payload: Option<T>,
    registration_time_utc: Option<i64>,
    service_type: ServiceType,
    uri_spec: Option<UriSpec>,
    enabled: bool,
}

impl<T> Default for ServiceInstanceBuilder<T> {
    fn default() -> Self {
        ServiceInstanceBuilder {
            name: None,
            id: None,
            address: None,
            port: None,
            ssl_port: None,
            payload: None,
            registration_time_utc: None,
            service_type: ServiceType::Dynamic,
            uri_spec: None,
            enabled: true,
        }
    }
}

impl<T> ServiceInstanceBuilder<T> {
    /// A builder with nothing set, for any payload type.
    pub fn new() -> Self {
        ServiceInstanceBuilder::default()
    }

    /// The service's name (required): one ZooKeeper path segment.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The instance id: one ZooKeeper path segment, unique within the service.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The address clients connect to.
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(Some(address.into()));
        self
    }

    /// Registers no address at all (JSON `null`) instead of the local default.
    pub fn no_address(mut self) -> Self {
        self.address = Some(None);
        self
    }

    /// The plain port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The SSL port; with one set, `{scheme}` in a [`UriSpec`] becomes `https`.
    pub fn ssl_port(mut self, ssl_port: u16) -> Self {
        self.ssl_port = Some(ssl_port);
        self
    }

    /// The payload; this may change the builder's payload type.
    pub fn payload<U>(self, payload: U) -> ServiceInstanceBuilder<U> {
        ServiceInstanceBuilder {
            name: self.name,
            id: self.id,
            address: self.address,
            port: self.port,
            ssl_port: self.ssl_port,
            payload: Some(payload),
            registration_time_utc: self.registration_time_utc,
            service_type: self.service_type,
            uri_spec: self.uri_spec,
            enabled: self.enabled,
        }
    }

    /// The registration time in milliseconds since the Unix epoch (default: now).
    pub fn registration_time_utc(mut self, millis: i64) -> Self {
        self.registration_time_utc = Some(millis);
        self
    }

    /// How the instance is registered (default [`ServiceType::Dynamic`]).
    pub fn service_type(mut self, service_type: ServiceType) -> Self {
        self.service_type = service_type;
        self
    }

    /// The URI template.
    pub fn uri_spec(mut self, uri_spec: UriSpec) -> Self {
        self.uri_spec = Some(uri_spec);
        self
    }

    /// Whether the instance takes traffic (default `true`). Curator's default JSON does not
    /// carry this flag; see [`JsonInstanceSerializer::with_enabled_field`](super::JsonInstanceSerializer::with_enabled_field).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Checks the name and id and builds the instance.
    pub fn build(self) -> Result<ServiceInstance<T>, ServiceInstanceError> {
        let name = self.name.ok_or(ServiceInstanceError::MissingName)?;
        if let Err(reason) = check_path_segment(&name) {
            return Err(ServiceInstanceError::InvalidName { name, reason });
        }
        let id = self.id.unwrap_or_else(|| Uuid::new_v4().to_string());
        if let Err(reason) = check_path_segment(&id) {
            return Err(ServiceInstanceError::InvalidId { id, reason });
        }
        let address = self
            .address
            .unwrap_or_else(|| Some(default_instance_address().to_string()));
        Ok(ServiceInstance {
            name,
            id,
            address,
            port: self.port,
            ssl_port: self.ssl_port,
            payload: self.payload,
            registration_time_utc: self.registration_time_utc.unwrap_or_else(now_epoch_millis),
            service_type: self.service_type,
            uri_spec: self.uri_spec,
            enabled: self.enabled,
        })
    }
}

/// Whether `segment` can be one node name in a ZooKeeper path.
fn check_path_segment(segment: &str) -> Result<(), &'static str> {
    if segment.is_empty() {
        Err("must not be empty")
    } else if segment.contains('/') {
        Err("must not contain '/'")
    } else if segment == "." || segment == ".." {
        Err("must not be '.' or '..'")
    } else if segment.contains('\0') {
        Err("must not contain NUL")
    } else {
        Ok(())
    }
}

fn now_epoch_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_curator() {
        let before = now_epoch_millis();
        let instance = ServiceInstance::builder().name("svc").build().unwrap();
        let after = now_epoch_millis();
        assert!(Uuid::parse_str(instance.id()).is_ok());
        assert_eq!(
            instance.address(),
            Some(default_instance_address().to_string().as_str())
        );
        assert_eq!(instance.port(), None);
        assert_eq!(instance.ssl_port(), None);
        assert_eq!(instance.payload(), None);
        assert!((before..=after).contains(&instance.registration_time_utc()));
        assert_eq!(instance.service_type(), ServiceType::Dynamic);
        assert_eq!(instance.uri_spec(), None);
        assert!(instance.enabled());
        assert_eq!(instance.build_uri_spec(), "");
    }

    #[test]
    fn two_builds_get_different_ids() {
        let a = ServiceInstance::builder().name("svc").build().unwrap();
        let b = ServiceInstance::builder().name("svc").build().unwrap();
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn every_setter_lands_in_its_field() {
        let spec = UriSpec::parse("{scheme}://{address}:{ssl-port}").unwrap();
        let instance = ServiceInstance::builder()
            .name("svc")
            .id("i-1")
            .address("10.1.2.3")
            .port(80)
            .ssl_port(443)
            .payload(7u32)
            .registration_time_utc(1234)
            .service_type(ServiceType::Static)
            .uri_spec(spec.clone())
            .enabled(false)
            .build()
            .unwrap();
        assert_eq!(instance.name(), "svc");
        assert_eq!(instance.id(), "i-1");
        assert_eq!(instance.address(), Some("10.1.2.3"));
        assert_eq!(instance.port(), Some(80));
        assert_eq!(instance.ssl_port(), Some(443));
        assert_eq!(instance.payload(), Some(&7u32));
        assert_eq!(instance.registration_time_utc(), 1234);
        assert_eq!(instance.service_type(), ServiceType::Static);
        assert_eq!(instance.uri_spec(), Some(&spec));
        assert!(!instance.enabled());
        assert_eq!(instance.build_uri_spec(), "https://10.1.2.3:443");
        let vars = HashMap::from([("scheme".to_owned(), "grpc".to_owned())]);
        assert_eq!(instance.build_uri_spec_with(&vars), "grpc://10.1.2.3:443");
        assert_eq!(instance.to_builder().build().unwrap(), instance);
    }

    #[test]
    fn no_address_means_none() {
        let instance = ServiceInstance::builder()
            .name("svc")
            .no_address()
            .build()
            .unwrap();
        assert_eq!(instance.address(), None);
    }

    #[test]
    fn typed_instance_without_payload() {
        let instance = ServiceInstanceBuilder::<String>::new()
            .name("svc")
            .build()
            .unwrap();
        assert_eq!(instance.payload(), None::<&String>);
    }

    #[test]
    fn bad_names_and_ids_are_typed_errors() {
        assert_eq!(
            ServiceInstance::builder().build().unwrap_err(),
            ServiceInstanceError::MissingName
        );
        for (name, reason) in [
            ("", "must not be empty"),
            ("a/b", "must not contain '/'"),
            ("..", "must not be '.' or '..'"),
            ("a\0", "must not contain NUL"),
        ] {
            assert_eq!(
                ServiceInstance::builder().name(name).build().unwrap_err(),
                ServiceInstanceError::InvalidName {
                    name: name.to_owned(),
                    reason
                }
            );
        }
        assert_eq!(
            ServiceInstance::builder()
                .name("svc")
                .id("x/y")
                .build()
                .unwrap_err(),
            ServiceInstanceError::InvalidId {
                id: "x/y".to_owned(),
                reason: "must not contain '/'"
            }
        );
        assert!(matches!(
            ServiceInstance::builder().name("svc").id("").build(),
            Err(ServiceInstanceError::InvalidId { .. })
        ));
    }
}
