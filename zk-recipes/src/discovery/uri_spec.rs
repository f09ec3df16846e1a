//! Curator's `UriSpec`: a URI template such as `{scheme}://{address}:{port}/api` that is stored
//! with an instance and filled in from the instance's fields.

use std::collections::HashMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::ServiceInstance;

/// Variable for the scheme: `https` when the instance has an SSL port, `http` otherwise.
pub const FIELD_SCHEME: &str = "scheme";
/// Variable for the instance's service name.
pub const FIELD_NAME: &str = "name";
/// Variable for the instance's id.
pub const FIELD_ID: &str = "id";
/// Variable for the instance's address (empty when it has none).
pub const FIELD_ADDRESS: &str = "address";
/// Variable for the instance's port (empty when it has none).
pub const FIELD_PORT: &str = "port";
/// Variable for the instance's SSL port (empty when it has none).
pub const FIELD_SSL_PORT: &str = "ssl-port";
/// Variable for the instance's registration time in epoch milliseconds.
pub const FIELD_REGISTRATION_TIME_UTC: &str = "registration-time-utc";
/// Variable for the instance's service type in lower case, e.g. `dynamic`.
pub const FIELD_SERVICE_TYPE: &str = "service-type";
/// Variable that always expands to a literal `{`.
pub const FIELD_OPEN_BRACE: &str = "[";
/// Variable that always expands to a literal `}`.
pub const FIELD_CLOSE_BRACE: &str = "]";

/// Why a URI template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UriSpecError {
    /// A `{` appeared inside a variable (`{a{b}`).
    #[error("'{{' at byte {position} is inside a variable specification")]
    NestedOpenBrace {
        /// Byte offset of the offending brace in the template.
        position: usize,
    },
    /// A `}` appeared with no variable open.
    #[error("'}}' at byte {position} is not preceded by '{{'")]
    UnmatchedCloseBrace {
        /// Byte offset of the offending brace in the template.
        position: usize,
    },
    /// The template ended inside a variable.
    #[error("final variable is not closed: expected '}}'")]
    UnclosedVariable,
}

/// One token of a [`UriSpec`]: literal text, or the name of a variable to substitute.
///
/// Serialized as Curator's `UriSpec.Part`: `{"value":"port","variable":true}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UriSpecPart {
    /// The literal text, or the variable's name.
    #[serde(default)]
    pub value: String,
    /// `true` when `value` names a variable.
    #[serde(default)]
    pub variable: bool,
}

impl UriSpecPart {
    /// A literal text part.
    pub fn literal(value: impl Into<String>) -> Self {
        UriSpecPart {
            value: value.into(),
            variable: false,
        }
    }

    /// A variable part.
    pub fn variable(name: impl Into<String>) -> Self {
        UriSpecPart {
            value: name.into(),
            variable: true,
        }
    }
}

/// A URI template with `{variable}` replacement fields, as Curator's `UriSpec`.
///
/// Serialized as Curator does: `{"parts":[{"value":"scheme","variable":true},...]}`.
/// Unknown variables expand to nothing (Curator logs them and leaves them out); use `{[}` and
/// `{]}` for literal braces.
///
/// ```
/// use zk_recipes::{ServiceInstance, UriSpec};
///
/// let spec: UriSpec = "{scheme}://{address}:{port}/users".parse()?;
/// let instance = ServiceInstance::builder()
///     .name("api.user")
///     .address("10.0.0.7")
///     .port(8080)
///     .uri_spec(spec.clone())
///     .build()?;
/// assert_eq!(spec.build_for(&instance), "http://10.0.0.7:8080/users");
/// assert_eq!(instance.build_uri_spec(), "http://10.0.0.7:8080/users");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct UriSpec {
    #[serde(default)]
    parts: Vec<UriSpecPart>,
}

impl UriSpec {
    /// An empty template (it builds to the empty string).
    pub fn new() -> Self {
        UriSpec::default()
    }

    /// Parses a template such as `{scheme}://foo.com:{port}/x`.
    ///
    /// Follows Curator's tokenizer: variable names are trimmed, an empty `{}` produces no part,
    /// and literal text is kept as is.
    pub fn parse(template: &str) -> Result<Self, UriSpecError> {
        let mut parts = Vec::new();
        let mut inside_variable = false;
        let mut token_start = 0;
        for (position, ch) in template.char_indices() {
            if ch != '{' && ch != '}' {
                continue;
            }
            push_token(
                &mut parts,
                &template[token_start..position],
                inside_variable,
            );
            token_start = position + 1;
            if ch == '{' {
                if inside_variable {
                    return Err(UriSpecError::NestedOpenBrace { position });
                }
                inside_variable = true;
            } else {
                if !inside_variable {
                    return Err(UriSpecError::UnmatchedCloseBrace { position });
                }
                inside_variable = false;
            }
        }
        push_token(&mut parts, &template[token_start..], inside_variable);
        if inside_variable {
            return Err(UriSpecError::UnclosedVariable);
        }
        Ok(UriSpec { parts })
    }

    /// The template's parts in order.
    pub fn parts(&self) -> &[UriSpecPart] {
        &self.parts
    }

    /// Appends a part.
    pub fn add(&mut self, part: UriSpecPart) {
        self.parts.push(part);
    }

    /// Removes the first part equal to `part`, as Curator's `List.remove`; returns whether one was found.
    pub fn remove(&mut self, part: &UriSpecPart) -> bool {
        match self.parts.iter().position(|p| p == part) {
            Some(index) => {
                self.parts.remove(index);
                true
            }
            None => false,
        }
    }

    /// Builds the URI with no instance: only `{scheme}` (as `http`) and the brace escapes are known.
    pub fn build(&self) -> String {
        self.expand(None::<&ServiceInstance>, &HashMap::new())
    }

    /// Builds the URI with no instance and the given variables.
    pub fn build_with_variables(&self, variables: &HashMap<String, String>) -> String {
        self.expand(None::<&ServiceInstance>, variables)
    }

    /// Builds the URI from an instance's fields.
    pub fn build_for<T>(&self, instance: &ServiceInstance<T>) -> String {
        self.expand(Some(instance), &HashMap::new())
    }

    /// Builds the URI from an instance's fields and extra variables; the variables override
    /// the instance's fields of the same name.
    pub fn build_with<T>(
        &self,
        instance: &ServiceInstance<T>,
        variables: &HashMap<String, String>,
    ) -> String {
        self.expand(Some(instance), variables)
    }

    fn expand<T>(
        &self,
        instance: Option<&ServiceInstance<T>>,
        variables: &HashMap<String, String>,
    ) -> String {
        let mut uri = String::new();
        for part in &self.parts {
            if !part.variable {
                uri.push_str(&part.value);
                continue;
            }
            if let Some(value) = variables.get(&part.value) {
                uri.push_str(value);
                continue;
            }
            match builtin_value(&part.value, instance) {
                Some(value) => uri.push_str(&value),
                None => tracing::debug!(variable = %part.value, "uri spec variable not found"),
            }
        }
        uri
    }
}

impl FromStr for UriSpec {
    type Err = UriSpecError;

    fn from_str(template: &str) -> Result<Self, Self::Err> {
        UriSpec::parse(template)
    }
}

/// Adds one tokenizer token; empty tokens do not exist for Curator's `StringTokenizer`.
fn push_token(parts: &mut Vec<UriSpecPart>, token: &str, inside_variable: bool) {
    if token.is_empty() {
        return;
    }
    let value = if inside_variable { token.trim() } else { token };
    parts.push(UriSpecPart {
        value: value.to_owned(),
        variable: inside_variable,
    });
}

/// The value Curator gives a predefined variable, or `None` for an unknown one.
fn builtin_value<T>(name: &str, instance: Option<&ServiceInstance<T>>) -> Option<String> {
    fn or_empty<V: ToString>(value: Option<V>) -> String {
        value.map(|v| v.to_string()).unwrap_or_default()
    }
    match name {
        FIELD_OPEN_BRACE => return Some("{".to_owned()),
        FIELD_CLOSE_BRACE => return Some("}".to_owned()),
        FIELD_SCHEME => {
            let secure = instance.is_some_and(|i| i.ssl_port().is_some());
            return Some(if secure { "https" } else { "http" }.to_owned());
        }
        _ => {}
    }
    let instance = instance?;
    Some(match name {
        FIELD_NAME => instance.name().to_owned(),
        FIELD_ID => instance.id().to_owned(),
        FIELD_ADDRESS => or_empty(instance.address()),
        FIELD_PORT => or_empty(instance.port()),
        FIELD_SSL_PORT => or_empty(instance.ssl_port()),
        FIELD_REGISTRATION_TIME_UTC => instance.registration_time_utc().to_string(),
        FIELD_SERVICE_TYPE => instance.service_type().as_uri_value().to_owned(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::ServiceType;

    fn parts(spec: &UriSpec) -> Vec<(&str, bool)> {
        spec.parts()
            .iter()
            .map(|p| (p.value.as_str(), p.variable))
            .collect()
    }

    #[test]
    fn parses_variables_and_literals_in_order() {
        let spec = UriSpec::parse("{one}{two}three-four-five{six}seven{eight}").unwrap();
        assert_eq!(
            parts(&spec),
            [
                ("one", true),
                ("two", true),
                ("three-four-five", false),
                ("six", true),
                ("seven", false),
                ("eight", true)
            ]
        );
    }

    #[test]
    fn trims_variable_names_but_not_literals_and_drops_empty_braces() {
        let spec = UriSpec::parse(" a {  port }{} b ").unwrap();
        assert_eq!(
            parts(&spec),
            [(" a ", false), ("port", true), (" b ", false)]
        );
        let blank = UriSpec::parse("{ }").unwrap();
        assert_eq!(parts(&blank), [("", true)]);
    }

    #[test]
    fn bad_braces_are_typed_errors() {
        assert_eq!(
            UriSpec::parse("x{a{b}}"),
            Err(UriSpecError::NestedOpenBrace { position: 3 })
        );
        assert_eq!(
            UriSpec::parse("ab}"),
            Err(UriSpecError::UnmatchedCloseBrace { position: 2 })
        );
        assert_eq!(UriSpec::parse("{abc"), Err(UriSpecError::UnclosedVariable));
        assert!("{".parse::<UriSpec>().is_err());
    }

    #[test]
    fn escapes_expand_to_braces_and_variables_from_map() {
        let spec = UriSpec::parse("{one}two-three-{[}four{]}-five{six}").unwrap();
        let vars = HashMap::from([
            ("one".to_owned(), "1".to_owned()),
            ("six".to_owned(), "6".to_owned()),
        ]);
        assert_eq!(spec.build_with_variables(&vars), "1two-three-{four}-five6");
    }

    #[test]
    fn scheme_is_https_only_with_an_ssl_port() {
        let spec = UriSpec::parse("{scheme}://foo.com").unwrap();
        assert_eq!(spec.build(), "http://foo.com");
        let plain = ServiceInstance::builder()
            .name("foo")
            .id("x")
            .address("1.2.3.4")
            .port(5)
            .build()
            .unwrap();
        assert_eq!(spec.build_for(&plain), "http://foo.com");
        let secure = ServiceInstance::builder()
            .name("foo")
            .id("x")
            .address("1.2.3.4")
            .port(5)
            .ssl_port(5)
            .build()
            .unwrap();
        assert_eq!(spec.build_for(&secure), "https://foo.com");
    }

    #[test]
    fn every_instance_field_and_overrides() {
        let instance = ServiceInstance::builder()
            .address("1.2.3.4")
            .name("foo")
            .id("bar")
            .port(5)
            .ssl_port(6)
            .registration_time_utc(789)
            .service_type(ServiceType::Permanent)
            .build()
            .unwrap();
        let spec = UriSpec::parse(
            "{scheme}://{address}:{port}:{ssl-port}/{name}/{id}/{registration-time-utc}/{service-type}",
        )
        .unwrap();
        let vars = HashMap::from([("scheme".to_owned(), "test".to_owned())]);
        assert_eq!(
            spec.build_with(&instance, &vars),
            "test://1.2.3.4:5:6/foo/bar/789/permanent"
        );
    }

    #[test]
    fn unknown_variables_and_missing_fields_expand_to_nothing() {
        let instance = ServiceInstance::builder()
            .name("foo")
            .id("bar")
            .address("h")
            .service_type(ServiceType::DynamicSequential)
            .build()
            .unwrap();
        let spec = UriSpec::parse("{scheme}://{address}:{port}/{nope}/{service-type}").unwrap();
        assert_eq!(spec.build_for(&instance), "http://h://dynamic_sequential");
        // Without an instance only scheme and the escapes are known.
        assert_eq!(spec.build(), "http://://");
    }

    #[test]
    fn json_is_curators_parts_object() {
        let spec = UriSpec::parse("{a}/b/{c}").unwrap();
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"{"parts":[{"value":"a","variable":true},{"value":"/b/","variable":false},{"value":"c","variable":true}]}"#
        );
        let back: UriSpec = serde_json::from_str(
            r#"{"parts":[{"value":"a","variable":true},{"value":"/b/"},{"x":1,"value":"c","variable":true}],"extra":0}"#,
        )
        .unwrap();
        assert_eq!(back, spec);
        assert_eq!(
            serde_json::from_str::<UriSpec>("{}").unwrap(),
            UriSpec::new()
        );
    }

    #[test]
    fn add_and_remove_parts() {
        let mut spec = UriSpec::new();
        spec.add(UriSpecPart::literal("http://x/"));
        spec.add(UriSpecPart::variable("id"));
        assert_eq!(spec.build(), "http://x/");
        assert!(spec.remove(&UriSpecPart::literal("http://x/")));
        assert!(!spec.remove(&UriSpecPart::literal("http://x/")));
        assert_eq!(parts(&spec), [("id", true)]);
    }
}
