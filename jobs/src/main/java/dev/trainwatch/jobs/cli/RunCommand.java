package dev.trainwatch.jobs.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "run", mixinStandardHelpOptions = true, description = "not yet available")
final class RunCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("run: not yet available");
    return 2;
  }
}
