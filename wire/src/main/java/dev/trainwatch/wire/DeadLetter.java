package dev.trainwatch.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A record that could not be used, with the reason: what every ingest path and the Flink job write
 * to the dead-letter topic instead of failing. {@code payload} is the input as received (truncated
 * to a few KB), {@code origin} where it came from (e.g. {@code trainwatch.telemetry-3@1042} or
 * {@code http 127.0.0.1}).
 */
public record DeadLetter(String reason, String run, String origin, String payload, long timeMs) {

  public static final int MAX_PAYLOAD_CHARS = 4096;

  public DeadLetter {
    if (payload != null && payload.length() > MAX_PAYLOAD_CHARS) {
      payload = payload.substring(0, MAX_PAYLOAD_CHARS) + "...(truncated)";
    }
  }

  public byte[] toJson() {
    var out = new ByteArrayOutputStream(256);
    try (var g = new JsonFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("reason", reason);
      if (run != null) {
        g.writeStringField("run", run);
      }
      g.writeStringField("origin", origin);
      g.writeStringField("payload", payload);
      g.writeNumberField("time_ms", timeMs);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static DeadLetter fromJson(byte[] json) {
    try {
      var n = new ObjectMapper().readTree(json);
      return new DeadLetter(
          n.path("reason").asText(),
          n.hasNonNull("run") ? n.get("run").asText() : null,
          n.path("origin").asText(),
          n.path("payload").asText(),
          n.path("time_ms").asLong());
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed dead-letter JSON: " + e.getMessage(), e);
    }
  }
}
