package dev.trainwatch.ingest.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 14 row 7: the queue is bounded in bytes, not only in records. */
class OutgoingQueueTest {

  private static Outgoing record(int bytes) {
    return new Outgoing("t", "run", new byte[bytes], Ticket.NONE);
  }

  @Test
  void admitsRecordsWhileTheirBytesFitAndAgainOnceTaken() throws Exception {
    // 20,000 records of up to 1 MiB were admitted before: 20 GiB; now 8 MiB hold 7 of them
    OutgoingQueue q = new OutgoingQueue(20_000, 8L << 20);
    int admitted = 0;
    while (q.offer(record(1 << 20), 10, TimeUnit.MILLISECONDS)) {
      admitted++;
    }
    assertThat(admitted).isEqualTo(7);
    assertThat(q.bytes()).isLessThanOrEqualTo(8L << 20);
    assertThat(q.offer(record(1 << 20))).isFalse();
    assertThat(q.poll()).isNotNull();
    assertThat(q.offer(record(1 << 20))).isTrue();
    List<Outgoing> all = new ArrayList<>();
    assertThat(q.drainTo(all, 3)).isEqualTo(3);
    assertThat(q.drainTo(all)).isEqualTo(4);
    assertThat(q.bytes()).isZero();
    // one record larger than the whole budget still passes, alone
    assertThat(q.offer(record(9 << 20))).isTrue();
    assertThat(q.offer(record(10))).isFalse();
    q.clear();
    assertThat(q.bytes()).isZero();
  }

  @Test
  void aBlockedPutProceedsOnceSpaceIsFreed() throws Exception {
    OutgoingQueue q = new OutgoingQueue(100, 1000);
    q.put(record(800));
    Thread t =
        new Thread(
            () -> {
              try {
                q.put(record(800));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    t.start();
    t.join(200);
    assertThat(t.isAlive()).as("waits for space").isTrue();
    assertThat(q.take()).isNotNull();
    t.join(5_000);
    assertThat(t.isAlive()).isFalse();
    assertThat(q.size()).isEqualTo(1);
  }
}
