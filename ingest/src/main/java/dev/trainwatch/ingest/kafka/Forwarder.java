package dev.trainwatch.ingest.kafka;

import dev.trainwatch.ingest.pipeline.IngestMetrics;
import dev.trainwatch.ingest.pipeline.Outgoing;
import dev.trainwatch.ingest.spool.Spool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * Moves records from the memory queue to Kafka on one thread, and to the disk spool when Kafka is
 * unreachable.
 *
 * <p>Guarantee: every record taken from the queue ends acknowledged by Kafka or in the spool (until
 * the spool is full, which is counted as dropped). Per run, order is kept: a failed direct send is
 * not spooled from its callback (callbacks of different batches can complete out of order) but
 * noted with its sequence number; this thread then flushes the producer, so every send in flight
 * has completed, and spools the failures in sequence order, ahead of anything newer. While the
 * spool holds anything, new records are appended behind it, and the spool is drained in order (send
 * a chunk, flush, release) before direct sending resumes. Drained chunks are at least once: a chunk
 * that fails part-way is sent again. Remaining gap: if a batch fails and a later batch of the same
 * partition still succeeds (the broker came back between them), the later one is in Kafka before
 * the earlier one leaves the spool.
 *
 * <p>A spool that cannot take records (its disk full, or at {@code spool.max.bytes}) is a state,
 * not a loss: the records it refused stay in memory, in order, this thread stops taking new ones
 * (so the queue fills and the inputs wait), {@link #refusal} names the cause (HTTP answers 503 and
 * {@code /healthz} fails) and the append is retried every probe interval until it succeeds, or
 * Kafka takes the records directly once the spool is drained. Only a shutdown in that state loses
 * records: those still held are counted as dropped and logged.
 *
 * <p>Kafka is probed on its own thread: the probe blocks for up to its timeout (2 s), and probing
 * on this thread had it spool one batch per probe (about 500 records/s during an outage).
 */
public final class Forwarder implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
  private static final int CHUNK = 1000;

  /** A drained chunk holds at most this much: 1000 records of 1 MB would be a GB of heap. */
  private static final long CHUNK_BYTES = 16L << 20;

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

  /** Records the spool refused, oldest first; nothing newer is taken until they are placed. */
  private final List<Outgoing> held = new ArrayList<>();

  private volatile String refusal;
  private long nextSpoolRetryMs;
  private final ExecutorService prober =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "ingest-kafka-probe");
            t.setDaemon(true);
            return t;
          });
  private Future<Boolean> probe;

  /** {@code kafkaReachable} is a cheap, bounded probe (e.g. Admin describeCluster). */
  public Forwarder(
      BlockingQueue<Outgoing> queue,
      Producer<String, byte[]> producer,
      Spool spool,
      IngestMetrics metrics,
      BooleanSupplier kafkaReachable,
      long probeIntervalMs) {
    this.queue = queue;
    this.producer = producer;
    this.spool = spool;
    this.metrics = metrics;
    this.kafkaReachable = kafkaReachable;
    this.probeIntervalMs = probeIntervalMs;
    this.down = !spool.isEmpty(); // records left from a previous run: probe before draining
    metrics.gauge("queue_depth", "records waiting in memory for Kafka", queue::size);
    metrics.gauge("spool_records", "records in the disk spool", spool::size);
    metrics.gauge("spool_bytes", "bytes of the disk spool", spool::bytes);
    metrics.gauge(
        "kafka_down", "1 while Kafka is unreachable (records go to the spool)", () -> down ? 1 : 0);
    metrics.gauge(
        "refusing",
        "1 while the spool cannot take records (HTTP answers 503)",
        () -> refusal != null ? 1 : 0);
    metrics.gauge(
        "held_records",
        "records the spool refused, held in memory until placed",
        () -> held.size());
  }

  public boolean kafkaDown() {
    return down;
  }

  /**
   * Why new records are refused now (the spool cannot take them), or null when they are accepted.
   */
  public String refusal() {
    return refusal;
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    List<Outgoing> batch = new ArrayList<>(CHUNK);
    while (running || !queue.isEmpty()) {
      try {
        if (!held.isEmpty()) {
          placeHeld();
          if (!held.isEmpty()) {
            if (!running) {
              break; // stopping: what is still held is counted as lost by stop()
            }
            Thread.sleep(Math.min(50, probeIntervalMs));
            continue;
          }
        }
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
      producer.send(
          new ProducerRecord<>(o.topic(), o.key(), o.value()),
          (md, ex) -> {
            if (ex == null) {
              metrics.sent.inc();
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
    metrics.sendFailed.inc();
    LOG.debug("send {} failed: {}", seq, ex.toString());
    if (ex instanceof RetriableException
        || ex instanceof TimeoutException
        || ex.getCause() instanceof RetriableException) {
      if (!down) {
        LOG.warn("Kafka unreachable ({}); spooling to disk until it returns", ex.toString());
      }
      failed.put(seq, o); // spooled in send order by the forwarder thread
      down = true;
    } else {
      LOG.error("record to {} dropped: permanent Kafka error {}", o.topic(), ex.toString());
      metrics.dropped.inc();
      o.ticket().done();
    }
  }

  private void toSpool(List<Outgoing> records) {
    if (records.isEmpty()) {
      return;
    }
    if (!held.isEmpty()) {
      held.addAll(records); // behind what the spool already refused
      return;
    }
    Spool.Appended a = spool.append(records);
    metrics.spooled.inc(a.count());
    for (int i = 0; i < a.count(); i++) {
      records.get(i).ticket().done();
    }
    if (a.error() != null) {
      held.addAll(records.subList(a.count(), records.size()));
      if (refusal == null) {
        LOG.error(
            "{}; refusing new records (HTTP 503, /healthz 503) and holding {} in memory until it takes them "
                + "again or Kafka does; retried every {} ms",
            a.error(),
            held.size(),
            probeIntervalMs);
      }
      refusal = a.error();
      nextSpoolRetryMs = System.currentTimeMillis() + probeIntervalMs;
    }
  }

  /**
   * Places the records the spool refused: straight into Kafka when it is reachable and the spool is
   * empty (order kept), else into the spool once it takes them again.
   */
  private void placeHeld() throws InterruptedException {
    maybeDrain();
    if (!down && spool.isEmpty() && failed.isEmpty()) {
      List<Outgoing> direct = new ArrayList<>(held);
      held.clear();
      for (int i = 0; i < direct.size(); i++) {
        if (down) {
          spoolFailedSends();
          toSpool(direct.subList(i, direct.size()));
          break;
        }
        send(direct.get(i));
      }
      producer.flush();
      spoolFailedSends();
    } else if (System.currentTimeMillis() >= nextSpoolRetryMs) {
      List<Outgoing> retry = new ArrayList<>(held);
      held.clear();
      toSpool(retry);
    }
    if (held.isEmpty() && refusal != null) {
      LOG.info("the spool takes records again ({} spooled); accepting new records", spool.size());
      refusal = null;
    }
  }

  /** True when Kafka answered the last probe; starts one (off this thread) when it is time. */
  private boolean probed() {
    if (probe == null) {
      if (System.currentTimeMillis() >= nextProbeMs) {
        probe = prober.submit(kafkaReachable::getAsBoolean);
      }
      return false;
    }
    if (!probe.isDone()) {
      return false;
    }
    boolean ok;
    try {
      ok = probe.get();
    } catch (Exception e) {
      ok = false;
    }
    probe = null;
    // from the probe's end, not its start: a 2 s probe would otherwise be due again at once
    nextProbeMs = System.currentTimeMillis() + probeIntervalMs;
    return ok;
  }

  /** Drains the spool in order once Kafka answers again; a failed chunk is retried later. */
  private void maybeDrain() {
    if (System.currentTimeMillis() < nextProbeMs && probe == null) {
      return;
    }
    if (down && !probed()) {
      return;
    }
    while (running || !spool.isEmpty()) {
      List<Spool.Entry> chunk = spool.peek(CHUNK, CHUNK_BYTES);
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
        metrics.drained.inc();
        down = false;
        LOG.info("Kafka reachable again; draining {} spooled records", spool.size());
        continue;
      }
      AtomicInteger failures = new AtomicInteger();
      for (Spool.Entry e : chunk) {
        Outgoing o = e.record();
        try {
          producer.send(
              new ProducerRecord<>(o.topic(), o.key(), o.value()),
              (md, ex) -> {
                if (ex != null && failures.getAndIncrement() == 0) {
                  LOG.warn(
                      "draining the spool failed ({}); retrying in {} ms",
                      ex.toString(),
                      probeIntervalMs);
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
      metrics.drained.inc(chunk.size());
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
    prober.shutdownNow();
    List<Outgoing> left = new ArrayList<>(held);
    held.clear();
    queue.drainTo(left);
    if (!left.isEmpty()) {
      // the one loss the sidecar has: stopped while the spool refused records and Kafka was away
      metrics.dropped.inc(left.size());
      LOG.error(
          "stopping with {} records neither in Kafka nor in the spool ({}): lost",
          left.size(),
          refusal == null ? "the forwarder did not finish in time" : refusal);
      left.forEach(o -> o.ticket().done());
    }
  }
}
