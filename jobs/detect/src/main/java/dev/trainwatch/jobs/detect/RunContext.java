package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.AlertEvent;
import dev.trainwatch.wire.MetricNames;
import dev.trainwatch.wire.TelemetryRecord;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * What every detector of a run may read besides the record: the run's name, its dtype (sticky: tags
 * are usually sent on the first record only), the learning rate in force, the last checkpoint step
 * (named in remedies: roll back there), the current task, the run's tags (sticky, as many as an
 * alert carries: {@link AlertEvent#MAX_TAGS}, values cut to {@link AlertEvent#MAX_TAG_VALUE}, so
 * the state stays under 7 KB of them) and the detector settings. Updated by {@link RunMonitor}
 * before the detectors see a record.
 */
public final class RunContext {

  private final String run;
  private DetectorConfig config;
  private String dtype;
  private double lr = Double.NaN;
  private long lastCheckpointStep = -1;
  private String task;
  private long records;
  private long nowMs = -1; // processing time of the current arrival; not state
  private final TreeMap<String, String> tags = new TreeMap<>();
  private final LrPhase phase = new LrPhase();

  public RunContext(String run, DetectorConfig config) {
    this.run = run;
    this.config = config;
  }

  public String run() {
    return run;
  }

  public DetectorConfig config() {
    return config;
  }

  void setConfig(DetectorConfig config) {
    this.config = config;
  }

  /**
   * dtype of the softmax computation: {@code tags.dtype}, else the sampled logits' dtype, else
   * null.
   */
  public String dtype() {
    return dtype;
  }

  /** Learning rate last reported (NaN if never). */
  public double lr() {
    return lr;
  }

  /** Step of the last {@code checkpoint} event, or -1. */
  public long lastCheckpointStep() {
    return lastCheckpointStep;
  }

  public String task() {
    return task;
  }

  /**
   * Processing time (ms) at which the host handed this record (or this timer) to the monitor, -1
   * when there is none (off-line evaluation). Only time-driven detectors read it.
   */
  public long nowMs() {
    return nowMs;
  }

  void setNow(long nowMs) {
    this.nowMs = nowMs;
  }

  /** What the run's LR schedule is doing, updated with each record before the detectors see it. */
  public LrPhase phase() {
    return phase;
  }

  /** Number of records seen for this run, including the current one. */
  public long records() {
    return records;
  }

  /** The run's tags seen so far (alerts carry them; the alerts service labels by an allow-list). */
  public Map<String, String> tags() {
    return tags;
  }

  void update(TelemetryRecord r) {
    records++;
    if (r.tags().size() > 0) {
      r.tags()
          .asMap()
          .forEach(
              (k, v) -> {
                if (tags.size() < AlertEvent.MAX_TAGS || tags.containsKey(k)) {
                  tags.put(
                      k,
                      v.length() > AlertEvent.MAX_TAG_VALUE
                          ? v.substring(0, AlertEvent.MAX_TAG_VALUE)
                          : v);
                }
              });
    }
    String d = r.tags().get("dtype");
    if (d != null) {
      dtype = d;
    } else if (dtype == null && r.logits() != null && r.logits().dtype() != null) {
      dtype = r.logits().dtype();
    }
    double l = r.metrics().get(MetricNames.LR);
    if (Double.isFinite(l)) {
      lr = l;
    }
    if (r.isEvent(TelemetryRecord.CHECKPOINT)) {
      lastCheckpointStep = r.step();
    }
    if (r.task() != null) {
      task = r.task();
    }
    phase.update(r);
  }

  /** A remedy suffix naming the rollback target when a checkpoint is known. */
  public String rollbackHint() {
    return lastCheckpointStep >= 0
        ? " Roll back to the checkpoint at step " + lastCheckpointStep + "."
        : "";
  }

  void write(DataOutput out) throws IOException {
    writeNullable(out, dtype);
    out.writeDouble(lr);
    out.writeLong(lastCheckpointStep);
    writeNullable(out, task);
    out.writeLong(records);
    out.writeByte(
        tags.size()); // at most MAX_TAGS (16); names <= 256 and values <= 128 chars fit writeUTF
    for (Map.Entry<String, String> t : tags.entrySet()) {
      out.writeUTF(t.getKey());
      out.writeUTF(t.getValue());
    }
    phase.write(out);
  }

  /**
   * Version 1 of the run state had no tags; before version 4 the LR phase was in the detectors'
   * frames (they read it into {@link #phase()} themselves).
   */
  void read(DataInput in, int version) throws IOException {
    dtype = readNullable(in);
    lr = in.readDouble();
    lastCheckpointStep = in.readLong();
    task = readNullable(in);
    records = in.readLong();
    if (version >= 2) {
      int n = in.readUnsignedByte();
      for (int i = 0; i < n; i++) {
        tags.put(in.readUTF(), in.readUTF());
      }
    }
    if (version >= 4) {
      phase.read(in);
    }
  }

  public static void writeNullable(DataOutput out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  public static String readNullable(DataInput in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }
}
