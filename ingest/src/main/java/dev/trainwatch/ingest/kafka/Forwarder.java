package dev.trainwatch.ingest.kafka;

import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Outgoing;
import dev.trainwatch.ingest.spool.Spool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves records from the memory queue to Kafka on one thread, and to the disk spool when
 * Kafka is unreachable.
 *
 * <p>Guarantee: every record taken from the queue ends acknowledged by Kafka or in the spool
 * (until the spool is full, which is counted as dropped). Per run, order is kept: a failed
 * direct send is not spooled from its callback (callbacks of different batches can complete out
 * of order) but noted with its sequence number; this thread then flushes the producer, so every
 * send in flight has completed, and spools the failures in sequence order, ahead of anything
 * newer. While the spool holds anything, new records are appended behind it, and the spool is
 * drained in order (send a chunk, flush, release) before direct sending resumes. Drained chunks
 * are at least once: a chunk that fails part-way is sent again. Remaining gap: if a batch
 * fails and a later batch of the same partition still succeeds (the broker came back between
 * them), the later one is in Kafka before the earlier one leaves the spool.
 */
public final class Forwarder implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
  private static final int CHUNK = 1000;

  private final BlockingQueue<Outgoing> queue;
  private final Producer<String, byte[]> producer;
  private final Spool spool;
  private final IngestMetrics metrics;
  private final BooleanSupplier kafkaReachable;
  private final long probeIntervalMs;
  private volatile boolean running = true;
  private volatile boolean down;
  private volatile Thread thread;
  private long nextProbeMs;
  private long sequence;
  private final ConcurrentSkipListMap<Long, Outgoing> failed = new ConcurrentSkipListMap<>();

  /** {@code kafkaReachable} is a cheap, bounded probe (e.g. Admin describeCluster). */
  public Forwarder(BlockingQueue<Outgoing> queue, Producer<String, byte[]> producer, Spool spool,
      IngestMetrics metrics, BooleanSupplier kafkaReachable, long probeIntervalMs) {
    this.queue = queue;
    this.producer = producer;
    this.spool = spool;
    this.metrics = metrics;
    this.kafkaReachable = kafkaReachable;
    this.probeIntervalMs = probeIntervalMs;
    this.down = !spool.isEmpty(); // records left from a previous run: probe before draining
    metrics.gauge("queue_depth", queue::size);
    metrics.gauge("spool_records", spool::size);
    metrics.gauge("spool_bytes", spool::bytes);
    metrics.gauge("kafka_down", () -> down ? 1 : 0);
  }

  public boolean kafkaDown() {
    return down;
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    List<Outgoing> batch = new ArrayList<>(CHUNK);
    while (running || !queue.isEmpty()) {
      try {
        batch.clear();
        Outgoing first = queue.poll(50, TimeUnit.MILLISECONDS);
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, CHUNK - 1);
        }
        if (down || !spool.isEmpty() || !failed.isEmpty()) {
          spoolFailedSends();
          toSpool(batch);
          maybeDrain();
        } else {
          for (int i = 0; i < batch.size(); i++) {
            if (down) { // a send failed: the rest waits behind it in the spool
              spoolFailedSends();
              toSpool(batch.subList(i, batch.size()));
              break;
            }
            send(batch.get(i));
          }
        }
      } catch (InterruptedException e) {
        running = false; // finish what is queued, then stop
      } catch (RuntimeException e) {
        LOG.error("forwarder error, continuing", e);
      }
    }
  }

  private void send(Outgoing o) {
    long seq = sequence++;
    try {
      producer.send(new ProducerRecord<>(o.topic(), o.key(), o.value()), (md, ex) -> {
        if (ex == null) {
          metrics.sent.increment();
          o.ticket().done();
        } else {
          onFailure(seq, o, ex);
        }
      });
    } catch (KafkaException e) {
      onFailure(seq, o, e);
    }
  }

  /** Waits for every send in flight, then spools the failed ones in the order they were sent. */
  private void spoolFailedSends() {
    if (down) {
      producer.flush();
    }
    if (!failed.isEmpty()) {
      List<Outgoing> inOrder = new ArrayList<>(failed.values());
      failed.clear();
      toSpool(inOrder);
    }
  }

  private void onFailure(long seq, Outgoing o, Exception ex) {
    metrics.sendFailed.increment();
    LOG.debug("send {} failed: {}", seq, ex.toString());
    if (ex instanceof RetriableException || ex instanceof TimeoutException
        || ex.getCause() instanceof RetriableException) {
      if (!down) {
        LOG.warn("Kafka unreachable ({}); spooling to disk until it returns", ex.toString());
      }
      failed.put(seq, o); // spooled in send order by the forwarder thread
      down = true;
    } else {
      LOG.error("record to {} dropped: permanent Kafka error {}", o.topic(), ex.toString());
      metrics.dropped.increment();
      o.ticket().done();
    }
  }

  private void toSpool(List<Outgoing> records) {
    if (records.isEmpty()) {
      return;
    }
    if (spool.append(records)) {
      metrics.spooled.add(records.size());
    } else {
      LOG.error("spool full: {} records dropped", records.size());
      metrics.dropped.add(records.size());
    }
    records.forEach(r -> r.ticket().done());
  }

  /** Drains the spool in order once Kafka answers again; a failed chunk is retried later. */
  private void maybeDrain() {
    long now = System.currentTimeMillis();
    if (now < nextProbeMs) {
      return;
    }
    if (down && !kafkaReachable.getAsBoolean()) {
      nextProbeMs = now + probeIntervalMs;
      return;
    }
    while (running || !spool.isEmpty()) {
      List<Spool.Entry> chunk = spool.peek(CHUNK);
      if (chunk.isEmpty()) {
        break;
      }
      if (down) {
        // the first write after an outage goes alone: if it fails, nothing behind it overtakes it
        if (!sendAndWait(chunk.get(0).record())) {
          nextProbeMs = System.currentTimeMillis() + probeIntervalMs;
          return;
        }
        spool.commit(chunk.subList(0, 1));
        metrics.drained.increment();
        down = false;
        LOG.info("Kafka reachable again; draining {} spooled records", spool.size());
        continue;
      }
      AtomicInteger failures = new AtomicInteger();
      for (Spool.Entry e : chunk) {
        Outgoing o = e.record();
        try {
          producer.send(new ProducerRecord<>(o.topic(), o.key(), o.value()), (md, ex) -> {
            if (ex != null && failures.getAndIncrement() == 0) {
              LOG.warn("draining the spool failed ({}); retrying in {} ms", ex.toString(), probeIntervalMs);
            }
          });
        } catch (KafkaException ex) {
          failures.incrementAndGet();
          break;
        }
      }
      producer.flush();
      if (failures.get() > 0) {
        down = true;
        nextProbeMs = System.currentTimeMillis() + probeIntervalMs;
        return;
      }
      spool.commit(chunk);
      metrics.drained.add(chunk.size());
      if (!queue.isEmpty() && queue.remainingCapacity() < CHUNK) {
        List<Outgoing> more = new ArrayList<>();
        queue.drainTo(more);
        toSpool(more); // keep the inputs flowing behind the spool
      }
    }
  }

  private boolean sendAndWait(Outgoing o) {
    try {
      producer.send(new ProducerRecord<>(o.topic(), o.key(), o.value())).get();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      LOG.warn("Kafka answers the probe but not a write yet ({})", e.toString());
      return false;
    }
  }

  /** Stops after the queue is handed to Kafka or the spool; then flushes the producer. */
  public void stop(Duration timeout) throws InterruptedException {
    running = false;
    Thread t = thread;
    if (t != null) {
      t.join(timeout.toMillis());
    }
    producer.flush();
    spoolFailedSends(); // the thread has ended: failures of the last sends go to the spool
  }
}
