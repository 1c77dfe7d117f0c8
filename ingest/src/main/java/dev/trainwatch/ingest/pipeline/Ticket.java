package dev.trainwatch.ingest.pipeline;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Counts records of one input chunk until each is durable (in Kafka or in the spool), so the file
 * tail moves its checkpoint only past lines that cannot be lost.
 */
public final class Ticket {

  /** A ticket nobody waits for. */
  public static final Ticket NONE = new Ticket(0);

  private final CountDownLatch latch;

  private Ticket(int records) {
    this.latch = new CountDownLatch(records);
  }

  public static Ticket forRecords(int records) {
    return new Ticket(records);
  }

  /** Marks one record durable (or finally dropped, which is counted where it happens). */
  public void done() {
    latch.countDown();
  }

  public boolean await(long timeoutMs) throws InterruptedException {
    return latch.await(timeoutMs, TimeUnit.MILLISECONDS);
  }

  public long pending() {
    return latch.getCount();
  }
}
