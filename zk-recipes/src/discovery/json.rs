//! Curator's JSON layout for a service instance (`JsonInstanceSerializer`), byte for byte.
//!
//! What Curator 5.x writes, and so what this module writes:
//! - the keys `name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType,
//!   uriSpec` in that order (Jackson follows the field order of `OldServiceInstance`), then
//!   `enabled` only when the serializer is not in Curator's default "compatible" mode;
//! - absent values as `null` (Jackson's default inclusion), never left out;
//! - `serviceType` as the Java enum name and `uriSpec` as `{"parts":[{"value":..,"variable":..}]}`;
//! - no whitespace; characters of the Basic Multilingual Plane as raw UTF-8, characters above it
//!   as an escaped UTF-16 surrogate pair (`😀` is `\uD83D\uDE00`), control characters as
//!   `\b \t \n \f \r` or `\u00XX`, all hex upper case; floats as Java's `Double.toString`
//!   lays them out (`1.0E10`). (Jackson 2.14's UTF-8 generator, which Curator 5.4 uses here.)
//!
//! Reading is as lenient as Curator's: unknown keys are ignored, missing keys take Curator's
//! defaults (empty name and id, registration time 0, `DYNAMIC`, enabled), and `null` for a name,
//! id, time or type takes the same default.
//!
//! `ServiceInstance<T>`'s serde `Serialize` and `Deserialize` go through the same two layouts
//! (`WireOut`, `WireIn`) as `to_json_bytes` and `from_json_bytes`: one description of the format.
//! The Jackson spelling of characters and floats is a formatter, so only `to_json_bytes` has it.
//!
//! The payload is written by serde exactly as `T` serializes. Curator tags a payload with its
//! Java class (`{"@class":"com.example.Payload",...}` for objects, `["java.util.ArrayList",[...]]`
//! for lists; strings, booleans, ints and doubles go bare). A Java reader needs that tag to
//! rebuild a typed payload; without one it reads a JSON object as a map, but it rejects a bare
//! JSON array. So a payload Java services must read should be an object (add an `"@class"` key
//! when they expect a class) or a scalar, never a bare array.

use std::io;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};
use thiserror::Error;

use super::{ServiceInstance, ServiceType, UriSpec};

/// Why an instance could not be written to or read from JSON.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InstanceJsonError {
    /// The payload could not be serialized.
    #[error("cannot encode service instance as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// The bytes are not a service instance in Curator's JSON layout.
    #[error("cannot decode service instance JSON: {0}")]
    Decode(#[source] serde_json::Error),
}

/// Reads and writes [`ServiceInstance`]s in Curator's JSON, as Curator's `JsonInstanceSerializer`.
///
/// The default mirrors Curator's default ("compatible serialization mode"): the `enabled` flag
/// is not written, so every reader sees the instance as enabled. Use
/// [`with_enabled_field`](Self::with_enabled_field) to write it, as Curator does when built with
/// `compatibleSerializationMode = false` (older Curator readers then fail on the unknown key).
///
/// ```
/// use zk_recipes::{JsonInstanceSerializer, ServiceInstance};
///
/// let instance = ServiceInstance::builder()
///     .name("api")
///     .id("i-1")
///     .address("10.0.0.7")
///     .port(8080)
///     .registration_time_utc(1700000000000)
///     .build()?;
/// let bytes = JsonInstanceSerializer::new().serialize(&instance)?;
/// assert_eq!(
///     std::str::from_utf8(&bytes)?,
///     r#"{"name":"api","id":"i-1","address":"10.0.0.7","port":8080,"sslPort":null,"payload":null,"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC","uriSpec":null}"#
/// );
/// let back: ServiceInstance = JsonInstanceSerializer::new().deserialize(&bytes)?;
/// assert_eq!(back, instance);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonInstanceSerializer {
    write_enabled: bool,
}

impl JsonInstanceSerializer {
    /// Curator's default serializer: `enabled` is not written.
    pub fn new() -> Self {
        JsonInstanceSerializer {
            write_enabled: false,
        }
    }

    /// A serializer that also writes `enabled` (Curator's `compatibleSerializationMode = false`).
    pub fn with_enabled_field() -> Self {
        JsonInstanceSerializer {
            write_enabled: true,
        }
    }

    /// Whether this serializer writes the `enabled` key.
    pub fn writes_enabled(&self) -> bool {
        self.write_enabled
    }

    /// Writes `instance` as Curator's JSON bytes.
    pub fn serialize<T: Serialize>(
        &self,
        instance: &ServiceInstance<T>,
    ) -> Result<Vec<u8>, InstanceJsonError> {
        let mut bytes = Vec::with_capacity(256);
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, JacksonFormatter);
        WireOut::of(instance, self.write_enabled)
            .serialize(&mut serializer)
            .map_err(InstanceJsonError::Encode)?;
        Ok(bytes)
    }

    /// Reads an instance from Curator's JSON bytes (with or without `enabled`).
    pub fn deserialize<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
    ) -> Result<ServiceInstance<T>, InstanceJsonError> {
        // Reading does not depend on the mode: `enabled` is read when it is there.
        serde_json::from_slice(bytes).map_err(InstanceJsonError::Decode)
    }
}

/// Curator's default layout, as [`ServiceInstance::to_json_bytes`]: the same keys in the same
/// order, absent values as `null`, no `enabled`. The layout is shared with `to_json_bytes`; the
/// spelling of characters and floats is the serializer's: `serde_json` writes the bytes of
/// `to_json_bytes` except for strings holding control characters (`\u001f` where Jackson writes
/// `\u001F`) or characters above U+FFFF (raw UTF-8 where Jackson writes a surrogate pair), and
/// for floats (`10000000000.0` where Java writes `1.0E10`). Readers, Curator's included, see the
/// same JSON; use `to_json_bytes` where the bytes themselves must match Curator's.
///
/// ```
/// use zk_recipes::ServiceInstance;
///
/// let instance = ServiceInstance::builder()
///     .name("api")
///     .id("i-1")
///     .address("10.0.0.7")
///     .port(8080)
///     .registration_time_utc(1700000000000)
///     .build()?;
/// assert_eq!(serde_json::to_vec(&instance)?, instance.to_json_bytes()?);
/// let back: ServiceInstance = serde_json::from_str(&serde_json::to_string(&instance)?)?;
/// assert_eq!(back, instance);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<T: Serialize> Serialize for ServiceInstance<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut::of(self, false).serialize(serializer)
    }
}

/// Reads what [`ServiceInstance::from_json_bytes`] reads: Curator's layout, with or without
/// `enabled`, unknown keys ignored and Curator's defaults for missing or `null` values.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for ServiceInstance<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::<T>::deserialize(deserializer)?;
        Ok(ServiceInstance {
            name: wire.name,
            id: wire.id,
            address: wire.address,
            port: wire.port,
            ssl_port: wire.ssl_port,
            payload: wire.payload,
            registration_time_utc: wire.registration_time_utc,
            service_type: wire.service_type,
            uri_spec: wire.uri_spec,
            // Jackson sets a primitive boolean to false for an explicit null.
            enabled: wire.enabled.unwrap_or(Some(true)).unwrap_or(false),
        })
    }
}

impl<T: Serialize> ServiceInstance<T> {
    /// Writes this instance as Curator's default JSON (without `enabled`); see
    /// [`JsonInstanceSerializer`].
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, InstanceJsonError> {
        JsonInstanceSerializer::new().serialize(self)
    }
}

impl<T: DeserializeOwned> ServiceInstance<T> {
    /// Reads an instance from Curator's JSON; see [`JsonInstanceSerializer`].
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, InstanceJsonError> {
        JsonInstanceSerializer::new().deserialize(bytes)
    }
}

/// The written layout; field order is the byte order.
#[derive(Serialize)]
struct WireOut<'a, T> {
    name: &'a str,
    id: &'a str,
    address: Option<&'a str>,
    port: Option<u16>,
    #[serde(rename = "sslPort")]
    ssl_port: Option<u16>,
    payload: Option<&'a T>,
    #[serde(rename = "registrationTimeUTC")]
    registration_time_utc: i64,
    #[serde(rename = "serviceType")]
    service_type: ServiceType,
    #[serde(rename = "uriSpec")]
    uri_spec: Option<&'a UriSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

impl<'a, T> WireOut<'a, T> {
    /// The layout of `instance`; `enabled` is written only when `write_enabled`.
    fn of(instance: &'a ServiceInstance<T>, write_enabled: bool) -> Self {
        WireOut {
            name: &instance.name,
            id: &instance.id,
            address: instance.address.as_deref(),
            port: instance.port,
            ssl_port: instance.ssl_port,
            payload: instance.payload.as_ref(),
            registration_time_utc: instance.registration_time_utc,
            service_type: instance.service_type,
            uri_spec: instance.uri_spec.as_ref(),
            enabled: write_enabled.then_some(instance.enabled),
        }
    }
}

/// The read layout, with Curator's defaults for missing keys.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct WireIn<T> {
    #[serde(default, deserialize_with = "null_as_default")]
    name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    id: String,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default, rename = "sslPort")]
    ssl_port: Option<u16>,
    #[serde(default = "none")]
    payload: Option<T>,
    #[serde(
        default,
        rename = "registrationTimeUTC",
        deserialize_with = "null_as_default"
    )]
    registration_time_utc: i64,
    #[serde(default, rename = "serviceType", deserialize_with = "null_as_default")]
    service_type: ServiceType,
    #[serde(default, rename = "uriSpec")]
    uri_spec: Option<UriSpec>,
    /// Outer `None`: key missing; inner `None`: explicit `null`.
    #[serde(default, deserialize_with = "present")]
    enabled: Option<Option<bool>>,
}

fn none<T>() -> Option<T> {
    None
}

fn null_as_default<'de, D, V>(deserializer: D) -> Result<V, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de> + Default,
{
    Ok(Option::<V>::deserialize(deserializer)?.unwrap_or_default())
}

fn present<'de, D, V>(deserializer: D) -> Result<Option<Option<V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    Ok(Some(Option::<V>::deserialize(deserializer)?))
}

/// serde_json's compact output, with Jackson's spelling of escapes and floats.
struct JacksonFormatter;

impl Formatter for JacksonFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        // Jackson escapes each UTF-16 surrogate of a character above U+FFFF.
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if u32::from(ch) <= 0xFFFF {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04X}")?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W>(&mut self, writer: &mut W, char_escape: CharEscape) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        match char_escape {
            CharEscape::AsciiControl(byte) => write!(writer, "\\u{byte:04X}"),
            other => CompactFormatter.write_char_escape(writer, other),
        }
    }

    fn write_f64<W>(&mut self, writer: &mut W, value: f64) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let shortest = format!("{:e}", value.abs());
        writer.write_all(
            java_float_string(value.is_sign_negative(), value.abs(), &shortest).as_bytes(),
        )
    }

    fn write_f32<W>(&mut self, writer: &mut W, value: f32) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let shortest = format!("{:e}", value.abs());
        writer.write_all(
            java_float_string(value.is_sign_negative(), f64::from(value.abs()), &shortest)
                .as_bytes(),
        )
    }
}

/// Lays out a finite float as Java's `Double.toString`/`Float.toString`: plain decimal with at
/// least one fraction digit for magnitudes in [1e-3, 1e7), otherwise `d.dddE<exp>`.
/// `shortest` is Rust's shortest round-trip `{:e}` rendering of the magnitude (`"2.5e0"`).
fn java_float_string(negative: bool, magnitude: f64, shortest: &str) -> String {
    let sign = if negative { "-" } else { "" };
    if magnitude == 0.0 {
        return format!("{sign}0.0");
    }
    let (mantissa, exponent) = shortest.split_once('e').unwrap_or((shortest, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (1e-3..1e7).contains(&magnitude) {
        if exponent >= 0 {
            // `exponent` is below 7 here, so the cast cannot truncate.
            let int_len = exponent as usize + 1;
            let (int_part, frac_part) = if digits.len() > int_len {
                (digits[..int_len].to_owned(), digits[int_len..].to_owned())
            } else {
                (
                    format!("{digits}{}", "0".repeat(int_len - digits.len())),
                    "0".to_owned(),
                )
            };
            format!("{sign}{int_part}.{frac_part}")
        } else {
            // `exponent` is -1..=-3 here.
            let zeros = "0".repeat((-exponent - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::discovery::UriSpec;

    /// The instance of Curator's own serializer tests: `("name", "id", "address", 10, 20,
    /// payload, 0, DYNAMIC, new UriSpec("{a}/b/{c}"))`.
    fn curator_test_instance(payload: serde_json::Value, enabled: bool) -> ServiceInstance {
        ServiceInstance::builder()
            .name("name")
            .id("id")
            .address("address")
            .port(10)
            .ssl_port(20)
            .payload(payload)
            .registration_time_utc(0)
            .service_type(ServiceType::Dynamic)
            .uri_spec(UriSpec::parse("{a}/b/{c}").unwrap())
            .enabled(enabled)
            .build()
            .unwrap()
    }

    const URI_SPEC_JSON: &str = r#"{"parts":[{"value":"a","variable":true},{"value":"/b/","variable":false},{"value":"c","variable":true}]}"#;

    // Curator's bytes below were derived from JsonInstanceSerializer/OldServiceInstance (Jackson
    // writes the fields in declaration order, nulls included, the payload with its "@class") and
    // checked against Curator 5.4 itself by tests/curator_json_compat.rs.

    #[test]
    fn compatible_mode_matches_curator_bytes_and_drops_enabled() {
        let instance = curator_test_instance(
            json!({"@class": "java.util.LinkedHashMap", "val": "test"}),
            false,
        );
        let expected = format!(
            r#"{{"name":"name","id":"id","address":"address","port":10,"sslPort":20,"payload":{{"@class":"java.util.LinkedHashMap","val":"test"}},"registrationTimeUTC":0,"serviceType":"DYNAMIC","uriSpec":{URI_SPEC_JSON}}}"#
        );
        assert_eq!(
            String::from_utf8(instance.to_json_bytes().unwrap()).unwrap(),
            expected
        );
        // enabled=false is lost, as in Curator's testBackwardCompatibility.
        let back =
            ServiceInstance::<serde_json::Value>::from_json_bytes(expected.as_bytes()).unwrap();
        assert!(back.enabled());
        assert_eq!(back.to_builder().enabled(false).build().unwrap(), instance);
    }

    #[test]
    fn full_mode_appends_enabled_last() {
        let instance = curator_test_instance(json!("payload"), false);
        let expected = format!(
            r#"{{"name":"name","id":"id","address":"address","port":10,"sslPort":20,"payload":"payload","registrationTimeUTC":0,"serviceType":"DYNAMIC","uriSpec":{URI_SPEC_JSON},"enabled":false}}"#
        );
        let serializer = JsonInstanceSerializer::with_enabled_field();
        assert!(serializer.writes_enabled());
        let bytes = serializer.serialize(&instance).unwrap();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
        let back: ServiceInstance = serializer.deserialize(&bytes).unwrap();
        assert_eq!(back, instance);
    }

    #[test]
    fn absent_values_are_written_as_null() {
        let instance = ServiceInstance::builder()
            .name("n")
            .id("i")
            .no_address()
            .registration_time_utc(-5)
            .service_type(ServiceType::DynamicSequential)
            .build()
            .unwrap();
        assert_eq!(
            String::from_utf8(instance.to_json_bytes().unwrap()).unwrap(),
            r#"{"name":"n","id":"i","address":null,"port":null,"sslPort":null,"payload":null,"registrationTimeUTC":-5,"serviceType":"DYNAMIC_SEQUENTIAL","uriSpec":null}"#
        );
    }

    #[test]
    fn strings_are_escaped_as_jackson_does() {
        let instance = ServiceInstance::builder()
            .name("n")
            .id("i")
            .address("a\"\\/\u{1}\u{8}\t\n\u{c}\r\u{1f}\u{7f}é😀")
            .registration_time_utc(0)
            .build()
            .unwrap();
        let text = String::from_utf8(instance.to_json_bytes().unwrap()).unwrap();
        assert!(
            text.contains(r#""address":"a\"\\/\u0001\b\t\n\f\r\u001F"#),
            "{text}"
        );
        assert!(text.contains("\u{7f}é\\uD83D\\uDE00\""), "{text}");
        let back: ServiceInstance = ServiceInstance::from_json_bytes(text.as_bytes()).unwrap();
        assert_eq!(back, instance);
    }

    #[test]
    fn floats_are_laid_out_as_java_double_to_string() {
        let cases: [(f64, &str); 12] = [
            (2.5, "2.5"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e10, "1.0E10"),
            (1.5e-7, "1.5E-7"),
            (9999999.0, "9999999.0"),
            (1e7, "1.0E7"),
            (123456.789, "123456.789"),
            (-0.0, "-0.0"),
            (-12.25, "-12.25"),
        ];
        for (value, java) in cases {
            let mut out = Vec::new();
            JacksonFormatter.write_f64(&mut out, value).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), java, "{value}");
        }
        let mut out = Vec::new();
        JacksonFormatter.write_f32(&mut out, 0.1f32).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "0.1");
    }

    #[test]
    fn reads_curator_json_with_enabled_and_unknown_keys() {
        let json = format!(
            r#"{{"name":"api","id":"x1","address":"10.0.0.7","port":8080,"sslPort":null,"payload":{{"@class":"com.example.Payload","zone":"eu"}},"registrationTimeUTC":1700000000123,"serviceType":"STATIC","uriSpec":{URI_SPEC_JSON},"enabled":false,"futureField":{{"x":[1,2]}},"anotherOne":"y"}}"#
        );
        let instance: ServiceInstance = ServiceInstance::from_json_bytes(json.as_bytes()).unwrap();
        assert_eq!(instance.name(), "api");
        assert_eq!(instance.id(), "x1");
        assert_eq!(instance.address(), Some("10.0.0.7"));
        assert_eq!(instance.port(), Some(8080));
        assert_eq!(instance.ssl_port(), None);
        assert_eq!(
            instance.payload(),
            Some(&json!({"@class": "com.example.Payload", "zone": "eu"}))
        );
        assert_eq!(instance.registration_time_utc(), 1700000000123);
        assert_eq!(instance.service_type(), ServiceType::Static);
        assert_eq!(
            instance.uri_spec(),
            Some(&UriSpec::parse("{a}/b/{c}").unwrap())
        );
        assert!(!instance.enabled());
    }

    #[test]
    fn missing_and_null_keys_take_curators_defaults() {
        let empty: ServiceInstance = ServiceInstance::from_json_bytes(b"{}").unwrap();
        assert_eq!(empty.name(), "");
        assert_eq!(empty.id(), "");
        assert_eq!(empty.address(), None);
        assert_eq!(empty.payload(), None);
        assert_eq!(empty.registration_time_utc(), 0);
        assert_eq!(empty.service_type(), ServiceType::Dynamic);
        assert!(empty.enabled(), "no 'enabled' means enabled");
        let nulls: ServiceInstance = ServiceInstance::from_json_bytes(
            br#"{"name":null,"id":null,"registrationTimeUTC":null,"serviceType":null,"uriSpec":null,"enabled":null}"#,
        )
        .unwrap();
        assert_eq!(nulls.name(), "");
        assert_eq!(nulls.service_type(), ServiceType::Dynamic);
        assert!(
            !nulls.enabled(),
            "Jackson reads null into a boolean as false"
        );
    }

    #[test]
    fn typed_payloads_round_trip() {
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        struct Payload {
            #[serde(rename = "@class")]
            class: String,
            weight: u32,
        }
        let instance = ServiceInstance::builder()
            .name("svc")
            .id("1")
            .address("h")
            .registration_time_utc(1)
            .payload(Payload {
                class: "com.example.Payload".into(),
                weight: 3,
            })
            .build()
            .unwrap();
        let bytes = instance.to_json_bytes().unwrap();
        assert!(
            std::str::from_utf8(&bytes)
                .unwrap()
                .contains(r#""payload":{"@class":"com.example.Payload","weight":3}"#)
        );
        assert_eq!(
            ServiceInstance::<Payload>::from_json_bytes(&bytes).unwrap(),
            instance
        );
    }

    /// Instances with a payload, without one, and with a uri spec, as `serde_json` sees them.
    fn serde_cases() -> Vec<ServiceInstance> {
        vec![
            curator_test_instance(
                json!({"@class": "java.util.LinkedHashMap", "val": "test", "n": [1, 2]}),
                true,
            ),
            ServiceInstance::builder()
                .name("n")
                .id("i")
                .no_address()
                .registration_time_utc(-5)
                .service_type(ServiceType::DynamicSequential)
                .build()
                .unwrap(),
            ServiceInstance::builder()
                .name("api.user")
                .id("6f1c")
                .address("10.0.0.7")
                .port(8080)
                .registration_time_utc(1_700_000_000_123)
                .service_type(ServiceType::Static)
                .uri_spec(UriSpec::parse("{scheme}://{address}:{port}/v1").unwrap())
                .build()
                .unwrap(),
        ]
    }

    #[test]
    fn serde_json_writes_the_bytes_of_to_json_bytes() {
        for instance in serde_cases() {
            assert_eq!(
                String::from_utf8(serde_json::to_vec(&instance).unwrap()).unwrap(),
                String::from_utf8(instance.to_json_bytes().unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn serde_json_reads_back_what_it_and_to_json_bytes_write() {
        for instance in serde_cases() {
            let written = serde_json::to_vec(&instance).unwrap();
            let back: ServiceInstance = serde_json::from_slice(&written).unwrap();
            assert_eq!(back, instance);
            let curator = instance.to_json_bytes().unwrap();
            let back: ServiceInstance = serde_json::from_slice(&curator).unwrap();
            assert_eq!(back, instance);
        }
    }

    #[test]
    fn serde_deserialize_accepts_what_from_json_bytes_accepts() {
        let inputs = [
            &b"{}"[..],
            br#"{"name":null,"id":null,"registrationTimeUTC":null,"serviceType":null,"enabled":null}"#,
            br#"{"name":"api","enabled":false,"futureField":{"x":[1,2]}}"#,
        ];
        for input in inputs {
            let by_serde: ServiceInstance = serde_json::from_slice(input).unwrap();
            let by_curator_reader = ServiceInstance::from_json_bytes(input).unwrap();
            assert_eq!(by_serde, by_curator_reader);
            assert_eq!(by_serde.enabled(), by_curator_reader.enabled());
        }
        assert!(serde_json::from_slice::<ServiceInstance>(br#"{"port":70000}"#).is_err());
    }

    #[test]
    fn serde_instance_nests_in_a_larger_type_and_drops_enabled_as_curator_does() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Snapshot {
            instances: Vec<ServiceInstance>,
        }
        let disabled = curator_test_instance(json!(1), false);
        let text = serde_json::to_string(&Snapshot {
            instances: vec![disabled.clone()],
        })
        .unwrap();
        assert!(!text.contains("enabled"), "{text}");
        let back: Snapshot = serde_json::from_str(&text).unwrap();
        assert!(back.instances[0].enabled());
        assert_eq!(
            back.instances[0]
                .to_builder()
                .enabled(false)
                .build()
                .unwrap(),
            disabled
        );
    }

    #[test]
    fn serde_json_spells_astral_characters_control_characters_and_floats_its_own_way() {
        let instance = curator_test_instance(json!(1e10), true)
            .to_builder()
            .address("\u{1f}😀")
            .build()
            .unwrap();
        let serde = String::from_utf8(serde_json::to_vec(&instance).unwrap()).unwrap();
        let jackson = String::from_utf8(instance.to_json_bytes().unwrap()).unwrap();
        assert!(serde.contains(r#""address":"\u001f😀""#), "{serde}");
        assert!(serde.contains(r#""payload":10000000000.0"#), "{serde}");
        assert!(
            jackson.contains(r#""address":"\u001F\uD83D\uDE00""#),
            "{jackson}"
        );
        assert!(jackson.contains(r#""payload":1.0E10"#), "{jackson}");
        let a: ServiceInstance = serde_json::from_str(&serde).unwrap();
        let b: ServiceInstance = serde_json::from_str(&jackson).unwrap();
        assert_eq!(a, b, "the same JSON to a reader");
    }

    #[test]
    fn malformed_json_is_a_decode_error() {
        for bad in [
            &b"not json"[..],
            br#"{"port":70000}"#,
            br#"{"serviceType":"NOPE"}"#,
            b"[1]",
        ] {
            assert!(matches!(
                ServiceInstance::<serde_json::Value>::from_json_bytes(bad),
                Err(InstanceJsonError::Decode(_))
            ));
        }
        #[derive(Deserialize, Debug)]
        struct Strict {
            _needed: u8,
        }
        assert!(matches!(
            ServiceInstance::<Strict>::from_json_bytes(br#"{"payload":{"other":1}}"#),
            Err(InstanceJsonError::Decode(_))
        ));
    }
}
