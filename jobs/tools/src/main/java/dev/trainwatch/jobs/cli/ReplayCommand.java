package dev.trainwatch.jobs.cli;

import dev.trainwatch.embedded.PersistentKafka;
import dev.trainwatch.jobs.replay.Replay;
import dev.trainwatch.jobs.replay.ReplaySchedule;
import dev.trainwatch.jobs.replay.TraceProducer;
import dev.trainwatch.wire.DeadLetter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code trainwatch replay}: recorded runs through embedded Kafka and Flink, alerts to a file. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
        "Replay recorded runs through the real path (embedded Kafka -> Flink -> alerts topic) "
            + "and write every alert event as JSON Lines; or, with --bootstrap-servers, publish them to a "
            + "running deployment's Kafka (its job detects, its alerts service notifies), paced by --pace.")
final class ReplayCommand implements Callable<Integer> {

  @Mixin TraceOptions input;

  @Option(
      names = "--alerts-out",
      description = "alert events output (JSON Lines); required without --bootstrap-servers")
  Path alertsOut;

  @Option(
      names = "--bootstrap-servers",
      description =
          "publish to this Kafka (a running deployment) instead of "
              + "replaying through the embedded broker and a local job")
  String bootstrapServers;

  @Option(
      names = "--topic",
      defaultValue = "trainwatch.telemetry",
      description = "telemetry topic with --bootstrap-servers (default ${DEFAULT-VALUE})")
  String topic;

  @Option(
      names = "--pace",
      description =
          "with --bootstrap-servers: 'time' (each run's time_ms gaps, all runs "
              + "starting together) or records/s over all runs (e.g. 500); default: as fast as possible")
  String pace;

  @Option(
      names = "--speed",
      defaultValue = "1",
      description =
          "with --pace time: replay this many times "
              + "faster than recorded (default ${DEFAULT-VALUE})")
  double speed;

  @Spec CommandSpec spec;

  @Option(
      names = "--parallelism",
      defaultValue = "2",
      description = "Flink parallelism (default ${DEFAULT-VALUE})")
  int parallelism;

  @Option(
      names = "--influx",
      description =
          "also store telemetry and alerts in InfluxDB: a URL, or 'auto' "
              + "(TRAINWATCH_INFLUX_URL, else a local influxd on loopback, else none)")
  String influx;

  @Override
  public Integer call() throws Exception {
    if (bootstrapServers != null) {
      return publish();
    }
    input.detectors(); // validates before the broker starts
    Checks.atLeast("--parallelism", parallelism, 1);
    if (pace != null) {
      throw new ParameterException(
          spec.commandLine(),
          "--pace needs --bootstrap-servers: "
              + "the embedded replay produces everything before its job runs");
    }
    if (alertsOut == null) {
      throw new ParameterException(
          spec.commandLine(), "--alerts-out is required " + "(without --bootstrap-servers)");
    }
    if (influx != null) {
      return replayWithStorage();
    }
    return report(Replay.run(input.traces, parallelism, input.settings));
  }

  /**
   * Into a running deployment: the lines go to its telemetry topic, paced; nothing runs locally.
   */
  private Integer publish() throws Exception {
    if (alertsOut != null || influx != null) {
      throw new ParameterException(
          spec.commandLine(),
          "--alerts-out and --influx belong "
              + "to the embedded replay; with --bootstrap-servers the deployment detects, stores and notifies");
    }
    ReplaySchedule.Pace p;
    try {
      p = pace == null ? null : ReplaySchedule.Pace.parse(pace, speed);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    long t0 = System.nanoTime();
    long sent;
    if (p == null) {
      sent = TraceProducer.produce(bootstrapServers, topic, input.traces);
    } else {
      List<ReplaySchedule.Entry> schedule = ReplaySchedule.ofTraces(input.traces, p);
      System.err.printf(
          Locale.ROOT,
          "publishing %d records to %s on %s over %.1f s%n",
          schedule.size(),
          topic,
          bootstrapServers,
          schedule.isEmpty() ? 0.0 : schedule.get(schedule.size() - 1).atNanos() / 1e9);
      sent =
          TraceProducer.produce(
              bootstrapServers,
              topic,
              schedule,
              n -> System.err.printf(Locale.ROOT, "  %d of %d sent%n", n, schedule.size()));
    }
    System.err.printf(
        Locale.ROOT,
        "published %d records to %s in %d ms%n",
        sent,
        topic,
        (System.nanoTime() - t0) / 1_000_000);
    return 0;
  }

  private Integer replayWithStorage() throws Exception {
    Map<String, String> s = influx.equals("auto") ? Map.of() : Map.of("influx.url", influx);
    try (LocalStorage storage = LocalStorage.resolve(s, System.getenv()).orElse(null);
        PersistentKafka kafka = PersistentKafka.startTemporary()) {
      System.err.println(
          storage == null
              ? "storage: none (no URL configured, no influxd installed)"
              : "storage: "
                  + storage.config()
                  + (storage.isLocal() ? " (local, deleted on exit)" : ""));
      return report(
          Replay.run(
              kafka.bootstrapServers(),
              input.traces,
              parallelism,
              input.settings,
              System.nanoTime(),
              storage == null ? null : storage.config()));
    }
  }

  private Integer report(Replay.Result r) throws Exception {
    AlertsFile.write(alertsOut, r.alerts());
    System.err.printf(
        "replayed %d records: produce %d ms, job %d ms (%.0f records/s end to end), total %d ms%n",
        r.recordsSent(),
        r.produceMillis(),
        r.jobMillis(),
        r.recordsSent() * 1000.0 / Math.max(1, r.produceMillis() + r.jobMillis()),
        r.totalMillis());
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
