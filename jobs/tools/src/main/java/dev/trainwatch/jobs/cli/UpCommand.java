package dev.trainwatch.jobs.cli;

import dev.trainwatch.alerts.AlertsService;
import dev.trainwatch.alerts.config.AlertsConfig;
import dev.trainwatch.alerts.config.ConfigLoader;
import dev.trainwatch.embedded.EmbeddedInflux;
import dev.trainwatch.embedded.PersistentKafka;
import dev.trainwatch.ingest.Ingest;
import dev.trainwatch.ingest.config.IngestConfig;
import dev.trainwatch.jobs.detect.ConfigException;
import dev.trainwatch.jobs.flink.JobConfig;
import dev.trainwatch.jobs.flink.TrainwatchJob;
import dev.trainwatch.jobs.storage.InfluxSinkConfig;
import java.io.PrintStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code trainwatch up}: the whole stack on this machine, for the user's own training jobs, until
 * stopped. A KRaft broker with its log in the data directory, the detection job on a local Flink
 * runtime (checkpoints in the data directory, resumed on restart), the sidecar's HTTP intake, the
 * alerts service (journal in the data directory; every notification printed and appended to {@code
 * notifications.jsonl}) and InfluxDB storage. Everything listens on 127.0.0.1. SIGINT/SIGTERM: the
 * intake flushes, the job stops with a savepoint, exit 0.
 */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description =
        "Run the whole stack on this machine (Kafka, the detection job, the sidecar's HTTP intake, "
            + "alerts, storage) for your own training jobs, until Ctrl-C.")
final class UpCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description =
          "where the broker log, checkpoints, alert journal, spool, "
              + "InfluxDB data and notifications.jsonl live (default: $TRAINWATCH_HOME, else ~/.trainwatch/up)")
  Path dataDir;

  @Option(
      names = "--http-port",
      defaultValue = "8787",
      description = "intake port on 127.0.0.1 (0 picks a free one; default ${DEFAULT-VALUE})")
  int httpPort;

  @Option(
      names = "--alerts-config",
      description =
          "an alerts service config (alerts/alerts.example.yaml) whose "
              + "receivers get every alert too (webhook, Slack, Alertmanager)")
  Path alertsConfig;

  @Option(
      names = "--influx",
      defaultValue = "auto",
      description =
          "storage: auto (TRAINWATCH_INFLUX_URL, else a "
              + "local influxd with its data in the data dir when installed), none, or an InfluxDB 1.x URL")
  String influx;

  @Option(
      names = "--status-interval",
      defaultValue = "10",
      description = "seconds between status lines (default ${DEFAULT-VALUE})")
  int statusSeconds;

  @Option(
      names = "--set",
      description = "job or detector setting key=value (see jobs/config/job.example.properties)")
  Map<String, String> overrides = new HashMap<>();

  /** Alerts become visible at each checkpoint (exactly-once), so this bounds alert latency. */
  static final String CHECKPOINT_MS = "2000";

  @Override
  public Integer call() throws Exception {
    Path dir = (dataDir != null ? dataDir : defaultDataDir()).toAbsolutePath().normalize();
    Checks.atLeast("--http-port", httpPort, 0);
    if (httpPort > 65535) {
      throw new ConfigException(
          "option '--http-port': expected a port from 0 to 65535, got " + httpPort);
    }
    Checks.atLeast("--status-interval", statusSeconds, 1);
    if (!influx.equals("auto")
        && !influx.equals("none")
        && !influx.startsWith("http://")
        && !influx.startsWith("https://")) {
      throw new ConfigException(
          "option '--influx': expected auto, none or an http(s):// URL, got '" + influx + "'");
    }
    AlertsConfig userAlerts = null;
    if (alertsConfig != null) {
      try {
        userAlerts = ConfigLoader.load(alertsConfig, System.getenv());
      } catch (dev.trainwatch.alerts.config.ConfigException e) {
        throw new ConfigException("--alerts-config " + alertsConfig + ": " + e.getMessage(), e);
      }
    }
    Map<String, String> job = new LinkedHashMap<>();
    job.put("kafka.bootstrap.servers", "127.0.0.1:0"); // replaced once the broker is up
    job.put("job.name", "trainwatch-up");
    job.put("checkpoint.interval.ms", CHECKPOINT_MS);
    job.put("checkpoint.dir", dir.resolve("checkpoints").toString());
    job.put("source.starting-offsets", "committed");
    job.put("topics.telemetry.partitions", "2");
    job.putAll(overrides);
    JobConfig.of(job); // every job and detector key checked before anything starts

    Files.createDirectories(dir);
    try (FileChannel lockFile =
            FileChannel.open(
                dir.resolve("up.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockFile.tryLock()) {
      if (lock == null) {
        System.err.println("trainwatch up: another trainwatch up is using " + dir);
        return 1;
      }
      return run(dir, job, userAlerts);
    }
  }

  static Path defaultDataDir() {
    String home = System.getenv("TRAINWATCH_HOME");
    return home != null && !home.isBlank()
        ? Path.of(home)
        : Path.of(System.getProperty("user.home"), ".trainwatch", "up");
  }

  private int run(Path dir, Map<String, String> jobSettings, AlertsConfig userAlerts)
      throws Exception {
    PrintStream out = System.out;
    long t0 = System.nanoTime();
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    out.println("trainwatch up: data in " + dir);

    try (PersistentKafka kafka = PersistentKafka.start(dir.resolve("kafka"))) {
      EmbeddedInflux localInflux = null;
      Map<String, String> env = new HashMap<>(System.getenv());
      if (influx.equals("none")) {
        env.remove("TRAINWATCH_INFLUX_URL");
      } else if (!influx.equals("auto")) {
        jobSettings.put("influx.url", influx);
        env.remove("TRAINWATCH_INFLUX_URL");
      } else if (!env.containsKey("TRAINWATCH_INFLUX_URL") && EmbeddedInflux.isAvailable()) {
        localInflux = EmbeddedInflux.start(dir.resolve("influx"));
        jobSettings.put("influx.url", localInflux.url());
      }
      try {
        jobSettings.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        JobConfig job = JobConfig.of(jobSettings);
        JobClient flinkJob = startJob(dir, job, env);

        Path notifications = dir.resolve("notifications.jsonl");
        NotificationTail tail = new NotificationTail(notifications, out);
        AlertsService notifier =
            AlertsService.start(
                localAlerts(kafka.bootstrapServers(), dir, notifications, job.topics().alerts()),
                kafka.bootstrapServers());
        AlertsService forwarder =
            userAlerts == null
                ? null
                : AlertsService.start(
                    userAlerts
                        .withBootstrapServers(kafka.bootstrapServers())
                        .withStateDir(dir.resolve("alerts-receivers")),
                    kafka.bootstrapServers());
        Ingest intake =
            Ingest.start(
                IngestConfig.of(
                    Map.of(
                        IngestConfig.HTTP_BIND.name(), "127.0.0.1",
                        IngestConfig.HTTP_PORT.name(), String.valueOf(httpPort),
                        IngestConfig.BOOTSTRAP_SERVERS.name(), kafka.bootstrapServers(),
                        IngestConfig.TOPIC.name(), job.topics().telemetry(),
                        IngestConfig.SPOOL_DIR.name(), dir.resolve("spool").toString(),
                        // answer only once records are in Kafka (or the spool): an acknowledged
                        // record survives a crash
                        IngestConfig.HTTP_ACK_DURABLE_MS.name(), "4000")),
                null);
        StackStatus status =
            new StackStatus(
                kafka.bootstrapServers(),
                job.topics().telemetry(),
                job.topics().alerts(),
                () -> intake.metrics().accepted.getLongValue());
        Thread tailThread = daemon(tail, "notifications");
        Thread statusThread = daemon(status, "status");

        Optional<InfluxSinkConfig> storage = job.influx(env);
        out.printf(
            Locale.ROOT,
            "trainwatch up: ready in %.1f s: intake %s/v1/records | alerts API "
                + "http://127.0.0.1:%d/api/v2/alerts | InfluxDB %s | Grafana: point it at that InfluxDB with grafana/provisioning"
                + " | notifications %s%n",
            (System.nanoTime() - t0) / 1e9,
            intake.httpUrl(),
            notifier.httpPort(),
            storage.map(InfluxSinkConfig::url).orElse("none"),
            notifications);
        out.println(
            "trainwatch up: post telemetry from your training script, e.g. "
                + "Monitor(\"my-run\", url=\""
                + intake.httpUrl()
                + "\"); Ctrl-C stops");
        out.flush();

        while (!stop.await(statusSeconds, TimeUnit.SECONDS)) {
          out.println(status.line());
          out.flush();
        }

        out.println("trainwatch up: stopping (flushing the intake, final checkpoint)...");
        long s0 = System.nanoTime();
        intake.close();
        try {
          String savepoint =
              flinkJob
                  .stopWithSavepoint(
                      false,
                      dir.resolve("savepoints").toUri().toString(),
                      SavepointFormatType.CANONICAL)
                  .get(20, TimeUnit.SECONDS);
          ResumePoint.pruneSavepoints(dir, Path.of(URI.create(savepoint)));
          out.println("trainwatch up: job state saved in " + savepoint);
        } catch (TimeoutException | ExecutionException e) {
          out.println(
              "trainwatch up: no savepoint ("
                  + e.getMessage()
                  + "); the next start resumes from the last checkpoint");
          flinkJob.cancel().get(5, TimeUnit.SECONDS);
        }
        // let the alerts service deliver what the final checkpoint committed (group_wait 1 s)
        Thread.sleep(1500);
        tail.poll(new StringBuilder());
        tail.stop();
        status.stop();
        if (forwarder != null) {
          forwarder.close();
        }
        notifier.close();
        tailThread.join(2000);
        statusThread.join(2000);
        out.printf(
            Locale.ROOT, "trainwatch up: stopped in %.1f s%n", (System.nanoTime() - s0) / 1e9);
      } finally {
        if (localInflux != null) {
          localInflux.close();
        }
      }
    }
    return 0;
  }

  private static JobClient startJob(Path dir, JobConfig job, Map<String, String> envVars)
      throws Exception {
    Configuration c = TrainwatchJob.loopback();
    c.addAll(TrainwatchJob.checkpointStorage(job));
    Map<String, String> flink = new HashMap<>();
    // a crash leaves the last checkpoint behind for the next start
    flink.put(
        "execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION");
    Optional<Path> resume = ResumePoint.newest(dir);
    resume.ifPresent(p -> flink.put("execution.state-recovery.path", p.toUri().toString()));
    c.addAll(Configuration.fromMap(flink));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment((int) job.getLong("job.parallelism"), c);
    TrainwatchJob.assemble(env, job, envVars);
    System.out.println(
        "trainwatch up: detection job "
            + (resume.isPresent() ? "resumed from " + resume.get() : "started"));
    return env.executeAsync(job.get("job.name"));
  }

  private static AlertsConfig localAlerts(
      String bootstrap, Path dir, Path notifications, String topic) {
    return ConfigLoader.parse(
        """
        kafka: {bootstrap_servers: '%s', topic: '%s', group_id: trainwatch-up-notifications}
        http: {port: 0}
        state: {dir: '%s'}
        route:
          receiver: file
          group_by: [run, family, detector]
          group_wait: 1s
          group_interval: 10s
          repeat_interval: 4h
        receivers:
          - {name: file, type: file, path: '%s'}
        """
            .formatted(bootstrap, topic, dir.resolve("alerts"), notifications),
        Map.of());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, "trainwatch-up-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
