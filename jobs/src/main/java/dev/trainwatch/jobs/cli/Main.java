package dev.trainwatch.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code trainwatch}: the command-line entry point (see README). */
@Command(
    name = "trainwatch",
    mixinStandardHelpOptions = true,
    version = "trainwatch 0.1.0",
    description = "Real-time monitor for neural-network training runs.",
    subcommands = {DemoCommand.class, ReplayCommand.class, EvaluateCommand.class, RunCommand.class, BenchCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    // Kafka's test kit ships its own log4j2.yaml; ours must win so the CLI stays quiet.
    System.setProperty("log4j2.configurationFile", "classpath:trainwatch-log4j2.xml");
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
