package dev.trainwatch.jobs.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "replay", mixinStandardHelpOptions = true, description = "not yet available")
final class ReplayCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("replay: not yet available");
    return 2;
  }
}
