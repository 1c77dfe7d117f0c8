package dev.trainwatch.jobs.cli;

import dev.trainwatch.jobs.detect.ConfigException;

/** Range checks of command options, failing as a bad setting does (exit 2, the option named). */
final class Checks {

  private Checks() {}

  static void positive(String option, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new ConfigException("option '" + option + "': expected a value > 0, got " + value);
    }
  }

  static void atLeast(String option, long value, long min) {
    if (value < min) {
      throw new ConfigException(
          "option '" + option + "': expected a value >= " + min + ", got " + value);
    }
  }
}
