package dev.trainwatch.ingest.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
    "http.port, 70000, 'http.port: expected an integer in [-1, 65535], got ''70000''. Fix: set http.port to an integer in [-1, 65535] ('",
    "http.threads, 0, 'http.threads: expected an integer in [1, 1024], got ''0''.'",
    "http.ack.durable.ms, -5, 'http.ack.durable.ms: expected an integer >= 0, got ''-5''.'",
    "queue.max.bytes, 0, 'queue.max.bytes: expected an integer >= 1, got ''0''.'",
    "stdin, yes, 'stdin: expected true or false, got ''yes''.'"
  })
  void aValueOutsideItsDeclaredRangeFailsAtStartUpNamingTheKey(
      String key, String value, String message) {
    // before: http.threads=0 passed the config and failed inside HttpIntake with a stack trace
    assertThatThrownBy(() -> IngestConfig.of(Map.of(key, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(message);
    assertThatThrownBy(
            () ->
                IngestConfig.load(
                    null,
                    Map.of(IngestConfig.ENV_PREFIX + key.toUpperCase().replace('.', '_'), value),
                    Map.of()))
        .hasMessageStartingWith(message);
  }

  @Test
  void everyDefaultIsWithinItsRange() {
    IngestConfig c = IngestConfig.of(Map.of());
    for (Key k : IngestConfig.KEYS) {
      if (k.defaultValue() != null) {
        assertThat(k.parse(k.defaultValue())).as(k.name()).isNotNull();
      }
    }
    assertThat(c.getInt(IngestConfig.HTTP_PORT)).isEqualTo(8787);
    assertThat(c.getLong(IngestConfig.SPOOL_MAX_BYTES)).isEqualTo(4L << 30);
  }

  @Test
  void anUnknownKeyFromTheFileOrTheEnvironmentIsNamed() throws Exception {
    Path f = dir.resolve("ingest.properties");
    Files.writeString(f, "htp.port=9000\n");
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
