package dev.trainwatch.alerts;

import dev.trainwatch.alerts.dispatch.Dispatcher;
import dev.trainwatch.alerts.dispatch.Flush;
import dev.trainwatch.alerts.dispatch.SourceOffset;
import dev.trainwatch.alerts.metrics.AlertsMetrics;
import dev.trainwatch.alerts.nflog.Journal;
import dev.trainwatch.alerts.notify.NotificationPipeline;
import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.AlertJson;
import dev.trainwatch.wire.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single dispatcher thread: poll alerts, apply them to the {@link Dispatcher}, hand due flushes
 * to the delivery pool, apply finished flushes, commit offsets. {@code now} is taken once per
 * iteration and passed down.
 *
 * <p>Guarantee: the offset committed for a partition is never past a record whose alert change is
 * still waiting for (or in) a notification, and the journal is fsynced before each commit. So a
 * crash at any point re-reads at most records whose effect is not yet settled, and the notification
 * log (written only after a send) stops anything delivered from going out again.
 */
final class DispatchLoop implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(DispatchLoop.class);
  private static final Duration POLL = Duration.ofMillis(50);
  private static final long COMMIT_EVERY_MS = 200;

  record Done(Flush flush, NotificationPipeline.Outcome outcome, Throwable error) {}

  private final Consumer<byte[], byte[]> consumer;
  private final String topic;
  private final Dispatcher dispatcher;
  private final NotificationPipeline pipeline;
  private final NotificationPipeline.DeadLetters deadLetters;
  private final Journal journal;
  private final ExecutorService delivery;
  private final InstantSource clock;
  private final AlertsMetrics metrics;
  private final Supplier<Journal.Snapshot> snapshot;
  private final AlertmanagerResender resender;
  private final java.util.function.Consumer<List<Dispatcher.AlertStatus>> publish;

  /**
   * How stale GET /api/v2/alerts may be: recomputing every tick would cost alerts x silences each
   * 50 ms.
   */
  private static final long PUBLISH_EVERY_MS = 250;

  private long lastPublishMs;
  private final Set<Flush> inFlight = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private volatile boolean running = true;
  private volatile int alerts;
  private volatile int groups;
  private long lastCommitMs;

  DispatchLoop(
      Consumer<byte[], byte[]> consumer,
      String topic,
      Dispatcher dispatcher,
      NotificationPipeline pipeline,
      NotificationPipeline.DeadLetters deadLetters,
      Journal journal,
      ExecutorService delivery,
      InstantSource clock,
      AlertsMetrics metrics,
      Supplier<Journal.Snapshot> snapshot,
      AlertmanagerResender resender,
      java.util.function.Consumer<List<Dispatcher.AlertStatus>> publish) {
    this.publish = publish;
    this.snapshot = snapshot;
    this.resender = resender;
    this.consumer = consumer;
    this.topic = topic;
    this.dispatcher = dispatcher;
    this.pipeline = pipeline;
    this.deadLetters = deadLetters;
    this.journal = journal;
    this.delivery = delivery;
    this.clock = clock;
    this.metrics = metrics;
    metrics.gauge(
        "trainwatch_alerts_queue_depth",
        "Notifications queued or being delivered.",
        inFlight::size);
    metrics.gauge(
        "trainwatch_alerts_active",
        "Alerts held (firing, or resolved and not yet notified).",
        () -> alerts);
    metrics.gauge("trainwatch_alerts_groups", "Aggregation groups.", () -> groups);
  }

  @Override
  public void run() {
    consumer.subscribe(
        List.of(topic),
        new ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            commit(true);
          }

          @Override
          public void onPartitionsAssigned(Collection<TopicPartition> parts) {}
        });
    try {
      while (running) {
        var records = consumer.poll(POLL);
        Instant now = clock.instant();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          ingest(r, now);
        }
        settle();
        for (Flush f : dispatcher.due(now)) {
          inFlight.add(f);
          delivery.execute(() -> deliver(f));
        }
        resender.tick(dispatcher, now);
        if (now.toEpochMilli() - lastPublishMs >= PUBLISH_EVERY_MS) {
          lastPublishMs = now.toEpochMilli();
          publish.accept(dispatcher.statuses(now));
        }
        alerts = dispatcher.alertCount();
        groups = dispatcher.groupCount();
        try {
          commit(false);
        } catch (WakeupException e) {
          throw e;
        } catch (KafkaException e) {
          // a rebalance or a slow broker: the offsets stay pending and go with the next commit
          LOG.warn("offset commit failed, will retry: {}", e.toString());
        }
        if (journal.needsCompaction(alerts + groups)) {
          journal.compact(snapshot);
        }
      }
    } catch (WakeupException e) {
      // close() woke us up
    } catch (RuntimeException e) {
      LOG.error("dispatch loop failed; offsets of unsettled alerts stay uncommitted", e);
    } finally {
      running = false;
      shutDown();
    }
  }

  /**
   * Interrupts deliveries (a retry waiting out its backoff gives up; nothing is recorded for it),
   * applies what finished, commits once more, closes the consumer: all on this thread, because the
   * consumer is not thread-safe.
   */
  private void shutDown() {
    delivery.shutdownNow();
    try {
      if (!delivery.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("deliveries still running after 10 s; their offsets stay uncommitted");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      finish();
    } catch (RuntimeException e) {
      LOG.warn(
          "final offset commit failed; the records will be re-read and deduplicated: {}",
          e.toString());
    }
    consumer.close(Duration.ofSeconds(5));
  }

  private void ingest(ConsumerRecord<byte[], byte[]> r, Instant now) {
    metrics.inc("trainwatch_alerts_received_total");
    AlertEvent e;
    try {
      e = AlertJson.parse(r.value());
    } catch (RuntimeException bad) {
      String payload = r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8);
      try {
        deadLetters.publish(
            new DeadLetter(
                "unreadable alert: " + bad.getMessage(),
                null,
                r.topic() + "-" + r.partition() + "@" + r.offset(),
                payload,
                now.toEpochMilli()));
        metrics.inc("trainwatch_alerts_unreadable_total");
      } catch (Exception dlq) {
        throw new IllegalStateException("cannot dead-letter an unreadable alert", dlq);
      }
      return;
    }
    dispatcher.ingest(e, new SourceOffset(r.topic(), r.partition(), r.offset()), now);
  }

  private void deliver(Flush f) {
    try {
      done.add(new Done(f, pipeline.run(f), null));
    } catch (Throwable t) {
      if (!(t instanceof InterruptedException)) {
        LOG.warn("flush of {} failed, will retry next group interval", f.groupKey(), t);
      }
      done.add(new Done(f, null, t));
    }
  }

  /** Applies finished flushes on this thread (the dispatcher is single-threaded). */
  private void settle() {
    for (Done d; (d = done.poll()) != null; ) {
      if (d.error() == null) {
        dispatcher.completed(d.flush());
      } else {
        dispatcher.abandoned(d.flush());
      }
      inFlight.remove(d.flush());
    }
  }

  void commit(boolean force) {
    long nowMs = System.currentTimeMillis();
    if (!force && nowMs - lastCommitMs < COMMIT_EVERY_MS) {
      return;
    }
    lastCommitMs = nowMs;
    Map<TopicPartition, Long> next = new HashMap<>();
    for (TopicPartition tp : consumer.assignment()) {
      next.put(tp, consumer.position(tp));
    }
    for (SourceOffset o : dispatcher.pendingOffsets()) {
      next.computeIfPresent(
          new TopicPartition(o.topic(), o.partition()), (k, v) -> Math.min(v, o.offset()));
    }
    for (Flush f : inFlight) {
      for (SourceOffset o : f.offsets()) {
        next.computeIfPresent(
            new TopicPartition(o.topic(), o.partition()), (k, v) -> Math.min(v, o.offset()));
      }
    }
    Map<TopicPartition, OffsetAndMetadata> changed = new HashMap<>();
    next.forEach(
        (tp, off) -> {
          if (!off.equals(committed.get(tp))) {
            changed.put(tp, new OffsetAndMetadata(off));
          }
        });
    if (!changed.isEmpty()) {
      journal.sync(); // alert state first, then the offsets that no longer replay it
      consumer.commitSync(changed);
      changed.forEach((tp, om) -> committed.put(tp, om.offset()));
    }
  }

  /** Stops polling; the loop thread then shuts down deliveries and the consumer. */
  void stop() {
    running = false;
    consumer.wakeup();
  }

  private void finish() {
    settle();
    for (Flush f : List.copyOf(inFlight)) {
      dispatcher.abandoned(f);
      inFlight.remove(f);
    }
    commit(true);
  }

  boolean running() {
    return running;
  }
}
