package dev.trainwatch.wire;

/**
 * Kafka topic names shared by the sidecar, the Flink job and the alerts service. Telemetry and
 * alerts are keyed by run, so per-run order in Kafka matches the job's keyBy(run).
 */
public record Topics(String telemetry, String alerts, String deadLetter, String metrics) {

  public static final Topics DEFAULT =
      new Topics(
          "trainwatch.telemetry",
          "trainwatch.alerts",
          "trainwatch.dead-letter",
          "trainwatch.metrics");

  public Topics {
    for (String t : new String[] {telemetry, alerts, deadLetter, metrics}) {
      if (t == null || t.isBlank()) {
        throw new IllegalArgumentException("topic names must be non-empty");
      }
    }
  }
}
