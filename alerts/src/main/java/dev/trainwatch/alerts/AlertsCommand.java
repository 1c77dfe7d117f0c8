package dev.trainwatch.alerts;

import dev.trainwatch.alerts.config.AlertsConfig;
import dev.trainwatch.alerts.config.ConfigException;
import dev.trainwatch.alerts.config.ConfigLoader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The service's command line. Exit codes: 2 for a bad flag (picocli's usage code) or an invalid
 * configuration (the message names the key, e.g. {@code route.group_wait: invalid duration}), 1
 * when the dispatch loop fails; SIGTERM closes the service (offsets committed) and exits 143.
 *
 * <pre>
 * java -jar trainwatch-alerts.jar --config alerts.yaml
 * </pre>
 */
@Command(
    name = "trainwatch-alerts",
    mixinStandardHelpOptions = true,
    description = {
      "Consumes the alerts topic and delivers notifications the way Alertmanager does.",
      "Environment overrides: TRAINWATCH_ALERTS_BOOTSTRAP_SERVERS, TRAINWATCH_ALERTS_STATE_DIR,"
          + " TRAINWATCH_ALERTS_HTTP_PORT."
    })
final class AlertsCommand implements Callable<Integer> {

  static final int INVALID = 2;
  private static final Logger LOG = LoggerFactory.getLogger(AlertsCommand.class);

  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "alerts.yaml (every key: alerts/alerts.example.yaml)")
  Path config;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Map<String, String> env;

  AlertsCommand(Map<String, String> env) {
    this.env = env;
  }

  static int execute(String... args) {
    return new CommandLine(new AlertsCommand(System.getenv())).execute(args);
  }

  /** Loads the file; an invalid one is reported on stderr, and null is returned. */
  AlertsConfig load(PrintWriter err) {
    try {
      return ConfigLoader.load(config, env);
    } catch (ConfigException e) {
      err.println("invalid configuration: " + e.getMessage());
      err.flush();
      return null;
    }
  }

  @Override
  public Integer call() throws Exception {
    AlertsConfig c = load(spec.commandLine().getErr());
    if (c == null) {
      return INVALID;
    }
    AlertsService s = AlertsService.builder(c).start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    s.close();
                  } catch (Exception e) {
                    LOG.warn("shutdown: {}", e.toString());
                  }
                },
                "alerts-shutdown"));
    s.awaitTermination();
    // on SIGTERM the JVM exits from the hook (System.exit blocks during shutdown), so reaching
    // here means the loop failed by itself (logged by DispatchLoop)
    return 1;
  }
}
