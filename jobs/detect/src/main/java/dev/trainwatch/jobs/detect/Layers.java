package dev.trainwatch.jobs.detect;

import dev.trainwatch.wire.Metrics;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer attribution (FORMAT.md: a per-layer metric is the global name plus {@code /<layer>},
 * e.g. {@code attn/max_logit/3}, {@code grad_norm/blocks.3.attn}): which layers drive an alert.
 * Only called when an alert fires, so it may allocate.
 */
public final class Layers {

  private Layers() {}

  /**
   * The layers of {@code metric} with the largest finite values, largest first, at most {@code k},
   * keeping only those at or above {@code share} of the largest (so one dominant layer is named
   * alone). Empty when the run publishes no per-layer values.
   */
  public static List<String> top(Metrics m, String metric, int k, double share) {
    String prefix = metric + "/";
    List<int[]> idx = new ArrayList<>();
    for (int i = 0; i < m.size(); i++) {
      if (m.name(i).startsWith(prefix)
          && m.name(i).length() > prefix.length()
          && Double.isFinite(m.value(i))) {
        idx.add(new int[] {i});
      }
    }
    idx.sort((a, b) -> Double.compare(m.value(b[0]), m.value(a[0])));
    List<String> out = new ArrayList<>();
    double best = idx.isEmpty() ? 0 : m.value(idx.get(0)[0]);
    for (int[] i : idx) {
      if (out.size() >= k || m.value(i[0]) < share * best) {
        break;
      }
      out.add(m.name(i[0]).substring(prefix.length()));
    }
    return out;
  }

  /** " (layers 3, 5)" or "" when there is no per-layer attribution. */
  public static String text(List<String> layers) {
    if (layers.isEmpty()) {
      return "";
    }
    return (layers.size() == 1 ? " (layer " : " (layers ") + String.join(", ", layers) + ")";
  }
}
