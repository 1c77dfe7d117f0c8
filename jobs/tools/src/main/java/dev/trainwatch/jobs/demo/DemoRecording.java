package dev.trainwatch.jobs.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The recorded telemetry of one real PyTorch run that {@code trainwatch demo} plays: the JSON Lines
 * the project's Python client wrote ({@code Monitor(run, path=...)}), unchanged.
 *
 * <p>The recordings are resources of this module ({@code demo/<run>.jsonl.gz}), made by {@code
 * examples/record_demo.py}; {@code demo/labels.json} beside them names each run's kind and, in the
 * format of {@code shared/eval/FORMAT.md}, its onset or its gaps, so {@code trainwatch evaluate}
 * and {@code score.py} score them like the public traces.
 *
 * @param kind what the run shows, as a labels.json kind: {@code healthy}, {@code softmax_collapse},
 *     {@code divergence}, {@code stability_gap}
 * @param lines the records, one JSON object each, in step order
 */
public record DemoRecording(String run, String kind, List<String> lines) {

  /** Where the recordings and their labels.json are on the class path. */
  public static final String RESOURCES = "/demo/";

  private static final ObjectMapper JSON = new ObjectMapper();

  public DemoRecording {
    lines = List.copyOf(lines);
  }

  /** The runs the demo plays, in the order labels.json lists them. */
  public static List<DemoRecording> standard() {
    try {
      JsonNode labels = JSON.readTree(resource("labels.json"));
      List<DemoRecording> out = new ArrayList<>();
      for (JsonNode run : labels.get("runs")) {
        out.add(
            new DemoRecording(
                run.get("run").asText(),
                run.get("kind").asText(),
                lines(run.get("file").asText())));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("the demo's recordings (" + RESOURCES + ") cannot be read", e);
    }
  }

  /** Records (optimizer steps) of the run. */
  public int steps() {
    return lines.size();
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = DemoRecording.class.getResourceAsStream(RESOURCES + name);
    if (in == null) {
      throw new IOException("no resource " + RESOURCES + name + " on the class path");
    }
    return in;
  }

  private static List<String> lines(String file) throws IOException {
    List<String> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(new GZIPInputStream(resource(file)), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isBlank()) {
          out.add(line);
        }
      }
    }
    return out;
  }
}
