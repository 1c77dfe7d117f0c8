package dev.trainwatch.jobs.flink;

import dev.trainwatch.jobs.detect.ConfigException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Makes sure the job's four topics exist before it starts: missing ones are created with the
 * configured partition counts ({@code topics.*.partitions}, replication {@code
 * topics.replication-factor}), or, with {@code topics.create=false}, start-up fails with one error
 * naming the first missing topic. Without this a fresh broker makes the Kafka source fail with
 * {@code UnknownTopicOrPartitionException} and the job restart in a loop.
 */
public final class TopicSetup {

  /** How long the broker may take to answer; a wrong address fails start-up after this. */
  static final long TIMEOUT_MS = 30_000;

  private TopicSetup() {}

  /**
   * Waits until the leader of every partition of the topics just created serves it: a KRaft broker
   * publishes a new topic to its metadata before its replica manager leads the partition, and an
   * idempotent producer whose first batch lands in that window can be left failing with
   * OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout (seen in the replay tests, see
   * EmbeddedKafka). ListOffsets is answered by the replica manager, so it succeeds only once a
   * produce would.
   */
  private static void awaitServed(Admin admin, List<String> topics)
      throws ExecutionException, TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
    while (true) {
      try {
        Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
        admin
            .describeTopics(topics)
            .allTopicNames()
            .get(TIMEOUT_MS / 3, TimeUnit.MILLISECONDS)
            .forEach(
                (name, d) ->
                    d.partitions()
                        .forEach(
                            p ->
                                partitions.put(
                                    new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        admin.listOffsets(partitions).all().get(TIMEOUT_MS / 3, TimeUnit.MILLISECONDS);
        return;
      } catch (ExecutionException | TimeoutException e) {
        // a broker that has not loaded the topic yet: unknown topic, not leader
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /** Returns the topics it created (empty when all existed). */
  public static List<String> ensure(JobConfig config) throws InterruptedException {
    Properties p = config.clientProperties("consumer");
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(TIMEOUT_MS));
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(TIMEOUT_MS / 3));
    p.keySet().removeIf(k -> !AdminClientConfig.configNames().contains(k.toString()));
    try (Admin admin = Admin.create(p)) {
      Set<String> existing = admin.listTopics().names().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      List<NewTopic> missing = new ArrayList<>();
      short rf = (short) config.getLong("topics.replication-factor");
      for (Map.Entry<String, Integer> t : config.topicPartitions().entrySet()) {
        if (!existing.contains(t.getKey())) {
          if (!config.getBoolean("topics.create")) {
            throw new ConfigException(
                "topic '"
                    + t.getKey()
                    + "' does not exist on "
                    + config.bootstrapServers()
                    + " and topics.create=false: create it ("
                    + t.getValue()
                    + " partitions) or set topics.create=true");
          }
          missing.add(
              new NewTopic(
                  t.getKey(),
                  Optional.of(t.getValue()),
                  rf < 0 ? Optional.empty() : Optional.of(rf)));
        }
      }
      List<String> created = new ArrayList<>();
      for (NewTopic t : missing) {
        try {
          admin.createTopics(List.of(t)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
          created.add(t.name());
        } catch (ExecutionException e) {
          if (!(e.getCause()
              instanceof TopicExistsException)) { // another instance was quicker: fine
            throw new IllegalStateException(
                "cannot create topic '"
                    + t.name()
                    + "' on "
                    + config.bootstrapServers()
                    + ": "
                    + e.getCause().getMessage(),
                e.getCause());
          }
        }
      }
      if (!created.isEmpty()) {
        awaitServed(admin, created);
      }
      return created;
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "cannot reach Kafka at "
              + config.bootstrapServers()
              + " within "
              + TIMEOUT_MS / 1000
              + " s (kafka.bootstrap.servers): "
              + (e.getCause() == null ? e.toString() : e.getCause().getMessage()),
          e);
    }
  }
}
