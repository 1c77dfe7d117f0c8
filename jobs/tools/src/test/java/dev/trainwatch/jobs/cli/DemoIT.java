package dev.trainwatch.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trainwatch demo} as a user runs it, from the shipped CLI jar: the recorded PyTorch runs go
 * through the sidecar's HTTP intake into the embedded Kafka, the detection job and the alerts
 * service. Faster than the default pace (300 records/s instead of 120: 15 s of telemetry), same
 * path. Not much faster: a notification goes out one group_wait (1 s) after an alert fires, and at
 * 1,000 records/s most alerts are resolved by the end of their run within that second, so, as in
 * Alertmanager, nothing is sent for them.
 */
class DemoIT {

  private static final Pattern ALERT =
      Pattern.compile(
          "^ALERT (firing|resolved)\\s+(warning|critical)\\s+(\\S+)\\s+step\\s+(\\d+)\\s+([a-z_]+)/([a-z_]+)(?: \\[(\\S+)])?:");
  private static final Pattern DONE =
      Pattern.compile(
          "^done: (\\d+) records posted to the sidecar in (\\d+) requests \\((\\d+) accepted, (\\d+) rejected\\), (\\d+) produced to Kafka");

  @TempDir Path dir;

  record Alert(
      String status,
      String severity,
      String run,
      long step,
      String family,
      String detector,
      String task) {}

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void recordedRunsThroughTheSidecarRaiseTheirFamiliesAndTheHealthyRunsStayQuiet()
      throws Exception {
    Path notifications = dir.resolve("notifications.jsonl");
    Path out = dir.resolve("demo.out");
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "-jar",
            CliBadSettingsIT.JAR.toString(),
            "demo",
            "--rate",
            "300",
            "--notifications",
            notifications.toString());
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().remove("TRAINWATCH_INFLUX_URL"); // storage is not the point here
    Process p = pb.start();
    if (!p.waitFor(4, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "trainwatch demo did not finish within 4 minutes:\n" + Files.readString(out));
    }
    String output = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(output).isZero();

    List<Alert> alerts = new ArrayList<>();
    Matcher done = null;
    for (String line : output.split("\n")) {
      Matcher a = ALERT.matcher(line);
      if (a.find()) {
        alerts.add(
            new Alert(
                a.group(1),
                a.group(2),
                a.group(3),
                Long.parseLong(a.group(4)),
                a.group(5),
                a.group(6),
                a.group(7)));
      }
      Matcher d = DONE.matcher(line);
      if (d.find()) {
        done = d;
      }
    }
    assertThat(done).as(output).isNotNull();
    // every recorded step went through the sidecar into Kafka: 2 x 1000 + 4 x 600
    assertThat(Long.parseLong(done.group(1))).isEqualTo(4400);
    assertThat(Long.parseLong(done.group(3))).isEqualTo(4400);
    assertThat(Long.parseLong(done.group(4))).isZero();
    assertThat(Long.parseLong(done.group(5))).isEqualTo(4400);
    // at 300 records/s the runs post every 0.5 s, one request per run: far fewer requests than
    // records
    assertThat(Long.parseLong(done.group(2))).isBetween(6L, 250L);

    Map<String, Set<String>> families = new HashMap<>();
    alerts.stream()
        .filter(a -> a.status().equals("firing"))
        .forEach(
            a ->
                families
                    .computeIfAbsent(a.run(), r -> new HashSet<>())
                    .add(a.family() + "/" + a.severity()));
    assertThat(families.get("sc-mlp-p23-s1")).as(output).contains("softmax_collapse/critical");
    assertThat(families.get("lr-mlp-lr2e-1-s1"))
        .as(output)
        .contains("instability/critical")
        .allMatch(f -> f.startsWith("instability/"));
    assertThat(families.get("attn-maj-lr3e-1-s1"))
        .as(output)
        .contains("instability/critical")
        .allMatch(f -> f.startsWith("instability/"));
    assertThat(families.get("cl-gauss-ci-replay-s1")).as(output).contains("stability_gap/critical");
    assertThat(families).as(output).doesNotContainKeys("mlp-p23-wd1-s1", "lr-mlp-lr3e-3-s1");

    // the collapse is caught before the labelled onset (step 573: absorbed_frac >= 0.5)
    assertThat(alerts)
        .as(output)
        .anyMatch(
            a ->
                a.run().equals("sc-mlp-p23-s1")
                    && a.family().equals("softmax_collapse")
                    && a.status().equals("firing")
                    && a.step() <= 573);
    // each task switch (150, 300, 450) opens a gap alert naming an earlier task
    for (long s : new long[] {150, 300, 450}) {
      assertThat(alerts)
          .as(output)
          .anyMatch(
              a ->
                  a.run().equals("cl-gauss-ci-replay-s1")
                      && a.status().equals("firing")
                      && a.family().equals("stability_gap")
                      && a.task() != null
                      && a.step() >= s
                      && a.step() < s + 50);
    }

    // the alerts service delivered them (webhook v4 payloads, one group per run and family): the
    // collapse, firing from step 578 to the run's end at 999 (8 s at this pace), and never a
    // healthy
    // run. The others may go unsent: an alert whose firing and resolution reach the alerts service
    // within one group_wait (1 s; exactly-once alerts arrive once a second, at checkpoints) is
    // never
    // notified, as in Alertmanager, and on a starved machine the player posts in bursts (the gap
    // alerts last 24-50 steps, 0.5-1 s here; on 2 cores shared with 5 builds the divergences too).
    Set<String> notified = new HashSet<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(notifications, StandardCharsets.UTF_8)) {
      JsonNode n = json.readTree(line);
      if (n.get("status").asText().equals("firing")) {
        notified.add(
            n.at("/groupLabels/run").asText() + " " + n.at("/groupLabels/family").asText());
      }
    }
    assertThat(notified)
        .as(output)
        .contains("sc-mlp-p23-s1 softmax_collapse")
        .isSubsetOf(
            "sc-mlp-p23-s1 softmax_collapse",
            "lr-mlp-lr2e-1-s1 instability",
            "attn-maj-lr3e-1-s1 instability",
            "cl-gauss-ci-replay-s1 stability_gap");
    assertThat(output).contains("trainwatch alert ");
  }
}
