package dev.trainwatch.jobs.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.junit.jupiter.api.Test;

class InfluxSinkWriterTest {

  /** Records batches; answers with the scripted outcomes, then Delivered. */
  static final class ScriptedWriter implements BatchWriter {
    final List<List<String>> delivered = new CopyOnWriteArrayList<>();
    final List<WriteOutcome> script = new ArrayList<>();
    final AtomicInteger calls = new AtomicInteger();
    volatile CountDownLatch gate;

    @Override
    public WriteOutcome write(List<String> lines) {
      calls.incrementAndGet();
      try {
        if (gate != null) {
          gate.await();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (script) {
        if (!script.isEmpty()) {
          WriteOutcome o = script.remove(0);
          if (!(o instanceof WriteOutcome.Delivered)) {
            return o;
          }
        }
      }
      delivered.add(List.copyOf(lines));
      return new WriteOutcome.Delivered();
    }
  }

  private static InfluxSinkWriter writer(
      ScriptedWriter w, int batch, int inFlight, long deadlineMs) {
    RetryingSender s = new RetryingSender(w, deadlineMs, Clock.systemUTC(), ms -> {});
    return new InfluxSinkWriter(w, s, batch, inFlight, 1000, null);
  }

  private static InfluxLine line(int i) {
    return new InfluxLine("telemetry,run=r step=" + i + "i " + i);
  }

  @Test
  void sendsFullBatchesAndThePartialOneOnFlush() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    try (InfluxSinkWriter sink = writer(w, 3, 2, 1000)) {
      for (int i = 0; i < 7; i++) {
        sink.write(line(i), null);
      }
      sink.flush(false);
      assertThat(w.delivered).extracting(List::size).containsExactly(3, 3, 1);
      assertThat(sink.pointsWritten()).isEqualTo(7);
    }
  }

  @Test
  void writeBlocksWhileTheBoundedQueueIsFull() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    w.gate = new CountDownLatch(1);
    try (InfluxSinkWriter sink = writer(w, 1, 1, 1000)) {
      // batch 1 is held by the sender, batch 2 fills the queue; batch 3 must wait.
      sink.write(line(1), null);
      sink.write(line(2), null);
      Thread t =
          new Thread(
              () -> {
                try {
                  sink.write(line(3), null);
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      t.start();
      t.join(300);
      assertThat(t.isAlive()).as("write() is back-pressured").isTrue();
      w.gate.countDown();
      t.join(5000);
      assertThat(t.isAlive()).isFalse();
      sink.flush(true);
      assertThat(sink.pointsWritten()).isEqualTo(3);
    }
  }

  @Test
  void retriesRetryableFailuresThenDelivers() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    w.script.add(new WriteOutcome.Retryable("503"));
    w.script.add(new WriteOutcome.Retryable("connection refused"));
    try (InfluxSinkWriter sink = writer(w, 10, 2, 60_000)) {
      sink.write(line(1), null);
      sink.flush(false);
      assertThat(w.calls.get()).isEqualTo(3);
      assertThat(sink.retries()).isEqualTo(2);
      assertThat(sink.pointsWritten()).isEqualTo(1);
    }
  }

  @Test
  void failsTheTaskWhenRetriesExceedTheDeadline() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    for (int i = 0; i < 100; i++) {
      w.script.add(new WriteOutcome.Retryable("503"));
    }
    try (InfluxSinkWriter sink = writer(w, 10, 2, 0)) {
      sink.write(line(1), null);
      assertThatThrownBy(() -> sink.flush(false))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("influx.retry-deadline.ms");
    }
  }

  @Test
  void fatalOutcomeFailsAtOnceNamingTheSettings() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    w.script.add(new WriteOutcome.Fatal("database not found"));
    try (InfluxSinkWriter sink = writer(w, 1, 2, 60_000)) {
      sink.write(line(1), null);
      assertThatThrownBy(() -> sink.flush(false))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("influx.database");
      assertThat(w.calls.get()).isEqualTo(1);
    }
  }

  @Test
  void rejectedBatchIsDroppedAndCountedAndTheJobGoesOn() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    w.script.add(new WriteOutcome.Rejected("field type conflict"));
    try (InfluxSinkWriter sink = writer(w, 2, 2, 60_000)) {
      for (int i = 0; i < 4; i++) {
        sink.write(line(i), null);
      }
      sink.flush(true);
      assertThat(sink.rejectedPoints()).isEqualTo(2);
      assertThat(sink.pointsWritten()).isEqualTo(2);
    }
  }

  /** A processing-time service whose timers fire only when the test says so. */
  static final class ManualTimers implements ProcessingTimeService {
    long now;
    final List<ProcessingTimeCallback> due = new ArrayList<>();

    @Override
    public long getCurrentProcessingTime() {
      return now;
    }

    @Override
    public ScheduledFuture<?> registerTimer(long t, ProcessingTimeCallback cb) {
      due.add(cb);
      return null;
    }

    void fire() throws Exception {
      List<ProcessingTimeCallback> now = new ArrayList<>(due);
      due.clear();
      for (ProcessingTimeCallback cb : now) {
        cb.onProcessingTime(this.now);
      }
    }
  }

  @Test
  void partialBatchGoesOutWhenTheFlushIntervalElapses() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    ManualTimers timers = new ManualTimers();
    RetryingSender s = new RetryingSender(w, 1000, Clock.systemUTC(), ms -> {});
    try (InfluxSinkWriter sink = new InfluxSinkWriter(w, s, 100, 2, 1000, timers)) {
      sink.write(line(1), null);
      timers.now += 1000;
      timers.fire();
      long deadline = System.currentTimeMillis() + 5000;
      while (w.delivered.isEmpty() && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertThat(w.delivered).hasSize(1);
      assertThat(timers.due).as("the interval timer re-arms").hasSize(1);
    }
  }

  @Test
  void flushWithNothingBufferedReturnsAtOnce() throws Exception {
    ScriptedWriter w = new ScriptedWriter();
    try (InfluxSinkWriter sink = writer(w, 2, 2, 60_000)) {
      long t0 = System.nanoTime();
      sink.flush(false);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(1000);
      assertThat(w.calls.get()).isZero();
    }
  }
}
