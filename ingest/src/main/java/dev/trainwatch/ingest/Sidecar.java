package dev.trainwatch.ingest;

import dev.trainwatch.ingest.config.ConfigException;
import dev.trainwatch.ingest.config.IngestConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The sidecar's command line. Options override the environment, which overrides the file.
 *
 * <pre>
 * java -jar trainwatch-ingest.jar --bootstrap-servers kafka:9092 --tail /runs/r1/telemetry.jsonl
 * </pre>
 */
@Command(
    name = "trainwatch-ingest",
    mixinStandardHelpOptions = true,
    description = "Runs beside a training job: HTTP, file tail and stdin into Kafka, keyed by run.")
public final class Sidecar implements Callable<Integer> {

  @Option(
      names = "--config",
      description = "properties file (keys as in IngestConfig, kafka.* passed through)")
  Path config;

  @Option(
      names = "--http-port",
      description = "HTTP port (0 = any free port, -1 = off; default 8787)")
  Integer httpPort;

  @Option(names = "--bind", description = "HTTP bind address (default 127.0.0.1)")
  String bind;

  @Option(names = "--tail", description = "JSON Lines file to follow")
  Path tail;

  @Option(names = "--stdin", description = "read JSON Lines from standard input")
  boolean stdin;

  @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers")
  String bootstrap;

  @Option(names = "--spool-dir", description = "disk spool directory used while Kafka is away")
  Path spoolDir;

  @Option(
      names = "--token",
      defaultValue = "${env:TRAINWATCH_INGEST_TOKEN}",
      description = "bearer token required by the HTTP input (default: $TRAINWATCH_INGEST_TOKEN)")
  String token;

  @Option(
      names = {"-D", "--set"},
      description = "any key=value, e.g. -D kafka.producer.acks=1")
  Map<String, String> settings = new LinkedHashMap<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new Sidecar()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> o = new LinkedHashMap<>(settings);
    put(o, IngestConfig.HTTP_PORT.name(), httpPort);
    put(o, IngestConfig.HTTP_BIND.name(), bind);
    put(o, IngestConfig.TAIL_FILE.name(), tail);
    put(o, IngestConfig.BOOTSTRAP_SERVERS.name(), bootstrap);
    put(o, IngestConfig.SPOOL_DIR.name(), spoolDir);
    put(o, IngestConfig.HTTP_TOKEN.name(), token);
    if (stdin) {
      o.put(IngestConfig.STDIN.name(), "true");
    }
    IngestConfig c;
    try {
      c = IngestConfig.load(config, System.getenv(), o);
    } catch (ConfigException e) {
      System.err.println("configuration error: " + e.getMessage());
      return 2;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Ingest ingest = Ingest.start(c, System.in);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  ingest.close();
                  stop.countDown();
                },
                "ingest-shutdown"));
    if (ingest.hasHttp()) {
      System.err.println("trainwatch-ingest listening on " + ingest.httpUrl());
    }
    if (!ingest.hasHttp() && !ingest.hasTail()) {
      ingest.awaitStdin(); // a pipe: finish when it ends
      ingest.close();
      return 0;
    }
    stop.await();
    return 0;
  }

  private static void put(Map<String, String> m, String key, Object value) {
    if (value != null) {
      m.put(key, value.toString());
    }
  }
}
