package dev.trainwatch.jobs.cli;

import dev.trainwatch.jobs.bench.Bench;
import dev.trainwatch.jobs.detect.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code trainwatch bench}: throughput, latency, state size and per-detector cost in one run. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmark the embedded stack: detector ns/record, state bytes/run, sustained records/s "
            + "vs a raw consumer and a trivial Flink job, produce-to-alert latency.")
final class BenchCommand implements Callable<Integer> {

  @Option(
      names = "--runs",
      defaultValue = "1000",
      description = "concurrent runs (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--records",
      defaultValue = "1500000",
      description = "records for the throughput test (default ${DEFAULT-VALUE})")
  int records;

  @Option(
      names = "--parallelism",
      defaultValue = "2",
      description = "Flink parallelism (default ${DEFAULT-VALUE})")
  int parallelism;

  @Option(
      names = "--latency-seconds",
      defaultValue = "15",
      description = "duration of each latency test (default ${DEFAULT-VALUE})")
  int latencySeconds;

  @Option(
      names = "--traces",
      defaultValue = "../shared/eval/traces",
      description = "public traces for per-detector cost (optional)")
  Path traces;

  @Option(
      names = "--metrics-per-record",
      defaultValue = "1000",
      description =
          "metrics of each record of the per-layer fleet (scalars + <metric>/layer.<N>; 0: none; default ${DEFAULT-VALUE})")
  int wideMetrics;

  @Option(
      names = "--wide-records",
      defaultValue = "30000",
      description = "per-layer records for the end-to-end test (default ${DEFAULT-VALUE})")
  int wideRecords;

  @Option(
      names = "--rounds",
      defaultValue = "2",
      description =
          "runs of each job over each topic; the last is reported, the first pays the JIT (default ${DEFAULT-VALUE})")
  int rounds;

  @Option(
      names = "--json",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "also measure topics in JSON beside the sidecar's binary form (default ${DEFAULT-VALUE})")
  boolean json;

  @Option(
      names = "--latency-rates",
      split = ",",
      paramLabel = "RATE",
      description =
          "also measure at-least-once latency at these loads, records/s (e.g. 40000,60000,80000): the load curve beside the half-load tests")
  List<Integer> latencyRates = new ArrayList<>();

  @Option(
      names = "--quick",
      description =
          "a smoke run of about two minutes (200,000 narrow and 4,000 per-layer records, 8 s latency tests, binary topics only): its rates are indicative only, the rounds being short")
  boolean quick;

  @Override
  public Integer call() throws Exception {
    if (quick) {
      records = Math.min(records, 200_000);
      wideRecords = Math.min(wideRecords, 4_000);
      latencySeconds = Math.min(latencySeconds, 8);
      json = false;
    }
    Checks.atLeast("--runs", runs, 1);
    Checks.atLeast("--records", records, 1);
    Checks.atLeast("--parallelism", parallelism, 1);
    Checks.atLeast("--latency-seconds", latencySeconds, 1);
    Checks.atLeast("--metrics-per-record", wideMetrics, 0);
    Checks.atLeast("--wide-records", wideRecords, 0);
    Checks.atLeast("--rounds", rounds, 1);
    for (int rate : latencyRates) {
      Checks.atLeast("--latency-rates", rate, 1);
    }
    if (wideMetrics > 4096) {
      throw new ConfigException(
          "option '--metrics-per-record': expected a value <= 4096 (the parser's metric limit), got "
              + wideMetrics);
    }
    new Bench(
            new Bench.Options(
                runs,
                records,
                parallelism,
                Duration.ofSeconds(latencySeconds),
                traces,
                wideMetrics,
                wideRecords,
                rounds,
                json,
                List.copyOf(latencyRates)),
            System.out)
        .run();
    return 0;
  }
}
