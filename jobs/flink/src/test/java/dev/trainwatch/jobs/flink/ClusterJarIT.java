package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The jar a Flink cluster runs ({@code flink run ... trainwatch-jobs-flink.jar}) holds the job, its
 * detectors, storage and connectors, and nothing the cluster never runs: no CLI, demo, replay or
 * benchmark classes, no demo recordings, no picocli, no Flink runtime (the cluster provides it; a
 * second copy breaks class loading) and no logging backend.
 */
class ClusterJarIT {

  static final Path JAR = Path.of("target", "trainwatch-jobs-flink.jar");

  @Test
  void holdsTheJobAndOnlyWhatTheClusterRuns() throws IOException {
    try (JarFile jar = new JarFile(JAR.toFile())) {
      List<String> names = jar.stream().map(ZipEntry::getName).toList();
      assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
          .isEqualTo(TrainwatchJob.class.getName());
      assertThat(names)
          .contains(
              "dev/trainwatch/jobs/flink/TrainwatchJob.class",
              "dev/trainwatch/jobs/flink/MonitorFunction.class",
              "dev/trainwatch/jobs/detect/RunMonitor.class",
              "dev/trainwatch/jobs/storage/InfluxSink.class",
              "dev/trainwatch/wire/TelemetryParser.class",
              "org/apache/flink/connector/kafka/source/KafkaSource.class",
              "org/influxdb/InfluxDB.class",
              "picocli/CommandLine.class");
      assertThat(names)
          .noneMatch(
              n ->
                  n.startsWith("dev/trainwatch/jobs/cli/")
                      || n.startsWith("dev/trainwatch/jobs/bench/")
                      || n.startsWith("dev/trainwatch/jobs/demo/")
                      || n.startsWith("dev/trainwatch/jobs/replay/")
                      || n.startsWith("dev/trainwatch/alerts/")
                      || n.startsWith("dev/trainwatch/ingest/")
                      || n.startsWith("dev/trainwatch/embedded/")
                      || n.startsWith("demo/")
                      || n.startsWith("org/apache/flink/streaming/api/environment/")
                      || n.startsWith("org/apache/flink/runtime/")
                      || n.startsWith("org/apache/logging/log4j/core/"));
    }
  }
}
