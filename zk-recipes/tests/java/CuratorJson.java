// Test helper for zk-recipes/tests/curator_json_compat.rs: runs Apache Curator's own
// JsonInstanceSerializer so the Rust side can be checked against the real thing.
//
//   java CuratorJson serialize    < spec.json   -> Curator's bytes for the instance the spec describes
//   java CuratorJson deserialize  < bytes       -> the fields Curator read, as a plain JSON object
//
// The spec and the field dump are plain JSON (no Curator involved), with the keys
// name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType,
// uriSpec (a template string in the spec, the parts in the dump), enabled; the spec also has
// "compatible" (JsonInstanceSerializer's compatibleSerializationMode) and the dump has "uri"
// (ServiceInstance.buildUriSpec()).

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
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
        if (args.length != 1) {
            System.err.println("usage: CuratorJson serialize|deserialize");
            System.exit(2);
        }
        byte[] input = readAll(System.in);
        ObjectMapper plain = new ObjectMapper();
        if (args[0].equals("serialize")) {
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
            System.out.write(serializer.serialize(builder.build()));
            System.out.flush();
        } else if (args[0].equals("deserialize")) {
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
            System.out.write(plain.writeValueAsBytes(dump));
            System.out.flush();
        } else {
            System.err.println("unknown mode " + args[0]);
            System.exit(2);
        }
    }

    private static byte[] readAll(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
