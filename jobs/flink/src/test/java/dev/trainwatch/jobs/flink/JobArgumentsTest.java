package dev.trainwatch.jobs.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobArgumentsTest {

  @Test
  void readsTheConfigFileAndOverridesInOrder() {
    JobArguments a =
        JobArguments.parse(
            "--config", "job.properties", "kafka.bootstrap.servers=k1:9092,k2:9092", "a=b=c");
    assertThat(a.config).isEqualTo(Path.of("job.properties"));
    assertThat(a.overrides)
        .containsExactly(
            Map.entry("kafka.bootstrap.servers", "k1:9092,k2:9092"), Map.entry("a", "b=c"));
  }

  @Test
  void overridesAloneAreEnough() {
    JobArguments a = JobArguments.parse("job.parallelism=4");
    assertThat(a.config).isNull();
    assertThat(a.overrides).containsExactly(Map.entry("job.parallelism", "4"));
  }

  @Test
  void aBadArgumentIsNamedWithTheUsageAndNeverExits() {
    assertThatThrownBy(() -> JobArguments.parse("--confg", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--confg")
        .hasMessageContaining("Usage: TrainwatchJob [--config=FILE] [KEY=VALUE...]");
    assertThatThrownBy(() -> JobArguments.parse("--config"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Missing required parameter for option '--config'");
  }
}
