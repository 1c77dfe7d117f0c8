package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainwatch.jobs.detect.stabilitygap.OldTaskDropDetector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {

  @TempDir Path dir;

  @Test
  void environmentOverridesTheFileAndExplicitOverridesWin() throws Exception {
    Path f = dir.resolve("job.properties");
    Files.writeString(f, "kafka.bootstrap.servers=file:9092\njob.parallelism=3\n");
    JobConfig c =
        JobConfig.load(
            f,
            Map.of("TRAINWATCH_KAFKA_BOOTSTRAP_SERVERS", "env:9092"),
            Map.of("job.parallelism", "5"));
    assertThat(c.bootstrapServers()).isEqualTo("env:9092");
    assertThat(c.getLong("job.parallelism")).isEqualTo(5);
    assertThat(c.topics().alerts()).isEqualTo("trainwatch.alerts");
  }

  @Test
  void theExampleFileLoadsAndDeclaresEveryKey() throws Exception {
    Path example =
        Path.of(
            System.getProperty("trainwatch.root", "../.."),
            "jobs",
            "config",
            "job.example.properties");
    JobConfig c = JobConfig.load(example, Map.of(), Map.of());
    String text = Files.readString(example);
    for (var k : JobConfig.KEYS) {
      assertThat(text).as("job.example.properties shows " + k.key()).contains(k.key() + "=");
    }
    assertThat(c.influx(Map.of())).isEmpty();
  }

  @Test
  void clientSettingsPassThroughByPrefix() {
    JobConfig c =
        JobConfig.of(
            Map.of(
                "kafka.bootstrap.servers",
                "x:1",
                "kafka.common.security.protocol",
                "SSL",
                "kafka.consumer.fetch.min.bytes",
                "7",
                "kafka.producer.acks",
                "all"));
    assertThat(c.clientProperties("consumer"))
        .containsEntry("security.protocol", "SSL")
        .containsEntry("fetch.min.bytes", "7")
        .doesNotContainKey("acks");
    assertThat(c.clientProperties("producer"))
        .containsEntry("security.protocol", "SSL")
        .containsEntry("acks", "all");
  }

  @Test
  void detectorSettingsAreHandedToTheDetectors() {
    JobConfig c =
        JobConfig.of(
            Map.of(
                "kafka.bootstrap.servers",
                "x:1",
                "detector.stability_gap.old_task_drop.warn_drop",
                "0.2"));
    assertThat(c.detectorConfig().settings().get(OldTaskDropDetector.WARN_DROP)).isEqualTo(0.2);
  }

  @Test
  void unknownKeyFailsNamingTheKey() {
    assertThatThrownBy(
            () -> JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "job.paralelism", "2")))
        .hasMessageContaining("unknown configuration key 'job.paralelism'");
  }

  @Test
  void missingRequiredKeyFailsNamingIt() {
    assertThatThrownBy(() -> JobConfig.of(Map.of()))
        .hasMessageContaining("'kafka.bootstrap.servers' is required");
  }

  @Test
  void badNumberFailsWhenLoadedNamingTheKeyAndWhatIsAllowed() {
    assertThatThrownBy(
            () -> JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "job.parallelism", "two")))
        .hasMessage(
            "configuration key 'job.parallelism': expected an integer (a value >= 1 and <= 32768), got 'two'");
    assertThatThrownBy(
            () -> JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "job.parallelism", "0")))
        .hasMessageContaining("'job.parallelism': expected a value >= 1");
    assertThatThrownBy(
            () ->
                JobConfig.of(
                    Map.of("kafka.bootstrap.servers", "x:1", "source.starting-offsets", "first")))
        .hasMessage(
            "configuration key 'source.starting-offsets': expected one of committed, earliest, latest, got 'first'");
    assertThatThrownBy(
            () -> JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "topics.create", "yes")))
        .hasMessageContaining("'topics.create': expected true or false, got 'yes'");
  }

  @Test
  void detectorAndStorageKeysAreValidatedWhenLoaded() {
    assertThatThrownBy(
            () ->
                JobConfig.of(
                    Map.of(
                        "kafka.bootstrap.servers",
                        "x:1",
                        "detector.instability.loss_spike.no_such_key",
                        "7")))
        .hasMessageStartingWith(
            "setting 'detector.instability.loss_spike.no_such_key': unknown key; "
                + "instability.loss_spike takes z, ratio, min_rise");
    assertThatThrownBy(
            () ->
                JobConfig.of(
                    Map.of(
                        "kafka.bootstrap.servers",
                        "x:1",
                        "detector.instability.loss_spike.ratio",
                        "abc")))
        .hasMessageStartingWith(
            "setting 'detector.instability.loss_spike.ratio': expected a number");
    assertThatThrownBy(
            () ->
                JobConfig.of(
                    Map.of(
                        "kafka.bootstrap.servers",
                        "x:1",
                        "influx.batch-size",
                        "-1",
                        "influx.url",
                        "http://127.0.0.1:1")))
        .hasMessageContaining("'influx.batch-size'");
    assertThatThrownBy(
            () -> JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "influx.urll", "http://x")))
        .hasMessageContaining("unknown configuration key 'influx.urll'");
  }

  @Test
  void storageIsConfiguredByInfluxUrl() {
    JobConfig c =
        JobConfig.of(
            Map.of(
                "kafka.bootstrap.servers",
                "x:1",
                "influx.url",
                "http://127.0.0.1:8086",
                "influx.database",
                "tw"));
    assertThat(c.influx(Map.of()).orElseThrow().database()).isEqualTo("tw");
    assertThat(JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1")).influx(Map.of())).isEmpty();
    assertThat(c.topicPartitions())
        .containsEntry("trainwatch.telemetry", 8)
        .containsEntry("trainwatch.alerts", 2);
  }
}
