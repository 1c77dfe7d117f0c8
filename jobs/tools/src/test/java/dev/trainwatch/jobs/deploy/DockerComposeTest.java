package dev.trainwatch.jobs.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainwatch.jobs.flink.JobConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * No Docker engine runs here, so the compose file is checked as an artefact: Debian's
 * docker-compose 1.29 parses and validates it ({@code config -q}, which needs no engine), and every
 * file or directory it mounts from the repository exists.
 */
class DockerComposeTest {

  static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  static final Path COMPOSE = ROOT.resolve("docker-compose.yml");

  @Test
  void composeFileIsValidForDockerCompose129() throws Exception {
    boolean installed = Files.isExecutable(Path.of("/usr/bin/docker-compose"));
    if (System.getenv("CI") == null) {
      Assumptions.assumeTrue(
          installed, "docker-compose not installed (bin/test installs it as root)");
    }
    assertThat(installed)
        .as("docker-compose must be installed in CI (bin/test installs it)")
        .isTrue();
    ProcessBuilder pb =
        new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
            .redirectErrorStream(true);
    pb.environment().put("GRAFANA_ADMIN_PASSWORD", "test-password");
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(output).isZero();
    // without a Grafana password it refuses to start, naming the variable
    ProcessBuilder none =
        new ProcessBuilder("docker-compose", "-f", COMPOSE.toString(), "config", "-q")
            .redirectErrorStream(true);
    none.environment().remove("GRAFANA_ADMIN_PASSWORD");
    Process q = none.start();
    assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String refused = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(q.exitValue()).isNotZero();
    assertThat(refused).contains("GRAFANA_ADMIN_PASSWORD");
  }

  /**
   * Issue 14 row 9: only Grafana and the sidecar (on loopback) are published; Kafka is replicated.
   */
  @Test
  void publishesOnlyGrafanaAndTheLoopbackSidecarAndReplicatesKafka() throws Exception {
    String yaml = Files.readString(COMPOSE);
    Matcher ports = Pattern.compile("\n    ports:\n((?:      - .*\n)+)").matcher(yaml);
    List<String> published = new ArrayList<>();
    while (ports.find()) {
      published.add(ports.group(1).trim());
    }
    assertThat(published).containsExactlyInAnyOrder("- \"3000:3000\"", "- \"127.0.0.1:8765:8765\"");
    assertThat(yaml).doesNotContain(":-admin}");
    assertThat(yaml)
        .contains(
            "KAFKA_DEFAULT_REPLICATION_FACTOR: \"3\"",
            "KAFKA_MIN_INSYNC_REPLICAS: \"2\"",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: \"2\"",
            "KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: \"false\"",
            "checkpoint.dir=file:///flink-checkpoints");
  }

  /**
   * The job arguments of the submit-job service are a valid job configuration that stores to the
   * compose InfluxDB.
   */
  @Test
  void submittedJobConfigurationIsValidAndStoresToInflux() throws Exception {
    String yaml = Files.readString(COMPOSE);
    Matcher m =
        Pattern.compile("(?s)  submit-job:.*?command: >\\n(.*?)\\n    volumes:").matcher(yaml);
    assertThat(m.find()).as("submit-job command").isTrue();
    String[] words = m.group(1).trim().split("\\s+");
    Map<String, String> args = new LinkedHashMap<>();
    boolean afterJar = false;
    for (String w : words) {
      if (afterJar) {
        assertThat(w).as("job argument").contains("=");
        args.put(w.substring(0, w.indexOf('=')), w.substring(w.indexOf('=') + 1));
      }
      afterJar |= w.endsWith("trainwatch-jobs-flink.jar");
    }
    JobConfig c = JobConfig.of(args); // throws on a bad key
    assertThat(c.influx(Map.of()).orElseThrow().url()).isEqualTo("http://influxdb:8086");
    assertThat(c.checkpointUri()).isEqualTo("file:///flink-checkpoints");
    assertThat(yaml).contains("- flink-checkpoints:/flink-checkpoints");
  }

  @Test
  void everyRepositoryPathItMountsExists() throws Exception {
    String yaml = Files.readString(COMPOSE);
    Matcher m = Pattern.compile("- \\./([\\w./-]+):").matcher(yaml);
    int mounts = 0;
    while (m.find()) {
      String rel = m.group(1);
      if (rel.contains("target")) {
        continue; // build output: exists after `mvn package`
      }
      assertThat(ROOT.resolve(rel)).as("mounted path ./" + rel).exists();
      mounts++;
    }
    assertThat(mounts).isGreaterThanOrEqualTo(2);
    assertThat(yaml).doesNotContain("\nname:").doesNotContain("required:");
  }
}
