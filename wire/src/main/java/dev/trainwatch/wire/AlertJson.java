package dev.trainwatch.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * JSON form of {@link AlertEvent}: snake_case keys in a fixed order, non-finite evidence numbers as
 * the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"} (as in the telemetry format),
 * absent optional fields omitted. {@code score.py} reads this format.
 */
public final class AlertJson {

  private static final JsonFactory FACTORY = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private AlertJson() {}

  public static byte[] toBytes(AlertEvent a) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("version", a.version());
      g.writeStringField("run", a.run());
      g.writeStringField("family", a.family().wire());
      g.writeStringField("detector", a.detector());
      g.writeStringField("severity", a.severity().wire());
      g.writeStringField("status", a.status().wire());
      g.writeNumberField("step", a.step());
      if (a.timeMs() >= 0) {
        g.writeNumberField("time_ms", a.timeMs());
      }
      g.writeStringField("fingerprint", a.fingerprint());
      if (a.affectedTask() != null) {
        g.writeStringField("affected_task", a.affectedTask());
      }
      g.writeStringField("summary", a.summary() == null ? "" : a.summary());
      if (a.remedy() != null) {
        g.writeStringField("remedy", a.remedy());
      }
      if (!a.tags().isEmpty()) {
        g.writeObjectFieldStart("tags");
        for (Map.Entry<String, String> t : a.tags().entrySet()) {
          g.writeStringField(t.getKey(), t.getValue());
        }
        g.writeEndObject();
      }
      g.writeObjectFieldStart("evidence");
      for (Map.Entry<String, Object> e : a.evidence().entrySet()) {
        g.writeFieldName(e.getKey());
        writeValue(g, e.getValue());
      }
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static String toJson(AlertEvent a) {
    return new String(toBytes(a), StandardCharsets.UTF_8);
  }

  private static void writeValue(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof Double d && !Double.isFinite(d)) {
      g.writeString(d.isNaN() ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    } else if (v instanceof Float f && !Float.isFinite(f)) {
      writeValue(g, f.doubleValue());
    } else if (v instanceof Double d) {
      g.writeNumber(d);
    } else if (v instanceof Float f) {
      g.writeNumber(f);
    } else if (v instanceof Long l) {
      g.writeNumber(l);
    } else if (v instanceof Integer i) {
      g.writeNumber(i);
    } else if (v instanceof Number n) {
      g.writeNumber(n.doubleValue());
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else {
      g.writeString(v.toString());
    }
  }

  /**
   * Reads an alert written by {@link #toBytes}; throws IllegalArgumentException naming the field.
   */
  public static AlertEvent parse(byte[] json) {
    JsonNode n;
    try {
      n = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed alert JSON: " + e.getMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("alert must be a JSON object");
    }
    Map<String, Object> evidence = new LinkedHashMap<>();
    JsonNode ev = n.path("evidence");
    for (Iterator<Map.Entry<String, JsonNode>> it = ev.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      evidence.put(
          e.getKey(),
          v.isIntegralNumber()
              ? (Object) v.asLong()
              : v.isNumber()
                  ? (Object) v.asDouble()
                  : v.isBoolean() ? (Object) v.asBoolean() : v.isNull() ? null : v.asText());
    }
    return new AlertEvent(
        n.path("version").asInt(AlertEvent.SCHEMA_VERSION),
        required(n, "run"),
        Family.fromWire(required(n, "family")),
        required(n, "detector"),
        Severity.fromWire(required(n, "severity")),
        Status.fromWire(required(n, "status")),
        n.path("step").asLong(-1),
        n.path("time_ms").asLong(-1),
        n.hasNonNull("fingerprint") ? n.get("fingerprint").asText() : null,
        n.path("summary").asText(""),
        n.hasNonNull("remedy") ? n.get("remedy").asText() : null,
        evidence,
        n.hasNonNull("affected_task") ? n.get("affected_task").asText() : null,
        tags(n.path("tags")));
  }

  private static Map<String, String> tags(JsonNode t) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = t.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new IllegalArgumentException(
            "alert field 'tags." + e.getKey() + "' must be a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static String required(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException(
          "alert field '" + field + "' is required and must be a string");
    }
    return v.asText();
  }
}
