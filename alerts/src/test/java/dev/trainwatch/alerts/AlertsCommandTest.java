package dev.trainwatch.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AlertsCommandTest {

  @TempDir Path dir;
  private final StringWriter err = new StringWriter();
  private final StringWriter out = new StringWriter();

  private int run(String... args) {
    CommandLine cli = new CommandLine(new AlertsCommand(Map.of()));
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    return cli.execute(args);
  }

  @Test
  void unknownFlagExitsTwoNamingTheFlag() {
    assertThat(run("--config", "x.yaml", "--confg", "y")).isEqualTo(2);
    assertThat(err.toString()).contains("--confg");
  }

  @Test
  void missingConfigExitsTwoNamingTheOption() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("--config");
  }

  @Test
  void invalidConfigurationExitsTwoNamingTheKey() throws Exception {
    Path yaml = dir.resolve("alerts.yaml");
    Files.writeString(
        yaml, "route: {receiver: a, group_wait: soon}\nreceivers: [{name: a, type: stdout}]\n");
    assertThat(run("--config", yaml.toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("invalid configuration: route.group_wait: ");
  }

  @Test
  void unreadableFileExitsTwoNamingTheFlag() {
    assertThat(run("--config", dir.resolve("nope.yaml").toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("invalid configuration: --config: cannot read");
  }

  @Test
  void helpAndVersionExitZero() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).contains("--config", "TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS");
  }
}
