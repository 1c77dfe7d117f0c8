package dev.trainwatch.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pip install ./ingest/python} into a fresh venv, as a user would, then the installed
 * package (not the source tree) logs records from a script in another directory.
 */
@Timeout(300)
class PythonPackageIT {

  private static final Path PYTHON_DIR =
      Path.of(System.getProperty("trainwatch.ingest.python", "python"));
  @TempDir Path tmp;

  @Test
  void pipInstallsTheClientIntoAFreshVenvWithNoDependency() throws Exception {
    Path venv = tmp.resolve("venv");
    run(tmp, "python3", "-m", "venv", venv.toString());
    String python = venv.resolve("bin/python").toString();
    run(tmp, python, "-m", "pip", "install", "-q", PYTHON_DIR.toAbsolutePath().toString());

    String show = run(tmp, python, "-m", "pip", "show", "trainwatch");
    assertThat(show)
        .contains("Name: trainwatch")
        .contains("Version: 0.")
        .containsPattern("(?m)^Requires: *$");
    String script =
        String.join(
            "\n",
            "import json, trainwatch",
            "from trainwatch import Monitor",
            "assert trainwatch.__file__.startswith("
                + pyString(venv.toString())
                + "), trainwatch.__file__",
            "with Monitor('pkg-run', path='t.jsonl', tags={'dtype': 'float32'}) as mon:",
            "    mon.event(0, 'run_start')",
            "    for step in range(1, 6): mon.log(step, loss=1.0 / step)",
            "recs = [json.loads(l) for l in open('t.jsonl')]",
            "assert [r['step'] for r in recs] == [0, 1, 2, 3, 4, 5], recs",
            "print('installed', trainwatch.__version__, mon.stats())");
    String out = run(tmp, python, "-c", script);
    assertThat(out).contains("installed 0.").contains("'sent': 6").contains("'dropped': 0");
  }

  private static String pyString(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private static String run(Path dir, String... cmd) throws Exception {
    Path log = Files.createTempFile(dir, "cmd-", ".log");
    Process p =
        new ProcessBuilder(List.of(cmd))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(240, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", cmd) + " timed out:\n" + Files.readString(log));
    }
    String out = Files.readString(log);
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ":\n" + out).isZero();
    return out;
  }
}
