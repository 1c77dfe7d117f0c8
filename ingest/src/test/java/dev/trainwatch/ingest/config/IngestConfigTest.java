package dev.trainwatch.ingest.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestConfigTest {

  @TempDir Path dir;

  @Test
  void defaultsBindToLoopback() {
    IngestConfig c = IngestConfig.of(Map.of());
    assertThat(c.getString(IngestConfig.HTTP_BIND)).isEqualTo("127.0.0.1");
    assertThat(c.getString(IngestConfig.HTTP_TOKEN)).isNull();
    assertThat(c.getString(IngestConfig.TOPIC)).isEqualTo("trainwatch.telemetry");
  }

  @Test
  void envOverridesFileAndOverridesWinOverEnv() throws Exception {
    Path f = dir.resolve("ingest.properties");
    Files.writeString(f, "http.port=1000\nqueue.capacity=7\nkafka.producer.acks=1\n");
    IngestConfig c =
        IngestConfig.load(
            f,
            Map.of(
                "TRAINWATCH_INGEST_HTTP_PORT",
                "2000",
                "TRAINWATCH_INGEST_QUEUE_CAPACITY",
                "8",
                "PATH",
                "/bin"),
            Map.of("queue.capacity", "9"));
    assertThat(c.getInt(IngestConfig.HTTP_PORT)).isEqualTo(2000);
    assertThat(c.getInt(IngestConfig.QUEUE_CAPACITY)).isEqualTo(9);
  }

  @Test
  void kafkaSettingsPassThroughByPrefix() {
    IngestConfig c =
        IngestConfig.load(
            null,
            Map.of("TRAINWATCH_INGEST_KAFKA_SASL_MECHANISM", "PLAIN"),
            Map.of(
                "kafka.producer.acks",
                "1",
                "kafka.security.protocol",
                "SASL_SSL",
                "kafka.bootstrap.servers",
                "k:9093",
                "kafka.probe.interval.ms",
                "5"));
    assertThat(c.kafkaClientSettings())
        .containsEntry("acks", "1")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "PLAIN")
        .containsEntry("bootstrap.servers", "k:9093")
        .doesNotContainKey("probe.interval.ms");
  }

  @Test
  void aBadValueNamesTheKeyAndTheFix() {
    assertThatThrownBy(() -> IngestConfig.of(Map.of("http.port", "eighty")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("http.port")
        .hasMessageContaining("Fix:");
  }

  @Test
  void anUnknownKeyFromTheFileOrTheEnvironmentIsNamed() throws Exception {
    Path f = dir.resolve("ingest.properties");
    java.nio.file.Files.writeString(f, "htp.port=9000\n");
    assertThatThrownBy(() -> IngestConfig.load(f, Map.of(), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("htp.port: unknown key. Fix: use one of [http.bind, http.port");
    assertThatThrownBy(
            () -> IngestConfig.load(null, Map.of("TRAINWATCH_INGEST_SPOOL_DIRR", "/x"), Map.of()))
        .hasMessageStartingWith("spool.dirr: unknown key");
  }

  @Test
  void anUnreadableFileNamesTheOption() {
    assertThatThrownBy(() -> IngestConfig.load(dir.resolve("missing"), Map.of(), Map.of()))
        .hasMessageContaining("--config");
  }

  @Test
  void aRecordLimitTheProducerCannotSendFailsAtStartUpNamingBothKeys() {
    assertThatThrownBy(() -> IngestConfig.of(Map.of("record.max.bytes", String.valueOf(1 << 20))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "record.max.bytes = 1048576 does not fit the producer's max.request.size = 1048576")
        .hasMessageContaining("at most 1046528");
    assertThat(
            IngestConfig.of(
                    Map.of(
                        "record.max.bytes",
                        String.valueOf(1 << 20),
                        "kafka.producer.max.request.size",
                        String.valueOf(2 << 20)))
                .getInt(IngestConfig.RECORD_MAX_BYTES))
        .isEqualTo(1 << 20);
    assertThat(
            IngestConfig.of(Map.of()).getInt(IngestConfig.RECORD_MAX_BYTES)
                + IngestConfig.KAFKA_RECORD_OVERHEAD)
        .isLessThanOrEqualTo(1 << 20);
  }
}
