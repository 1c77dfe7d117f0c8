package dev.trainwatch.wire;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The golden sample files of the wire schema, shipped on the classpath so every module's tests load
 * the same bytes: valid telemetry, invalid telemetry with the expected reason, and an alert event.
 */
public final class Golden {

  /** An invalid line and a fragment its rejection reason must contain. */
  public record InvalidLine(String expectedReason, String line) {}

  private Golden() {}

  public static List<String> validTelemetry() {
    return lines("telemetry-valid.jsonl");
  }

  public static List<InvalidLine> invalidTelemetry() {
    List<InvalidLine> out = new ArrayList<>();
    for (String l : lines("telemetry-invalid.tsv")) {
      if (l.startsWith("#")) {
        continue;
      }
      int tab = l.indexOf('\t');
      out.add(new InvalidLine(l.substring(0, tab), l.substring(tab + 1)));
    }
    return out;
  }

  public static String alertFiring() {
    return String.join("\n", lines("alert-firing.json"));
  }

  private static List<String> lines(String name) {
    try (InputStream in = Golden.class.getResourceAsStream("golden/" + name)) {
      if (in == null) {
        throw new IllegalStateException("golden file missing from the classpath: " + name);
      }
      List<String> out = new ArrayList<>();
      for (String l : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!l.isBlank()) {
          out.add(l);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
