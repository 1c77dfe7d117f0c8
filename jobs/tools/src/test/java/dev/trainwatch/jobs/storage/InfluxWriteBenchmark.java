package dev.trainwatch.jobs.storage;

import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.wire.ParseResult;
import dev.trainwatch.wire.TelemetryParser;
import dev.trainwatch.wire.TelemetryRecord;
import dev.trainwatch.wire.TraceFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Write throughput of the sink writer (batching + sender thread + influxdb-java) into a local
 * influxd, with the public traces as data. Not a test: run it by hand, {@code java -cp <test
 * classpath> dev.trainwatch.jobs.storage.InfluxWriteBenchmark [traces dir] [rounds]}. Each round
 * writes into a fresh database (first write), then rewrites the same points (the idempotent replay
 * case).
 */
public final class InfluxWriteBenchmark {

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "../shared/eval/traces");
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<TelemetryRecord> records = new ArrayList<>();
    for (Path f : TraceFiles.resolve(List.of(dir))) {
      TraceFiles.forEachLine(
          f,
          l -> {
            if (TelemetryParser.DEFAULT.parse(l) instanceof ParseResult.Parsed p) {
              records.add(p.record());
            }
          });
    }
    List<InfluxLine> lines = new ArrayList<>();
    for (int warm = 0; warm < 3; warm++) {
      lines.clear();
      long t0 = System.nanoTime();
      for (TelemetryRecord r : records) {
        lines.addAll(Points.telemetry(r));
      }
      double mapS = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "%d records -> %d points mapped in %.3f s (%.0f points/s)%n",
          records.size(), lines.size(), mapS, lines.size() / mapS);
    }
    try (EmbeddedInflux influx = EmbeddedInflux.start()) {
      for (int round = 0; round < rounds; round++) {
        InfluxSinkConfig c = InfluxSinkConfig.forUrl(influx.url()).withDatabase("bench" + round);
        System.out.printf(
            "round %d: first write %.0f points/s, rewrite %.0f points/s%n",
            round, write(c, lines), write(c, lines));
      }
    }
  }

  private static double write(InfluxSinkConfig c, List<InfluxLine> lines) throws Exception {
    try (InfluxSinkWriter w = InfluxSink.open(c, new InfluxBatchWriter(c), null)) {
      long t = System.nanoTime();
      for (InfluxLine l : lines) {
        w.write(l, null);
      }
      w.flush(true);
      return lines.size() / ((System.nanoTime() - t) / 1e9);
    }
  }
}
