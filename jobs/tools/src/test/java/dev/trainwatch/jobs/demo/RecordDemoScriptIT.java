package dev.trainwatch.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed recordings are what {@code examples/record_demo.py} makes: one run re-recorded with
 * real torch (the project's venv from {@code bin/pyenv}, {@code TRAINWATCH_PYTHON}) and the
 * project's client equals the resource record for record, {@code time_ms} aside. A change to the
 * client or the script that would change the demo's telemetry shows here.
 */
class RecordDemoScriptIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path out;

  @Test
  void reRecordingTheHealthyLearningRateRunGivesTheCommittedRecords() throws Exception {
    String python = System.getenv("TRAINWATCH_PYTHON");
    boolean present = python != null && Files.isExecutable(Path.of(python));
    if (!present && "true".equals(System.getenv("CI"))) {
      throw new AssertionError(
          "TRAINWATCH_PYTHON is not set to an interpreter (got " + python + "); bin/test sets it");
    }
    Assumptions.assumeTrue(
        present, "TRAINWATCH_PYTHON not set: run bin/pyenv and export TRAINWATCH_PYTHON");
    Path root = Path.of("../..").toAbsolutePath().normalize();
    ProcessBuilder pb =
        new ProcessBuilder(
                python,
                root.resolve("examples/record_demo.py").toString(),
                "--out",
                out.toString(),
                "--only",
                "lr-mlp-lr3e-3-s1")
            .redirectErrorStream(true)
            .redirectOutput(out.resolve("log").toFile());
    pb.environment()
        .put("PYTHONPATH", root.resolve("ingest/python").toString()); // the client of this checkout
    Process p = pb.start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "record_demo.py did not finish in 5 minutes: " + Files.readString(out.resolve("log")));
    }
    assertThat(p.exitValue()).as(Files.readString(out.resolve("log"))).isZero();

    List<JsonNode> made = records(Files.newInputStream(out.resolve("lr-mlp-lr3e-3-s1.jsonl.gz")));
    List<JsonNode> committed =
        records(DemoRecording.class.getResourceAsStream("/demo/lr-mlp-lr3e-3-s1.jsonl.gz"));
    assertThat(made).hasSize(600).isEqualTo(committed);
  }

  private static List<JsonNode> records(InputStream gz) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(new GZIPInputStream(gz), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        ObjectNode o = (ObjectNode) JSON.readTree(line);
        o.remove("time_ms"); // the wall clock of the recording
        out.add(o);
      }
    }
    return out;
  }
}
