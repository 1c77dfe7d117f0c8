package dev.trainwatch.jobs.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The alert JSON of every public trace and every demo recording, byte for byte, against a golden
 * file: refactoring the detectors must not change a single alert (a changed threshold, evidence
 * key, summary text or number format shows up here as the first differing line). A deliberate
 * change regenerates the files with {@code -Dtrainwatch.golden.update=true} and the diff of the
 * golden file is part of the review.
 */
class AlertsGoldenTest {

  static final Path ROOT =
      Path.of(System.getProperty("trainwatch.root", "..")).toAbsolutePath().normalize();
  static final Path SHARED = Path.of(System.getProperty("trainwatch.shared", "../../shared"));

  @ParameterizedTest
  @ValueSource(strings = {"public-traces", "demo"})
  void alertJsonEqualsTheGoldenFile(String set) throws IOException {
    Path traces =
        set.equals("demo")
            ? ROOT.resolve("jobs/tools/src/main/resources/demo")
            : SHARED.resolve("eval/traces");
    assumeTrue(Files.isDirectory(traces), "traces not available: " + traces);
    byte[] actual = alertsOf(traces);
    Path golden = ROOT.resolve("jobs/detect/src/test/resources/golden/alerts-" + set + ".jsonl");
    if (Boolean.getBoolean("trainwatch.golden.update")) {
      Files.createDirectories(golden.getParent());
      Files.write(golden, actual);
    }
    assertThat(golden).as("golden file (create it with -Dtrainwatch.golden.update=true)").exists();
    List<String> want = Files.readAllLines(golden, StandardCharsets.UTF_8);
    List<String> got = new String(actual, StandardCharsets.UTF_8).lines().toList();
    for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
      assertThat(got.get(i)).as("alert %d of %s", i + 1, set).isEqualTo(want.get(i));
    }
    assertThat(got).as("alerts of " + set).hasSameSizeAs(want);
    assertThat(actual).isEqualTo(Files.readAllBytes(golden));
  }

  /** The alerts of {@code evaluate}: every trace file in name order, each run its own monitor. */
  static byte[] alertsOf(Path dir) throws IOException {
    List<AlertEvent> alerts = OfflineEvaluation.run(List.of(dir), DetectorConfig.DEFAULTS).alerts();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (AlertEvent a : alerts) {
      out.write(AlertJson.toBytes(a));
      out.write('\n');
    }
    return out.toByteArray();
  }
}
