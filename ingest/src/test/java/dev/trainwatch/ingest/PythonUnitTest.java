package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client's own unit tests (fake sidecar, torch helpers where torch is installed), run by
 * every interpreter {@link PythonClientIT#interpreters()} finds. The tests against the real sidecar
 * and Kafka are in {@link PythonClientIT}.
 */
class PythonUnitTest {

  @TempDir Path tmp;

  @Test
  @Timeout(240)
  void pythonUnitTestsPass() throws Exception {
    Path tests = Path.of(System.getProperty("trainwatch.ingest.python", "python")).resolve("tests");
    for (String python : PythonClientIT.interpreters()) {
      Path log = tmp.resolve("unittest.log");
      ProcessBuilder pb =
          new ProcessBuilder(python, "-m", "unittest", "discover", "-s", tests.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      pb.environment().remove("TRAINWATCH_SIDECAR_URL");
      Process p = pb.start();
      if (!p.waitFor(100, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(python + ": python tests timed out\n" + Files.readString(log));
      }
      assertThat(p.exitValue()).as(python + ":\n" + Files.readString(log)).isZero();
    }
  }
}
