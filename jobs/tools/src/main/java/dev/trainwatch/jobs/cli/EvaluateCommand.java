package dev.trainwatch.jobs.cli;

import dev.trainwatch.jobs.detect.DetectorConfig;
import dev.trainwatch.jobs.detect.OfflineEvaluation;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs the detectors over traces in-process (no Kafka, no Flink): the detector tuning loop. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description =
        "Run the detectors over recorded traces in-process (no Kafka/Flink) and write the alerts.")
final class EvaluateCommand implements Callable<Integer> {

  @Mixin TraceOptions input;

  @Option(
      names = "--alerts-out",
      required = true,
      description = "where to write the alerts (JSON Lines)")
  Path alertsOut;

  @Override
  public Integer call() throws Exception {
    DetectorConfig detectors = input.detectors(); // validates
    long t0 = System.nanoTime();
    OfflineEvaluation.Result r = OfflineEvaluation.run(input.traces, detectors);
    AlertsFile.write(alertsOut, r.alerts());
    double secs = (System.nanoTime() - t0) / 1e9;
    System.err.printf(
        "evaluated %d records (%d rejected) in %.2f s: %d alert events -> %s%n",
        r.records(), r.rejected(), secs, r.alerts().size(), alertsOut);
    return 0;
  }
}
