package dev.trainwatch.jobs.detect.softmaxcollapse;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Loads the public traces of ../shared/eval/traces; skips the test when they are absent. */
final class Traces {

  private Traces() {}

  static List<TelemetryRecord> load(String run) {
    Path p =
        Path.of(
            System.getProperty("trainwatch.shared", "../../shared"),
            "eval",
            "traces",
            run + ".jsonl.gz");
    assumeTrue(Files.isRegularFile(p), "public trace not available: " + p);
    List<TelemetryRecord> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(Files.newInputStream(p)), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (TelemetryParser.DEFAULT.parse(line) instanceof ParseResult.Parsed parsed) {
          out.add(parsed.record());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }
}
