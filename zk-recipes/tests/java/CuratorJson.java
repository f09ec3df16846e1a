// Test helper for zk-recipes/tests/curator_json_compat.rs: runs Apache Curator's own
// JsonInstanceSerializer so the Rust side can be checked against the real thing.
//
// One JVM serves every request of a test run, one line each way (bytes in hex, so no byte
// of the payload can break the framing):
//
//   serialize <hex of spec.json>   -> OK <hex of Curator's bytes for the instance the spec describes>
//   deserialize <hex of bytes>     -> OK <hex of the fields Curator read, as a plain JSON object>
//   (on any failure)               -> ERR <the exception>
//
// It exits when its stdin ends. The spec and the field dump are plain JSON (no Curator
// involved), with the keys name, id, address, port, sslPort, payload, registrationTimeUTC,
// serviceType, uriSpec (a template string in the spec, the parts in the dump), enabled; the
// spec also has "compatible" (JsonInstanceSerializer's compatibleSerializationMode) and the
// dump has "uri" (ServiceInstance.buildUriSpec()).

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceInstanceBuilder;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

public class CuratorJson {
    public static void main(String[] args) throws Exception {
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        ObjectMapper plain = new ObjectMapper();
        String line;
        while ((line = in.readLine()) != null) {
            String reply;
            try {
                int space = line.indexOf(' ');
                String mode = space < 0 ? line : line.substring(0, space);
                byte[] input = space < 0 ? new byte[0] : fromHex(line.substring(space + 1));
                reply = "OK " + toHex(handle(plain, mode, input));
            } catch (Exception e) {
                reply = "ERR " + e.toString().replace('\n', ' ').replace('\r', ' ');
            }
            System.out.println(reply);
            System.out.flush();
        }
    }

    private static byte[] handle(ObjectMapper plain, String mode, byte[] input) throws Exception {
        if (mode.equals("serialize")) {
            JsonNode spec = plain.readTree(input);
            ServiceInstanceBuilder<Object> builder = ServiceInstance.builder();
            builder.name(spec.get("name").asText());
            builder.id(spec.get("id").asText());
            builder.address(spec.get("address").isNull() ? null : spec.get("address").asText());
            if (!spec.get("port").isNull()) {
                builder.port(spec.get("port").asInt());
            }
            if (!spec.get("sslPort").isNull()) {
                builder.sslPort(spec.get("sslPort").asInt());
            }
            if (!spec.get("payload").isNull()) {
                builder.payload(plain.treeToValue(spec.get("payload"), Object.class));
            }
            builder.registrationTimeUTC(spec.get("registrationTimeUTC").asLong());
            builder.serviceType(ServiceType.valueOf(spec.get("serviceType").asText()));
            if (!spec.get("uriSpec").isNull()) {
                builder.uriSpec(new UriSpec(spec.get("uriSpec").asText()));
            }
            builder.enabled(spec.get("enabled").asBoolean());
            JsonInstanceSerializer<Object> serializer =
                new JsonInstanceSerializer<>(Object.class, spec.get("compatible").asBoolean());
            return serializer.serialize(builder.build());
        } else if (mode.equals("deserialize")) {
            JsonInstanceSerializer<Object> serializer = new JsonInstanceSerializer<>(Object.class);
            ServiceInstance<Object> instance = serializer.deserialize(input);
            Map<String, Object> dump = new LinkedHashMap<>();
            dump.put("name", instance.getName());
            dump.put("id", instance.getId());
            dump.put("address", instance.getAddress());
            dump.put("port", instance.getPort());
            dump.put("sslPort", instance.getSslPort());
            dump.put("payload", instance.getPayload());
            dump.put("registrationTimeUTC", instance.getRegistrationTimeUTC());
            dump.put("serviceType", instance.getServiceType() == null ? null : instance.getServiceType().name());
            List<Object> parts = null;
            if (instance.getUriSpec() != null) {
                parts = new ArrayList<>();
                for (UriSpec.Part part : instance.getUriSpec()) {
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("value", part.getValue());
                    p.put("variable", part.isVariable());
                    parts.add(p);
                }
            }
            dump.put("uriSpec", parts);
            dump.put("enabled", instance.isEnabled());
            dump.put("uri", instance.buildUriSpec());
            return plain.writeValueAsBytes(dump);
        } else {
            throw new IllegalArgumentException("unknown mode " + mode);
        }
    }

    private static byte[] fromHex(String hex) {
        if (hex.length() % 2 != 0) {
            throw new IllegalArgumentException("odd hex length " + hex.length());
        }
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    private static String toHex(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            out.append(String.format("%02x", b & 0xff));
        }
        return out.toString();
    }
}
