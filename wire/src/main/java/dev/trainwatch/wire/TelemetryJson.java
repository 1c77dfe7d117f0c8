package dev.trainwatch.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes a {@link TelemetryRecord} in the FORMAT.md wire form (the demo, the Python-free producers
 * and tests use it); {@link TelemetryParser} reads it back to an equal record.
 */
public final class TelemetryJson {

  private static final JsonFactory FACTORY =
      JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

  private TelemetryJson() {}

  public static byte[] toBytes(TelemetryRecord r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("run", r.run());
      g.writeNumberField("step", r.step());
      if (r.timeMs() >= 0) {
        g.writeNumberField("time_ms", r.timeMs());
      }
      if (r.task() != null) {
        g.writeStringField("task", r.task());
      }
      if (r.event() != null) {
        g.writeStringField("event", r.event());
      }
      g.writeObjectFieldStart("metrics");
      for (int i = 0; i < r.metrics().size(); i++) {
        g.writeFieldName(r.metrics().name(i));
        writeNumber(g, r.metrics().value(i));
      }
      g.writeEndObject();
      if (r.tags().size() > 0) {
        g.writeObjectFieldStart("tags");
        for (int i = 0; i < r.tags().size(); i++) {
          g.writeStringField(r.tags().names()[i], r.tags().values()[i]);
        }
        g.writeEndObject();
      }
      if (r.logits() != null) {
        LogitsSample s = r.logits();
        g.writeObjectFieldStart("logits");
        if (s.dtype() != null) {
          g.writeStringField("dtype", s.dtype());
        }
        g.writeArrayFieldStart("labels");
        for (int l : s.labels()) {
          g.writeNumber(l);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("rows");
        boolean narrow = !"float64".equals(s.dtype());
        for (double[] row : s.rows()) {
          g.writeStartArray();
          for (double v : row) {
            if (narrow && Double.isFinite(v)) {
              g.writeNumber((float) v); // shortest text that reads back to the same float
            } else {
              writeNumber(g, v);
            }
          }
          g.writeEndArray();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void writeNumber(JsonGenerator g, double v) throws IOException {
    if (Double.isNaN(v)) {
      g.writeString("NaN");
    } else if (Double.isInfinite(v)) {
      g.writeString(v > 0 ? "Infinity" : "-Infinity");
    } else {
      g.writeNumber(v);
    }
  }
}
