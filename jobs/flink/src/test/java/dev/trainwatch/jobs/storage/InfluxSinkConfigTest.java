package dev.trainwatch.jobs.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InfluxSinkConfigTest {

  @Test
  void storageIsOffWithoutAUrl() {
    assertThat(InfluxSinkConfig.load(Map.of(), Map.of())).isEmpty();
  }

  @Test
  void environmentOverridesSettingsAndCredentialsComeOnlyFromIt() {
    InfluxSinkConfig c =
        InfluxSinkConfig.load(
                Map.of("influx.url", "http://a:8086", "influx.batch-size", "100"),
                Map.of(
                    "TRAINWATCH_INFLUX_URL",
                    "http://b:8086",
                    "TRAINWATCH_INFLUX_USERNAME",
                    "tw",
                    "TRAINWATCH_INFLUX_PASSWORD",
                    "s3cret"))
            .orElseThrow();
    assertThat(c.url()).isEqualTo("http://b:8086");
    assertThat(c.batchSize()).isEqualTo(100);
    assertThat(c.username()).isEqualTo("tw");
    assertThat(c.password()).isEqualTo("s3cret");
    assertThat(c.toString()).doesNotContain("s3cret");
  }

  @Test
  void unknownInfluxKeyFailsNamingTheKnownKeys() {
    assertThatThrownBy(() -> InfluxSinkConfig.load(Map.of("influx.batchsize", "1"), Map.of()))
        .hasMessageContaining("influx.batchsize")
        .hasMessageContaining("influx.batch-size");
  }

  @Test
  void invalidValuesFailNamingTheKey() {
    assertThatThrownBy(
            () -> InfluxSinkConfig.load(Map.of("influx.url", "localhost:8086"), Map.of()))
        .hasMessageContaining("influx.url");
    assertThatThrownBy(
            () ->
                InfluxSinkConfig.load(
                    Map.of("influx.url", "http://a", "influx.batch-size", "0"), Map.of()))
        .hasMessageContaining("influx.batch-size");
  }
}
