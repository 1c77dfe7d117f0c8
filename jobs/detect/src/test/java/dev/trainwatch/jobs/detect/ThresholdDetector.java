package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.Family;
import dev.trainwatch.wire.Severity;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;

/** A test detector: warning while metric {@code x} > 1, critical while > 10, resolved below 1. */
public final class ThresholdDetector implements Detector {

  private final AlertLatch latch = new AlertLatch(Family.INSTABILITY, "threshold");
  private long seen;

  @Override
  public String name() {
    return "threshold";
  }

  public long seen() {
    return seen;
  }

  @Override
  public void observe(TelemetryRecord r, RunContext ctx, AlertSink out) {
    seen++;
    double x = r.metrics().get("x");
    if (Double.isNaN(x)) {
      return;
    }
    if (x > 10) {
      latch.raise(
          Severity.CRITICAL, ctx, r.step(), r.timeMs(), "x > 10", "lower x", Map.of("x", x), out);
    } else if (x > 1) {
      latch.raise(
          Severity.WARNING, ctx, r.step(), r.timeMs(), "x > 1", "lower x", Map.of("x", x), out);
    } else {
      latch.resolve(ctx, r.step(), r.timeMs(), "x back below 1", Map.of("x", x), out);
    }
  }

  @Override
  public void writeState(DataOutput out) throws IOException {
    latch.write(out);
    out.writeLong(seen);
  }

  @Override
  public void readState(DataInput in, int version) throws IOException {
    latch.read(in);
    seen = in.readLong();
  }
}
