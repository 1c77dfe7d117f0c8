package dev.trainwatch.jobs.detect.stabilitygap;

import dev.trainwatch.jobs.detect.AlertLatch;
import dev.trainwatch.wire.Family;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Everything trainwatch keeps about one task of a continual-learning run: the last {@value #WINDOW}
 * accuracies of {@code eval/acc/<task>}, the continual-evaluation metrics of De Lange et al. (2023)
 * for this task, the open stability-gap episode and its alert.
 *
 * <p>Why 16-bit fixed point: WF^100 needs the last 100 evaluations of every task. As {@code float}
 * that is 400 bytes a task, 4 KB for a 10-task run; accuracy in [0, 1] stored as an unsigned 16-bit
 * fraction (resolution 1.5e-5, a thousand times finer than the ~1.4 point standard error of a
 * 1000-sample eval set) halves that, and only the filled part of the ring is checkpointed. An exact
 * sliding-window maximum needs the window in the worst case (a monotonically falling series), so a
 * streaming deque would not be smaller.
 *
 * <p>Metric definitions, per task j (evaluations counted per task, so the windows follow the eval
 * cadence, not the step count):
 *
 * <ul>
 *   <li>{@code minAcc}: min-ACC_j, the lowest accuracy after j was learned (after the first switch
 *       away from j);
 *   <li>{@code wf10}, {@code wf100}: the largest drop A_a - A_b, a before b, with b after j was
 *       learned and a within the last 10 (100) evaluations of j;
 *   <li>{@code wp10}, {@code wp100}: the largest rise A_b - A_a inside the same windows, with b
 *       taken while j was the task being trained (plasticity).
 * </ul>
 */
final class TaskTrack {

  /** Evaluations kept per task: the larger window of WF^w and WP^w. */
  static final int WINDOW = 100;

  static final int SHORT_WINDOW = 10;
  private static final double SCALE = 65535.0;

  final String name;
  final AlertLatch latch;
  final GapEpisode episode = new GapEpisode();

  /** The task was trained and then left: its later evaluations measure forgetting. */
  boolean learned;

  /** Evaluations were taken while this task was the one being trained. */
  boolean trained;

  private final char[] ring = new char[WINDOW];
  private int head; // next write position
  private int filled;
  private long evals;
  float last = Float.NaN;
  float minAcc = Float.NaN;
  float wf10;
  float wf100;
  float wp10;
  float wp100;

  TaskTrack(String name) {
    this.name = name;
    this.latch = new AlertLatch(Family.STABILITY_GAP, OldTaskDropDetector.NAME, name);
  }

  /** True when {@code metric} is exactly {@code eval/acc/<name>}, without allocating. */
  boolean isMetric(String metric, int prefixLength) {
    return metric.length() == prefixLength + name.length()
        && metric.regionMatches(prefixLength, name, 0, name.length());
  }

  long evals() {
    return evals;
  }

  int filled() {
    return filled;
  }

  /** Records one evaluation and updates the windowed metrics; {@code current}: task in training. */
  void add(double acc, boolean current) {
    if (filled > 0 && (current || learned)) {
      updateWindowed(acc, current);
    }
    if (learned && !current && !(acc >= minAcc)) {
      minAcc = (float) acc;
    }
    if (current) {
      trained = true;
    }
    ring[head] = (char) Math.round(acc * SCALE);
    head = (head + 1) % WINDOW;
    filled = Math.min(filled + 1, WINDOW);
    evals++;
    last = (float) acc;
  }

  private void updateWindowed(double acc, boolean current) {
    // The windows end at this evaluation, so they hold up to w - 1 earlier ones. With a
    // full ring that is every slot but the oldest (at head); scanned as plain array runs,
    // without per-element modulo, because this runs for every task on every eval record.
    int max100 = 0;
    int min100 = Character.MAX_VALUE;
    for (int i = 0; i < filled; i++) {
      if (i != head || filled < WINDOW) {
        int q = ring[i];
        max100 = Math.max(max100, q);
        min100 = Math.min(min100, q);
      }
    }
    int max10 = 0;
    int min10 = Character.MAX_VALUE;
    int n = Math.min(filled, SHORT_WINDOW - 1);
    for (int i = 0, j = head; i < n; i++) {
      j = j == 0 ? WINDOW - 1 : j - 1;
      int q = ring[j];
      max10 = Math.max(max10, q);
      min10 = Math.min(min10, q);
    }
    if (current) {
      wp10 = (float) Math.max(wp10, acc - min10 / SCALE);
      wp100 = (float) Math.max(wp100, acc - min100 / SCALE);
    } else {
      wf10 = (float) Math.max(wf10, max10 / SCALE - acc);
      wf100 = (float) Math.max(wf100, max100 / SCALE - acc);
    }
  }

  /** The i-th most recent stored accuracy, i = 1 the latest. */
  double get(int i) {
    return ring[Math.floorMod(head - i, WINDOW)] / SCALE;
  }

  /** Mean of the last {@code n} evaluations (fewer if fewer were taken), NaN if none. */
  double mean(int n) {
    int m = Math.min(n, filled);
    double s = 0;
    for (int i = 1; i <= m; i++) {
      s += get(i);
    }
    return m == 0 ? Double.NaN : s / m;
  }

  /**
   * Eval-to-eval noise of the last {@code n} evaluations: the mean-square successive difference
   * estimator sqrt(mean((x_i - x_{i-1})^2) / 2), which ignores slow trends (a task still learning)
   * that a plain standard deviation would count as noise. 0 if fewer than 3 evaluations.
   */
  double noise(int n) {
    int m = Math.min(n, filled);
    if (m < 3) {
      return 0;
    }
    double s = 0;
    for (int i = 1; i < m; i++) {
      double d = get(i) - get(i + 1);
      s += d * d;
    }
    return Math.sqrt(s / (m - 1) / 2);
  }

  void write(DataOutput out) throws IOException {
    out.writeUTF(name);
    out.writeByte((learned ? 1 : 0) | (trained ? 2 : 0));
    out.writeLong(evals);
    out.writeByte(filled);
    for (int i = filled; i >= 1; i--) {
      out.writeChar(ring[Math.floorMod(head - i, WINDOW)]);
    }
    out.writeFloat(last);
    out.writeFloat(minAcc);
    out.writeFloat(wf10);
    out.writeFloat(wf100);
    out.writeFloat(wp10);
    out.writeFloat(wp100);
    episode.write(out);
    latch.write(out);
  }

  static TaskTrack read(DataInput in) throws IOException {
    TaskTrack t = new TaskTrack(in.readUTF());
    int flags = in.readByte();
    t.learned = (flags & 1) != 0;
    t.trained = (flags & 2) != 0;
    t.evals = in.readLong();
    t.filled = in.readUnsignedByte();
    for (int i = 0; i < t.filled; i++) {
      t.ring[i] = in.readChar();
    }
    t.head = t.filled % WINDOW;
    t.last = in.readFloat();
    t.minAcc = in.readFloat();
    t.wf10 = in.readFloat();
    t.wf100 = in.readFloat();
    t.wp10 = in.readFloat();
    t.wp100 = in.readFloat();
    t.episode.read(in);
    t.latch.read(in);
    return t;
  }
}
