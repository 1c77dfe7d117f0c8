package dev.trainwatch.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node KRaft broker (combined broker + controller) in this JVM whose log lives in a
 * directory that survives restarts: {@code trainwatch up}'s broker. The directory is formatted once
 * (cluster id in its {@code meta.properties}); later starts on it find every topic, record,
 * committed offset and transaction as they were. Both listeners bind to loopback on ports picked at
 * each start (clients get {@link #bootstrapServers()}; a single static voter may change its address
 * between runs).
 *
 * <p>Why the real {@code KafkaRaftServer} and not the test kit of {@link EmbeddedKafka}: the test
 * kit formats fresh storage with a new cluster id on every start.
 */
public final class PersistentKafka implements AutoCloseable {

  private final KafkaRaftServer server;
  private final String bootstrap;

  /** Deleted on {@link #close()}: set only for {@link #startTemporary()}. */
  private Path temporaryDir;

  private PersistentKafka(KafkaRaftServer server, String bootstrap) {
    this.server = server;
    this.bootstrap = bootstrap;
  }

  /**
   * A throw-away broker on loopback for {@code demo}, {@code replay} and {@code bench}: its log
   * lives in a fresh temporary directory that {@link #close()} deletes. Preferred over {@link
   * EmbeddedKafka} outside tests because the test kit binds wildcard sockets (every interface), and
   * these commands must listen on 127.0.0.1 only.
   */
  public static PersistentKafka startTemporary() throws Exception {
    Path dir = Files.createTempDirectory("trainwatch-kafka-");
    PersistentKafka k;
    try {
      k = start(dir);
    } catch (Exception e) {
      deleteTree(dir);
      throw e;
    }
    k.temporaryDir = dir;
    return k;
  }

  /** Creates the topics (name -> partitions) with replication factor 1 and waits for them. */
  public void createTopics(Map<String, Integer> topics) throws Exception {
    EmbeddedKafka.createTopics(bootstrap, topics, Map.of());
  }

  /**
   * Starts the broker on {@code dir} (formatting it the first time) and waits until it serves
   * clients.
   */
  public static PersistentKafka start(Path dir) throws Exception {
    Files.createDirectories(dir);
    int brokerPort = freePort();
    int controllerPort = freePort();
    Map<String, Object> p = new HashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dir.toString());
    // one node: every internal topic must be satisfied by a single replica
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("auto.create.topics.enable", "false");
    KafkaConfig config = new KafkaConfig(p, false);
    if (!Files.exists(dir.resolve("meta.properties"))) {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(Set.of(dir.toString()))
          .setMetadataLogDirectory(dir.toString())
          .setControllerListenerName("CONTROLLER")
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setIgnoreFormatted(true)
          .run();
    }
    KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    PersistentKafka k = new PersistentKafka(server, "127.0.0.1:" + brokerPort);
    try {
      k.awaitReady();
    } catch (Exception e) {
      k.close();
      throw e;
    }
    return k;
  }

  private void awaitReady() throws Exception {
    try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      a.describeCluster().nodes().get(60, TimeUnit.SECONDS);
    }
  }

  public String bootstrapServers() {
    return bootstrap;
  }

  /**
   * Controlled shutdown: the log is flushed and the next start on the same directory resumes it.
   */
  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    if (temporaryDir != null) {
      deleteTree(temporaryDir);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless; the OS cleans java.io.tmpdir
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
