//! The kind of registration a service instance has, as Curator's `ServiceType` enum.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an instance is registered in ZooKeeper.
///
/// Serialized as Curator's Java enum names (`"DYNAMIC"`, `"STATIC"`, `"PERMANENT"`,
/// `"DYNAMIC_SEQUENTIAL"`), so Java and Rust services read each other's registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceType {
    /// Registered as an ephemeral node: it goes away with the session that created it.
    #[default]
    Dynamic,
    /// Registered as a persistent node, but meant to be managed by hand.
    Static,
    /// Registered as a persistent node that outlives the registering process.
    Permanent,
    /// Registered as an ephemeral sequential node.
    DynamicSequential,
}

impl ServiceType {
    /// Whether the registration is ephemeral (`Dynamic` or `DynamicSequential`).
    pub fn is_dynamic(self) -> bool {
        matches!(self, ServiceType::Dynamic | ServiceType::DynamicSequential)
    }

    /// The Java enum constant name, e.g. `"DYNAMIC_SEQUENTIAL"`.
    pub fn as_java_name(self) -> &'static str {
        match self {
            ServiceType::Dynamic => "DYNAMIC",
            ServiceType::Static => "STATIC",
            ServiceType::Permanent => "PERMANENT",
            ServiceType::DynamicSequential => "DYNAMIC_SEQUENTIAL",
        }
    }

    /// The lower-case name a [`UriSpec`](super::UriSpec) substitutes for `{service-type}`,
    /// e.g. `"dynamic_sequential"`.
    pub fn as_uri_value(self) -> &'static str {
        match self {
            ServiceType::Dynamic => "dynamic",
            ServiceType::Static => "static",
            ServiceType::Permanent => "permanent",
            ServiceType::DynamicSequential => "dynamic_sequential",
        }
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_java_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_java_enum_names() {
        for (ty, json) in [
            (ServiceType::Dynamic, "\"DYNAMIC\""),
            (ServiceType::Static, "\"STATIC\""),
            (ServiceType::Permanent, "\"PERMANENT\""),
            (ServiceType::DynamicSequential, "\"DYNAMIC_SEQUENTIAL\""),
        ] {
            assert_eq!(serde_json::to_string(&ty).unwrap(), json);
            assert_eq!(serde_json::from_str::<ServiceType>(json).unwrap(), ty);
            assert_eq!(format!("\"{ty}\""), json);
        }
    }

    #[test]
    fn only_ephemeral_kinds_are_dynamic() {
        assert!(ServiceType::Dynamic.is_dynamic());
        assert!(ServiceType::DynamicSequential.is_dynamic());
        assert!(!ServiceType::Static.is_dynamic());
        assert!(!ServiceType::Permanent.is_dynamic());
    }

    #[test]
    fn unknown_name_is_an_error() {
        assert!(serde_json::from_str::<ServiceType>("\"dynamic\"").is_err());
    }
}
