package dev.trainwatch.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real, single-node KRaft Kafka broker (combined broker + controller) running in this JVM on a
 * loopback ephemeral port, with its log in a temporary directory that is deleted on close. It is
 * the embedded default of trainwatch and the broker of the integration tests.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
 *   kafka.createTopics(Map.of("trainwatch.telemetry", 4));
 *   String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

  private final KafkaClusterTestKit cluster;
  private final Path dir;

  /** Replication factor of the topics {@link #createTopics(Map)} makes: 1, or 3 on a cluster. */
  private final short replication;

  private EmbeddedKafka(KafkaClusterTestKit cluster, Path dir, short replication) {
    this.cluster = cluster;
    this.dir = dir;
    this.replication = replication;
  }

  /**
   * A replicated cluster as production runs it: {@code brokers} brokers (3 or more) and one
   * controller (KRaft), every topic, internal ones included, with replication factor 3 and {@code
   * min.insync.replicas=2}, so one broker can go away without losing an acknowledged ({@code
   * acks=all}) record or stopping writes.
   */
  public static EmbeddedKafka startCluster(int brokers) throws Exception {
    if (brokers < 3) {
      throw new IllegalArgumentException(
          "a replicated cluster needs at least 3 brokers, got " + brokers);
    }
    Path dir = Files.createTempDirectory("trainwatch-kafka-cluster-");
    TestKitNodes nodes =
        new TestKitNodes.Builder()
            .setCombined(false)
            .setNumBrokerNodes(brokers)
            .setNumControllerNodes(1)
            .setBaseDirectory(dir)
            .build();
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(nodes)
            .setConfigProp("default.replication.factor", "3")
            .setConfigProp("min.insync.replicas", "2")
            .setConfigProp("offsets.topic.replication.factor", "3")
            .setConfigProp("offsets.topic.num.partitions", "4")
            .setConfigProp("transaction.state.log.replication.factor", "3")
            .setConfigProp("transaction.state.log.min.isr", "2")
            .setConfigProp("transaction.state.log.num.partitions", "4")
            .setConfigProp("share.coordinator.state.topic.replication.factor", "3")
            .setConfigProp("share.coordinator.state.topic.min.isr", "2")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            .setConfigProp("auto.create.topics.enable", "false")
            .setConfigProp("unclean.leader.election.enable", "false")
            .setDeleteOnClose(true)
            .build();
    cluster.format();
    cluster.startup();
    cluster.waitForReadyBrokers();
    return new EmbeddedKafka(cluster, dir, (short) 3);
  }

  /** The ids of the brokers (not the controller). */
  public List<Integer> brokerIds() {
    return List.copyOf(new TreeSet<>(cluster.brokers().keySet()));
  }

  /**
   * Shuts one broker of a cluster down (the others take over its partitions); undo with {@link
   * #startBroker(int)}.
   */
  public void stopBroker(int id) {
    var broker = cluster.brokers().get(id);
    broker.shutdown();
    broker.awaitShutdown();
  }

  public void startBroker(int id) throws Exception {
    cluster.brokers().get(id).startup();
    cluster.waitForReadyBrokers();
  }

  public static EmbeddedKafka start() throws Exception {
    Path dir = Files.createTempDirectory("trainwatch-kafka-");
    TestKitNodes nodes =
        new TestKitNodes.Builder()
            .setCombined(true)
            .setNumBrokerNodes(1)
            .setNumControllerNodes(1)
            .setBaseDirectory(dir)
            .build();
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(nodes)
            // one node: every internal topic must be satisfied by a single replica
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("offsets.topic.num.partitions", "4")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .setConfigProp("transaction.state.log.num.partitions", "4")
            .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
            .setConfigProp("share.coordinator.state.topic.min.isr", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            .setConfigProp("auto.create.topics.enable", "false")
            .setConfigProp("log.flush.interval.messages", "100000")
            .setDeleteOnClose(true)
            .build();
    cluster.format();
    cluster.startup();
    cluster.waitForReadyBrokers();
    return new EmbeddedKafka(cluster, dir, (short) 1);
  }

  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /**
   * Stops the broker side of the node, keeping its log directory and port, so tests can show what
   * clients do while Kafka is unreachable. The controller stays up. Undo with {@link
   * #startBroker()}.
   */
  public void stopBroker() {
    for (var broker : cluster.brokers().values()) {
      broker.shutdown();
      broker.awaitShutdown();
    }
  }

  /** Restarts the broker stopped by {@link #stopBroker()} on the same port and log directory. */
  public void startBroker() throws Exception {
    for (var broker : cluster.brokers().values()) {
      broker.startup();
    }
    cluster.waitForReadyBrokers();
  }

  /** Creates the topics (name -> partitions) if absent, and waits until they exist. */
  public void createTopics(Map<String, Integer> topics) throws Exception {
    createTopics(bootstrapServers(), topics, Map.of(), replication);
  }

  /** Creates topics on any cluster; existing topics are left as they are. */
  public static void createTopics(
      String bootstrap, Map<String, Integer> topics, Map<String, String> topicConfig)
      throws Exception {
    createTopics(bootstrap, topics, topicConfig, (short) 1);
  }

  /** As above, with {@code replication} replicas per partition. */
  public static void createTopics(
      String bootstrap,
      Map<String, Integer> topics,
      Map<String, String> topicConfig,
      short replication)
      throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(p)) {
      List<NewTopic> list = new ArrayList<>();
      topics.forEach(
          (name, partitions) ->
              list.add(new NewTopic(name, partitions, replication).configs(topicConfig)));
      try {
        admin.createTopics(list).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      awaitLeaders(admin, topics.keySet(), Duration.ofSeconds(30));
    }
  }

  /**
   * Waits until the leader of every partition of {@code names} serves it. A leader in the metadata
   * is not enough: a KRaft broker publishes the new topic to its metadata cache before its replica
   * manager has made the partition leader, and a produce in that window gets
   * NOT_LEADER_OR_FOLLOWER. The idempotent producer (5 requests in flight) then had its second
   * batch of the partition appended first (the broker accepts any first sequence of an unknown
   * producer), so the retried first batch failed with OUT_OF_ORDER_SEQUENCE_NUMBER until its 120 s
   * delivery timeout: ReplayIT stalled so in CI and in 1 of 6 replays in one JVM (the first produce
   * comes sooner once the JIT has warmed). ListOffsets is answered by the replica manager, so it
   * succeeds only once a produce would.
   */
  static void awaitLeaders(Admin admin, Set<String> names, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean ready;
      try {
        Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
        admin
            .describeTopics(names)
            .allTopicNames()
            .get(10, TimeUnit.SECONDS)
            .forEach(
                (name, d) ->
                    d.partitions()
                        .forEach(
                            p ->
                                partitions.put(
                                    new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        admin
            .listOffsets(partitions, new ListOffsetsOptions().timeoutMs(5_000))
            .all()
            .get(10, TimeUnit.SECONDS);
        ready = true;
      } catch (ExecutionException | TimeoutException e) {
        ready = false; // UnknownTopicOrPartition, NotLeaderOrFollower: the broker is not there yet
      }
      if (ready) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("topics " + names + " are not served after " + timeout);
      }
      Thread.sleep(50);
    }
  }

  @Override
  public void close() throws Exception {
    try {
      cluster.close();
    } finally {
      deleteRecursively(dir);
    }
  }

  private static void deleteRecursively(Path p) {
    try (var s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a temp dir left behind is not worth failing a run for
    }
  }
}
