package dev.trainwatch.jobs.trainer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Benchmark, not a test: record-to-trainer alert latency (p50/p99) through the real stack ({@link
 * TrainerStack}: embedded Kafka, the detection job, the sidecar's alerts endpoint) and the Python
 * client ({@code ingest/python/bench_alert_latency.py}). Run with the test classpath: {@code java
 * -cp ... dev.trainwatch.jobs.trainer.TrainerAlertLatencyBench [exactly-once|at-least-once]
 * [checkpoint.interval.ms] [runs]}; {@code TRAINWATCH_PYTHON} picks the interpreter (default
 * python3).
 */
public final class TrainerAlertLatencyBench {

  public static void main(String[] args) throws Exception {
    String guarantee = args.length > 0 ? args[0] : "exactly-once";
    long checkpointMs = args.length > 1 ? Long.parseLong(args[1]) : 1000;
    String runs = args.length > 2 ? args[2] : "60";
    String python = System.getenv().getOrDefault("TRAINWATCH_PYTHON", "python3");
    Path dir = Files.createTempDirectory("trainer-latency");
    try (TrainerStack stack = new TrainerStack(dir, guarantee, checkpointMs)) {
      Thread.sleep(3000); // the job is running and the feed has found the alerts topic
      Process p =
          new ProcessBuilder(
                  python,
                  TrainerStack.pythonDir().resolve("bench_alert_latency.py").toString(),
                  stack.url(),
                  runs,
                  "30")
              .inheritIO()
              .start();
      p.waitFor();
      System.out.printf(
          "(alerts.delivery-guarantee=%s, checkpoint.interval.ms=%d, Monitor defaults)%n",
          guarantee, checkpointMs);
    }
    System.exit(0);
  }
}
