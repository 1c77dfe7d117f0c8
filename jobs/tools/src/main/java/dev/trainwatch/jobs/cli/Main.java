package dev.trainwatch.jobs.cli;

import dev.trainwatch.jobs.detect.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code trainwatch}: the command-line entry point (see README). */
@Command(
    name = "trainwatch",
    mixinStandardHelpOptions = true,
    version = "trainwatch 0.1.0",
    description = "Real-time monitor for neural-network training runs.",
    subcommands = {
      UpCommand.class,
      DemoCommand.class,
      ReplayCommand.class,
      EvaluateCommand.class,
      RunCommand.class,
      BenchCommand.class
    })
public final class Main implements Runnable {

  public static void main(String[] args) {
    // Kafka's test kit ships its own log4j2.yaml; ours must win so the CLI stays quiet.
    System.setProperty("log4j2.configurationFile", "classpath:trainwatch-log4j2.xml");
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line with its error handling: a bad option is picocli's usage error, a bad setting
   * ({@link ConfigException}, raised before any work starts) is one line naming the key; both exit
   * with code 2.
   */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          if (ex instanceof ConfigException) {
            cmd.getErr().println("trainwatch " + cmd.getCommandName() + ": " + ex.getMessage());
            return EXIT_BAD_CONFIG;
          }
          throw ex;
        });
    return cl;
  }

  /** Exit code of a bad option or setting (picocli's usage code). */
  static final int EXIT_BAD_CONFIG = CommandLine.ExitCode.USAGE;

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
