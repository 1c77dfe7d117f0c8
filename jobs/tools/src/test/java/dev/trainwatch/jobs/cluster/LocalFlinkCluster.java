package dev.trainwatch.jobs.cluster;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A real multi-process Flink session cluster on loopback, started from the Maven jars on this JVM's
 * class path: one JobManager JVM ({@code StandaloneSessionClusterEntrypoint}) and N TaskManager
 * JVMs ({@code TaskManagerRunner}). Each can be killed like a crashed machine. The project's own
 * classes are kept off the cluster's class path, so jobs must ship them in the submitted jar, as on
 * a real cluster.
 */
final class LocalFlinkCluster implements AutoCloseable {

  private final Path confDir;
  private final Path logDir;
  private final int restPort;
  private final String classPath;
  private Process jobManager;
  private final List<Process> taskManagers = new ArrayList<>();

  LocalFlinkCluster(Path workDir, int slotsPerTaskManager) throws IOException {
    this.confDir = Files.createDirectories(workDir.resolve("conf"));
    this.logDir = Files.createDirectories(workDir.resolve("log"));
    this.restPort = freePort();
    int rpcPort = freePort();
    this.classPath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(
                e ->
                    !e.contains("trainwatch")
                        && !e.endsWith("test-classes")
                        && !e.endsWith("/classes"))
            // as on a real cluster: connectors and clients come with the job jar, not the cluster
            .filter(e -> !e.contains("kafka") && !e.contains("junit"))
            // nor storage: the job jar must carry influxdb-java and its HTTP stack
            .filter(
                e ->
                    !e.matches(
                        ".*/(influxdb-java|okhttp|retrofit|converter-moshi|moshi|okio|msgpack)[^/]*\\.jar"))
            .collect(Collectors.joining(File.pathSeparator));
    Path checkpoints = Files.createDirectories(workDir.resolve("checkpoints"));
    Files.writeString(
        confDir.resolve("config.yaml"),
        String.join(
                "\n",
                "jobmanager.rpc.address: 127.0.0.1",
                "jobmanager.rpc.port: " + rpcPort,
                "jobmanager.bind-host: 127.0.0.1",
                "rest.address: 127.0.0.1",
                "rest.bind-address: 127.0.0.1",
                "rest.port: " + restPort,
                "taskmanager.host: 127.0.0.1",
                "taskmanager.bind-host: 127.0.0.1",
                "taskmanager.numberOfTaskSlots: " + slotsPerTaskManager,
                "jobmanager.memory.process.size: 600m",
                "taskmanager.cpu.cores: 1",
                "taskmanager.memory.framework.heap.size: 64m",
                "taskmanager.memory.framework.off-heap.size: 64m",
                "taskmanager.memory.task.heap.size: 256m",
                "taskmanager.memory.task.off-heap.size: 0m",
                "taskmanager.memory.managed.size: 32m",
                "taskmanager.memory.network.min: 32m",
                "taskmanager.memory.network.max: 32m",
                "taskmanager.memory.jvm-metaspace.size: 192m",
                "taskmanager.memory.jvm-overhead.min: 64m",
                "taskmanager.memory.jvm-overhead.max: 64m",
                // A killed TaskManager must be noticed in seconds, not the default 50 s.
                "heartbeat.interval: 1000",
                "heartbeat.timeout: 4000",
                "restart-strategy.type: fixed-delay",
                "restart-strategy.fixed-delay.attempts: 10",
                "restart-strategy.fixed-delay.delay: 1 s",
                "execution.checkpointing.dir: file://" + checkpoints,
                "state.checkpoints.dir: file://" + checkpoints,
                "blob.server.port: 0",
                "taskmanager.rpc.port: 0",
                "taskmanager.data.port: 0",
                "")
            + "\n");
  }

  int restPort() {
    return restPort;
  }

  void start(int taskManagerCount) throws Exception {
    jobManager =
        launch(
            "jobmanager",
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            "512m");
    for (int i = 0; i < taskManagerCount; i++) {
      startTaskManager();
    }
    awaitTaskManagers(taskManagerCount, Duration.ofSeconds(90));
  }

  Process startTaskManager() throws IOException {
    Process p =
        launch(
            "taskmanager-" + taskManagers.size(),
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
            "400m");
    taskManagers.add(p);
    return p;
  }

  /** Kills a TaskManager abruptly (SIGKILL), as a machine failure would. */
  void killTaskManager(int index) throws InterruptedException {
    Process p = taskManagers.get(index);
    p.destroyForcibly();
    p.waitFor();
  }

  private Process launch(String name, String mainClass, String heap) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                "--add-opens=java.base/java.io=ALL-UNNAMED",
                "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                "--add-opens=java.base/java.net=ALL-UNNAMED",
                "--add-opens=java.base/java.text=ALL-UNNAMED",
                "--add-opens=java.base/java.time=ALL-UNNAMED",
                "-Dlog.file=" + logDir.resolve(name + ".log"),
                "-cp",
                classPath,
                mainClass,
                "--configDir",
                confDir.toString()));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(logDir.resolve(name + ".out").toFile())
        .start();
  }

  String rest(String path) throws Exception {
    HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpResponse<String> r =
        c.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + path))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  void awaitTaskManagers(int count, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!jobManager.isAlive()) {
        throw new IllegalStateException("JobManager died: see " + logDir);
      }
      try {
        String body = rest("/taskmanagers");
        int n = body.split("\"id\"").length - 1;
        if (n >= count) {
          return;
        }
      } catch (IOException notYet) {
        // REST endpoint not up yet
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "cluster did not get " + count + " TaskManagers within " + timeout + "; logs in " + logDir);
  }

  /** The cluster's configuration directory (FLINK_CONF_DIR of a {@code flink} client). */
  Path confDir() {
    return confDir;
  }

  /**
   * Flink's own jars, without the project's or Kafka's classes: what a Flink distribution's lib/
   * holds.
   */
  String classPath() {
    return classPath;
  }

  /**
   * Runs the {@code flink} command line client ({@code CliFrontend}, the class behind {@code
   * bin/flink}) in its own JVM against this cluster, as a user submits a job jar.
   */
  Process flinkCli(Path log, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "-cp",
                classPath,
                "org.apache.flink.client.cli.CliFrontend"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("FLINK_CONF_DIR", confDir.toString());
    return pb.start();
  }

  Path logDir() {
    return logDir;
  }

  @Override
  public void close() {
    for (Process p : taskManagers) {
      p.destroyForcibly();
    }
    if (jobManager != null) {
      jobManager.destroyForcibly();
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
