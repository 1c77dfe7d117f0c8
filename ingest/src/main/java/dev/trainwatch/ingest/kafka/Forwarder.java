package dev.trainwatch.ingest.kafka;

import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Outgoing;
import dev.trainwatch.ingest.spool.Spool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
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
 * (until the spool is full, which is counted as dropped). Per run, order is kept: while the
 * spool holds anything, new records are appended behind it, and the spool is drained in order
 * (send a chunk, flush, release) before direct sending resumes. Drained chunks are at least
 * once: a chunk that fails part-way is sent again. Known gap: records already in flight when
 * the broker goes away fail in callback order, so a record sent directly just after them may
 * overtake them if the broker returns within that window.
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

  /** {@code kafkaReachable} is a cheap, bounded probe (e.g. Admin describeCluster). */
  public Forwarder(BlockingQueue<Outgoing> queue, Producer<String, byte[]> producer, Spool spool,
      IngestMetrics metrics, BooleanSupplier kafkaReachable, long probeIntervalMs) {
    this.queue = queue;
    this.producer = producer;
    this.spool = spool;
    this.metrics = metrics;
    this.kafkaReachable = kafkaReachable;
    this.probeIntervalMs = probeIntervalMs;
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
        if (down || !spool.isEmpty()) {
          toSpool(batch);
          maybeDrain();
        } else {
          for (Outgoing o : batch) {
            send(o);
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
    try {
      producer.send(new ProducerRecord<>(o.topic(), o.key(), o.value()), (md, ex) -> {
        if (ex == null) {
          metrics.sent.increment();
          o.ticket().done();
        } else {
          onFailure(o, ex);
        }
      });
    } catch (KafkaException e) {
      onFailure(o, e);
    }
  }

  private void onFailure(Outgoing o, Exception ex) {
    metrics.sendFailed.increment();
    if (ex instanceof RetriableException || ex instanceof TimeoutException
        || ex.getCause() instanceof RetriableException) {
      if (!down) {
        LOG.warn("Kafka unreachable ({}); spooling to disk until it returns", ex.toString());
      }
      down = true;
      toSpool(List.of(o));
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
      AtomicInteger failures = new AtomicInteger();
      for (Spool.Entry e : chunk) {
        Outgoing o = e.record();
        try {
          producer.send(new ProducerRecord<>(o.topic(), o.key(), o.value()), (md, ex) -> {
            if (ex != null) {
              failures.incrementAndGet();
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
    if (spool.isEmpty()) {
      if (down) {
        LOG.info("Kafka reachable again; spool drained, sending directly");
      }
      down = false;
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
  }
}
