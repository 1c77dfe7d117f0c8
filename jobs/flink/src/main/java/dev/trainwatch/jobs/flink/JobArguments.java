package dev.trainwatch.jobs.flink;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * The command line of {@link TrainwatchJob#main} ({@code flink run ... trainwatch-jobs-flink.jar
 * --config job.properties key=value ...}), parsed by picocli. It only parses: it never calls {@code
 * System.exit}, because under {@code flink run} main runs inside the Flink client's JVM; a bad
 * argument is an {@link IllegalArgumentException} with the usage, which the client prints.
 */
@Command(
    name = "TrainwatchJob",
    description = "The trainwatch detection job (submitted with flink run).",
    sortOptions = false)
final class JobArguments {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "job properties file (jobs/config/job.example.properties)")
  Path config;

  @Parameters(
      paramLabel = "KEY=VALUE",
      description = "overrides on top of the file and TRAINWATCH_* environment variables")
  Map<String, String> overrides = new LinkedHashMap<>();

  /** Parses {@code args}, or fails naming the bad argument and showing the usage. */
  static JobArguments parse(String... args) {
    JobArguments a = new JobArguments();
    CommandLine cl = new CommandLine(a);
    try {
      cl.parseArgs(args);
    } catch (ParameterException e) {
      throw new IllegalArgumentException(e.getMessage() + "\n" + cl.getUsageMessage(), e);
    }
    return a;
  }
}
