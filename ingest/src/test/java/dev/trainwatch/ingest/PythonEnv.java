package dev.trainwatch.ingest;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;

/**
 * The Python interpreters the tests run the client under. {@code TRAINWATCH_PYTHON} is the
 * project's test venv (torch 2.x, Lightning, transformers) that {@code bin/pyenv} builds and {@code
 * bin/test} exports; without it the framework tests are skipped, except under CI ({@code CI=true}),
 * where a missing venv fails them instead of passing them silently.
 */
final class PythonEnv {

  private PythonEnv() {}

  /** The test venv's interpreter; skips the calling test when absent, fails it under CI. */
  static String venvPython() {
    String python = System.getenv("TRAINWATCH_PYTHON");
    boolean present = python != null && !python.isBlank() && new File(python).canExecute();
    if (!present && "true".equals(System.getenv("CI"))) {
      throw new AssertionError(
          "TRAINWATCH_PYTHON is not set to an interpreter (got "
              + python
              + "): run the tests through bin/test, which builds the venv with bin/pyenv");
    }
    Assumptions.assumeTrue(
        present,
        "TRAINWATCH_PYTHON not set: run bin/pyenv and export "
            + "TRAINWATCH_PYTHON=$(bin/pyenv)/bin/python to run the torch/Lightning/transformers tests");
    return python;
  }

  /**
   * python3 on PATH and Debian's /usr/bin/python3 (which sees python3-torch where installed) when
   * different: the client with the standard library only. The test venv runs the suite in {@link
   * PythonFrameworksTest}.
   */
  static List<String> interpreters() {
    Set<String> out = new LinkedHashSet<>();
    out.add("python3");
    if (new File("/usr/bin/python3").canExecute()) {
      out.add("/usr/bin/python3");
    }
    return new ArrayList<>(out);
  }
}
