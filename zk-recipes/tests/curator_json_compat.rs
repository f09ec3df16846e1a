//! Byte-level compatibility of `ServiceInstance` JSON with Apache Curator 5.4 itself.
//!
//! `tests/java/CuratorJson.java` runs Curator's own `JsonInstanceSerializer`. For each case the
//! test has Curator serialize an instance, checks that Rust writes the very same bytes for the
//! same field values and reads Curator's bytes back to those values, and has Curator read the
//! Rust bytes and report the fields (and the URI) it saw. No ZooKeeper server is involved.
//!
//! Needs `javac`/`java` and the Curator, Jackson, Guava and SLF4J jars from /usr/share/java
//! (Debian: default-jdk-headless libcurator-discovery-java libcurator-framework-java
//! libcurator-client-java libjackson2-databind-java libjackson2-core-java
//! libjackson2-annotations-java libguava-java libslf4j-java), installed by `scripts/setup`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::{Value, json};
use support::java::JavaHelper;
use zk_recipes::{JsonInstanceSerializer, ServiceInstance, ServiceType, UriSpec};

/// Curator's own `JsonInstanceSerializer`, driven over stdin/stdout.
static CURATOR_JSON: JavaHelper = JavaHelper::new(
    "CuratorJson",
    &[
        "curator-x-discovery.jar",
        "curator-framework.jar",
        "curator-client.jar",
        "jackson-databind.jar",
        "jackson-core.jar",
        "jackson-annotations.jar",
        "guava.jar",
        "slf4j-api.jar",
    ],
    "run scripts/setup (Debian packages: default-jdk-headless \
    libcurator-discovery-java libcurator-framework-java libcurator-client-java \
    libjackson2-databind-java libjackson2-core-java libjackson2-annotations-java \
    libguava-java libslf4j-java)",
);

/// The helper's JVM, started on first use and serving every test of this binary (one
/// JVM start instead of one per call). It exits when this process ends and its stdin
/// closes.
struct Curator {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _process: Child,
}

fn running_curator() -> &'static Mutex<Curator> {
    static CURATOR: OnceLock<Mutex<Curator>> = OnceLock::new();
    CURATOR.get_or_init(|| {
        let mut child = Command::new("java")
            .arg("-cp")
            .arg(CURATOR_JSON.classpath())
            .arg(CURATOR_JSON.class())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run java ({e}); {}", CURATOR_JSON.setup_hint()));
        Mutex::new(Curator {
            stdin: child.stdin.take().expect("stdin is piped"),
            stdout: BufReader::new(child.stdout.take().expect("stdout is piped")),
            _process: child,
        })
    })
}

/// Has Curator run `mode` (`serialize` or `deserialize`) on `input`; returns its output.
fn curator(mode: &str, input: &[u8]) -> Vec<u8> {
    // A test that failed while holding the lock left the exchange complete: go on.
    let mut curator = running_curator()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    writeln!(curator.stdin, "{mode} {}", to_hex(input))
        .and_then(|()| curator.stdin.flush())
        .expect("write to the helper's stdin");
    let mut reply = String::new();
    let read = curator
        .stdout
        .read_line(&mut reply)
        .expect("read the helper's reply");
    assert!(read > 0, "the helper exited");
    let reply = reply.trim_end();
    match reply.split_once(' ') {
        Some(("OK", hex)) => from_hex(hex),
        _ => panic!(
            "CuratorJson {mode} failed for input {}: {reply}",
            String::from_utf8_lossy(input)
        ),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd hex length in {hex:?}");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex from the helper"))
        .collect()
}

/// What Curator holds as the payload after reading `payload` from the spec with a plain
/// ObjectMapper, as it appears in Curator's instance JSON: objects get an `"@class"` key first,
/// lists and longs get a `[class, value]` wrapper, strings/ints/doubles/booleans stay bare.
fn tagged_like_curator(payload: &Value) -> Value {
    match payload {
        Value::Object(map) => {
            let mut tagged = serde_json::Map::new();
            tagged.insert("@class".into(), json!("java.util.LinkedHashMap"));
            tagged.extend(map.clone());
            Value::Object(tagged)
        }
        Value::Array(items) => json!(["java.util.ArrayList", items]),
        Value::Number(n) if n.as_i64().is_some_and(|v| i32::try_from(v).is_err()) => {
            json!(["java.lang.Long", n])
        }
        other => other.clone(),
    }
}

/// The Rust instance a spec describes, with the payload as Curator writes it.
fn rust_instance(spec: &Value) -> ServiceInstance {
    let mut builder = ServiceInstance::builder()
        .name(spec["name"].as_str().unwrap())
        .id(spec["id"].as_str().unwrap())
        .registration_time_utc(spec["registrationTimeUTC"].as_i64().unwrap())
        .service_type(serde_json::from_value::<ServiceType>(spec["serviceType"].clone()).unwrap())
        .enabled(spec["enabled"].as_bool().unwrap());
    builder = match spec["address"].as_str() {
        Some(address) => builder.address(address),
        None => builder.no_address(),
    };
    if let Some(port) = spec["port"].as_u64() {
        builder = builder.port(port.try_into().unwrap());
    }
    if let Some(port) = spec["sslPort"].as_u64() {
        builder = builder.ssl_port(port.try_into().unwrap());
    }
    if !spec["payload"].is_null() {
        builder = builder.payload(tagged_like_curator(&spec["payload"]));
    }
    if let Some(template) = spec["uriSpec"].as_str() {
        builder = builder.uri_spec(UriSpec::parse(template).unwrap());
    }
    builder.build().unwrap()
}

/// The field dump the helper prints after Curator reads `instance`'s JSON, computed from Rust.
/// `payload` is the untagged value Curator ends up holding.
fn expected_dump(instance: &ServiceInstance, payload: &Value, enabled: bool) -> Value {
    json!({
        "name": instance.name(),
        "id": instance.id(),
        "address": instance.address(),
        "port": instance.port(),
        "sslPort": instance.ssl_port(),
        "payload": payload,
        "registrationTimeUTC": instance.registration_time_utc(),
        "serviceType": instance.service_type().as_java_name(),
        "uriSpec": instance.uri_spec().map(UriSpec::parts),
        "enabled": enabled,
        "uri": instance.build_uri_spec(),
    })
}

/// Checks both directions and byte equality for one spec.
fn check_both_directions(spec: Value) {
    let compatible = spec["compatible"].as_bool().unwrap();
    let serializer = if compatible {
        JsonInstanceSerializer::new()
    } else {
        JsonInstanceSerializer::with_enabled_field()
    };
    let instance = rust_instance(&spec);

    // Rust writes exactly Curator's bytes.
    let curator_bytes = curator("serialize", spec.to_string().as_bytes());
    let rust_bytes = serializer.serialize(&instance).unwrap();
    assert_eq!(
        String::from_utf8(rust_bytes.clone()).unwrap(),
        String::from_utf8(curator_bytes.clone()).unwrap(),
        "Rust and Curator bytes differ for spec {spec}"
    );

    // Rust reads Curator's bytes to the same fields (enabled is not carried in compatible mode).
    let read: ServiceInstance = serializer.deserialize(&curator_bytes).unwrap();
    let expected_enabled = compatible || instance.enabled();
    let expected = instance
        .to_builder()
        .enabled(expected_enabled)
        .build()
        .unwrap();
    assert_eq!(
        read, expected,
        "Rust read of Curator's bytes for spec {spec}"
    );

    // Curator reads Rust's bytes to the same fields, and builds the same URI.
    let dump: Value = serde_json::from_slice(&curator("deserialize", &rust_bytes)).unwrap();
    assert_eq!(
        dump,
        expected_dump(&instance, &spec["payload"], expected_enabled),
        "Curator read of Rust's bytes for spec {spec}"
    );
}

fn spec(overrides: Value) -> Value {
    let mut base = json!({
        "name": "api.user",
        "id": "4b6f0e8e-2c1c-4a57-9a43-2f4d2e6b9f10",
        "address": "10.0.0.7",
        "port": 8080,
        "sslPort": null,
        "payload": null,
        "registrationTimeUTC": 1_700_000_000_123_i64,
        "serviceType": "DYNAMIC",
        "uriSpec": null,
        "enabled": true,
        "compatible": true
    });
    for (key, value) in overrides.as_object().unwrap() {
        base[key] = value.clone();
    }
    base
}

#[test]
fn all_fields_with_map_payload_and_uri_spec_match_curator() {
    check_both_directions(spec(json!({
        "sslPort": 8443,
        "payload": {"region": "eu-1", "weight": 3, "tags": ["a", "b"], "nested": {"x": null}},
        "serviceType": "DYNAMIC_SEQUENTIAL",
        "uriSpec": "{scheme}://{address}:{ssl-port}/{name}/{id}/{registration-time-utc}/{service-type}?{[}{port}{]}&{unknown}",
    })));
}

#[test]
fn absent_fields_are_nulls_in_both() {
    check_both_directions(spec(json!({
        "address": null,
        "port": null,
        "registrationTimeUTC": -5,
        "serviceType": "PERMANENT",
    })));
}

#[test]
fn scalar_list_and_long_payloads_match_curator() {
    for payload in [
        json!("plain string"),
        json!(42),
        json!(true),
        json!(2.5),
        json!(12_345_678_901_234_i64),
        json!(["x", 1, {"k": "v"}]),
    ] {
        check_both_directions(spec(json!({ "payload": payload, "serviceType": "STATIC" })));
    }
}

#[test]
fn float_payloads_match_java_number_layout() {
    check_both_directions(spec(json!({
        "payload": {"a": 2.5, "b": 1.0e10, "c": 1.0e-5, "d": 123_456.789, "e": -0.5, "f": 0.001, "g": 1.0e7}
    })));
}

#[test]
fn escapes_and_unicode_match_curator() {
    check_both_directions(spec(json!({
        "name": "sérvice ✓",
        "address": "quote\" back\\ slash/ ctl\u{1}\u{8}\t\n\u{c}\r\u{1f} del\u{7f} emoji😀",
        "payload": {"text": "line1\nline2\u{0}"},
        "uriSpec": "literal {name} with spaces {  id  }",
    })));
}

#[test]
fn enabled_field_mode_matches_curator_and_carries_false() {
    check_both_directions(spec(json!({
        "compatible": false,
        "enabled": false,
        "sslPort": 443,
        "uriSpec": "{scheme}://{address}",
    })));
    check_both_directions(spec(json!({ "compatible": false, "enabled": true })));
}

#[test]
fn curator_reads_rust_payload_objects_without_class_as_maps() {
    let instance = ServiceInstance::builder()
        .name("svc")
        .id("i")
        .address("h")
        .registration_time_utc(7)
        .payload(json!({"zone": "eu", "n": 1}))
        .build()
        .unwrap();
    let bytes = instance.to_json_bytes().unwrap();
    let dump: Value = serde_json::from_slice(&curator("deserialize", &bytes)).unwrap();
    assert_eq!(dump["payload"], json!({"n": 1, "zone": "eu"}));
    assert_eq!(dump["name"], "svc");
    assert_eq!(dump["enabled"], true);
}
