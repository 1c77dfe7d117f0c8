package dev.trainwatch.jobs.cli;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.Settings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options of every command that runs the detectors over recorded traces ({@code evaluate},
 * {@code replay}): which traces, and detector settings on top of the defaults. Declared once, as a
 * picocli mixin, so the two commands cannot drift apart.
 */
final class TraceOptions {

  @Option(
      names = "--traces",
      required = true,
      split = ",",
      description = "trace files or directories (.jsonl, .jsonl.gz)")
  List<Path> traces;

  @Option(names = "--set", description = "detector setting key=value (repeatable)")
  Map<String, String> settings = new HashMap<>();

  /** The detector settings, validated: an unknown key or a bad value names the key (exit 2). */
  DetectorConfig detectors() {
    return new DetectorConfig(new Settings(settings));
  }
}
