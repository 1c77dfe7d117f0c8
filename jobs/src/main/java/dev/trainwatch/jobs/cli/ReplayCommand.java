package dev.trainwatch.jobs.cli;

import dev.trainwatch.embedded.EmbeddedKafka;
import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.Settings;
import dev.trainwatch.jobs.replay.Replay;
import dev.trainwatch.jobs.storage.LocalStorage;
import dev.trainwatch.wire.DeadLetter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code trainwatch replay}: recorded runs through embedded Kafka and Flink, alerts to a file. */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Replay recorded runs through the real path (embedded Kafka -> Flink -> alerts topic) "
        + "and write every alert event as JSON Lines.")
final class ReplayCommand implements Callable<Integer> {

  @Option(names = "--traces", required = true, split = ",",
      description = "trace files or directories (.jsonl, .jsonl.gz)")
  List<Path> traces;

  @Option(names = "--alerts-out", required = true, description = "alert events output (JSON Lines)")
  Path alertsOut;

  @Option(names = "--parallelism", defaultValue = "2", description = "Flink parallelism (default ${DEFAULT-VALUE})")
  int parallelism;

  @Option(names = "--set", description = "detector setting key=value (repeatable)")
  Map<String, String> settings = new HashMap<>();

  @Option(names = "--influx", description = "also store telemetry and alerts in InfluxDB: a URL, or 'auto' "
      + "(TRAINWATCH_INFLUX_URL, else a local influxd on loopback, else none)")
  String influx;

  @Override
  public Integer call() throws Exception {
    new DetectorConfig(new Settings(settings)); // validates before the broker starts
    Checks.atLeast("--parallelism", parallelism, 1);
    if (influx != null) {
      return replayWithStorage();
    }
    return report(Replay.run(traces, parallelism, settings));
  }

  private Integer replayWithStorage() throws Exception {
    Map<String, String> s = influx.equals("auto") ? Map.of() : Map.of("influx.url", influx);
    try (LocalStorage storage = LocalStorage.resolve(s, System.getenv()).orElse(null);
        EmbeddedKafka kafka = EmbeddedKafka.start()) {
      System.err.println(storage == null ? "storage: none (no URL configured, no influxd installed)"
          : "storage: " + storage.config() + (storage.isLocal() ? " (local, deleted on exit)" : ""));
      return report(Replay.run(kafka.bootstrapServers(), traces, parallelism, settings, System.nanoTime(),
          storage == null ? null : storage.config()));
    }
  }

  private Integer report(Replay.Result r) throws Exception {
    AlertsFile.write(alertsOut, r.alerts());
    System.err.printf("replayed %d records: produce %d ms, job %d ms (%.0f records/s end to end), total %d ms%n",
        r.recordsSent(), r.produceMillis(), r.jobMillis(),
        r.recordsSent() * 1000.0 / Math.max(1, r.produceMillis() + r.jobMillis()), r.totalMillis());
    System.err.printf("%d alert events -> %s%n", r.alerts().size(), alertsOut);
    if (!r.deadLetters().isEmpty()) {
      System.err.printf("%d malformed records dead-lettered, e.g.:%n", r.deadLetters().size());
      for (DeadLetter d : r.deadLetters().subList(0, Math.min(5, r.deadLetters().size()))) {
        System.err.printf("  %s: %s%n", d.origin(), d.reason());
      }
    }
    return 0;
  }
}
