package dev.trainwatch.jobs.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerts back into a real training loop: a PyTorch script in the project's venv (trainwatch.watch
 * with policies) trains a small model through the real sidecar; NaN batches make the real detection
 * job raise {@code non_finite}; the alert comes back through {@code GET /v1/runs/{run}/alerts} and,
 * as configured, stops the run (StopOnCritical) or rolls back to a checkpoint and skips steps until
 * the detector resolves (Rollback + SkipStepWhileNonFinite).
 */
@Timeout(400)
class TrainerAlertsIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  private static TrainerStack stack;
  private static String python;

  @BeforeAll
  static void start() throws Exception {
    python = TrainerStack.venvPython();
    // exactly-once alerts (the default), visible at each checkpoint
    stack = new TrainerStack(dir, "exactly-once", 500);
  }

  @AfterAll
  static void stop() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  private JsonNode train(String run, String mode) throws Exception {
    Path out = dir.resolve(run + ".json");
    Path log = dir.resolve(run + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
                python,
                TrainerStack.pythonDir().resolve("tests/trainer_alerts.py").toString(),
                stack.url(),
                run,
                mode,
                out.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    Process p = pb.start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("training script timed out:\n" + Files.readString(log));
    }
    String text = Files.readString(log);
    System.out.println(text);
    assertThat(p.exitValue()).as(text).isZero();
    return JSON.readTree(out.toFile());
  }

  @Test
  void aCriticalAlertFromTheDetectionJobStopsThePlainLoop() throws Exception {
    JsonNode r = train("it-stop", "stop");
    assertThat(r.get("stopped_by").asText()).isEqualTo("non_finite");
    int poison = r.get("poison_step").asInt();
    assertThat(r.get("last_step").asInt())
        .isGreaterThan(poison)
        .isLessThan(r.get("max_steps").asInt());
    System.out.printf(
        "record-to-trainer latency (exactly-once, 500 ms checkpoints): %.0f ms%n",
        r.get("latency_ms").asDouble());
  }

  @Test
  void aNonFiniteAlertRollsBackAndSkipsStepsUntilTheDetectorResolvesIt() throws Exception {
    JsonNode r = train("it-skip", "skip");
    assertThat(r.get("rollbacks").asInt()).isEqualTo(1);
    assertThat(r.get("rolled_back_to").asInt()).isEqualTo(r.get("checkpoint_step").asInt());
    // skipped while the alert was active: the detector resolves after 50 finite records
    assertThat(r.get("skipped_steps").asInt()).isGreaterThanOrEqualTo(40);
    assertThat(r.get("updates_after_resume").asInt()).isGreaterThanOrEqualTo(20);
    assertThat(r.get("weights_finite").asBoolean()).isTrue();
    assertThat(r.get("final_loss").asDouble()).isFinite();
    List<String> events =
        JSON.convertValue(
            r.get("alerts"),
            JSON.getTypeFactory().constructCollectionType(List.class, String.class));
    assertThat(events).contains("non_finite:firing", "non_finite:resolved");
  }
}
