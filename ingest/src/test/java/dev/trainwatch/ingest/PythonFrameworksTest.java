package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python suite under the project's test venv ({@code bin/pyenv}: torch 2.x, Lightning,
 * transformers): real training of tiny models under each framework, every captured metric against a
 * direct computation, the policies against a stand-in sidecar. With {@code
 * TRAINWATCH_REQUIRE_FRAMEWORKS=1} a missing framework fails instead of skipping.
 */
class PythonFrameworksTest {

  @TempDir Path tmp;

  @Test
  @Timeout(900)
  void pythonSuitePassesUnderTorchLightningAndTransformers() throws Exception {
    String python = PythonEnv.venvPython();
    Path tests = Path.of(System.getProperty("trainwatch.ingest.python", "python")).resolve("tests");
    Path log = tmp.resolve("unittest.log");
    ProcessBuilder pb =
        new ProcessBuilder(python, "-m", "unittest", "discover", "-s", tests.toString(), "-v")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().remove("TRAINWATCH_SIDECAR_URL");
    pb.environment().put("TRAINWATCH_REQUIRE_FRAMEWORKS", "1");
    // one thread per process: the machine's cores are shared, and tiny models gain nothing
    pb.environment().put("OMP_NUM_THREADS", "1");
    Process p = pb.start();
    if (!p.waitFor(800, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("python framework tests timed out\n" + Files.readString(log));
    }
    String out = Files.readString(log);
    System.out.println(out);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .contains("test_every_metric_equals_a_direct_computation (test_capture.")
        .contains("(test_lightning.")
        .contains("(test_huggingface.")
        .contains("(test_continual.")
        .doesNotContain("skipped 'not installed");
  }
}
