package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {

  @TempDir
  Path dir;

  @Test
  void environmentOverridesTheFileAndExplicitOverridesWin() throws Exception {
    Path f = dir.resolve("job.properties");
    Files.writeString(f, "kafka.bootstrap.servers=file:9092\njob.parallelism=3\n");
    JobConfig c = JobConfig.load(f, Map.of("TRAINWATCH_KAFKA_BOOTSTRAP_SERVERS", "env:9092"),
        Map.of("job.parallelism", "5"));
    assertThat(c.bootstrapServers()).isEqualTo("env:9092");
    assertThat(c.getLong("job.parallelism")).isEqualTo(5);
    assertThat(c.topics().alerts()).isEqualTo("trainwatch.alerts");
  }

  @Test
  void clientSettingsPassThroughByPrefix() {
    JobConfig c = JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1",
        "kafka.common.security.protocol", "SSL", "kafka.consumer.fetch.min.bytes", "7",
        "kafka.producer.acks", "all"));
    assertThat(c.clientProperties("consumer")).containsEntry("security.protocol", "SSL")
        .containsEntry("fetch.min.bytes", "7").doesNotContainKey("acks");
    assertThat(c.clientProperties("producer")).containsEntry("security.protocol", "SSL")
        .containsEntry("acks", "all");
  }

  @Test
  void detectorSettingsAreHandedToTheDetectors() {
    JobConfig c = JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "detector.gap.warn_drop", "0.2"));
    assertThat(c.detectorConfig().settings().getDouble("gap.warn_drop", 0.1)).isEqualTo(0.2);
  }

  @Test
  void unknownKeyFailsNamingTheKey() {
    assertThatThrownBy(() -> JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "job.paralelism", "2")))
        .hasMessageContaining("unknown configuration key 'job.paralelism'");
  }

  @Test
  void missingRequiredKeyFailsNamingIt() {
    assertThatThrownBy(() -> JobConfig.of(Map.of()))
        .hasMessageContaining("'kafka.bootstrap.servers' is required");
  }

  @Test
  void badNumberFailsNamingTheKey() {
    JobConfig c = JobConfig.of(Map.of("kafka.bootstrap.servers", "x:1", "job.parallelism", "two"));
    assertThatThrownBy(() -> c.getLong("job.parallelism")).hasMessageContaining("'job.parallelism'");
  }
}
