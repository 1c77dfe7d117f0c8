package dev.trainwatch.jobs.detect.instability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RobustWindowTest {

  /** Median as the definition has it: sort, take the middle (or the mean of the two middles). */
  private static double sortedMedian(float[] values) {
    float[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }

  @Test
  void medianAndSigmaEqualTheSortedDefinitionOnEveryFillAndWithTies() {
    SplittableRandom random = new SplittableRandom(11);
    for (int trial = 0; trial < 2_000; trial++) {
      RobustWindow w = new RobustWindow();
      int adds = 1 + random.nextInt(3 * RobustWindow.CAPACITY);
      // coarse values make ties common (a flat loss, a repeated grad norm); fine ones make none
      boolean coarse = random.nextBoolean();
      float[] all = new float[adds];
      for (int i = 0; i < adds; i++) {
        double x = coarse ? random.nextInt(5) - 2 : random.nextGaussian() * 3;
        w.add(x);
        all[i] = (float) x;
      }
      float[] held = Arrays.copyOfRange(all, Math.max(0, adds - RobustWindow.CAPACITY), adds);
      double median = sortedMedian(held);
      float[] dev = new float[held.length];
      for (int i = 0; i < held.length; i++) {
        dev[i] = (float) Math.abs(held[i] - median);
      }
      assertThat(w.median()).as("trial %d, %d values", trial, held.length).isEqualTo(median);
      assertThat(w.sigma(median)).isEqualTo(1.4826 * sortedMedian(dev));
    }
  }

  @Test
  void selectFindsTheKthSmallestAndPartitionsAroundIt() {
    float[] a = {5, 1, 4, 1, 3, 9, 2, 6, 5, 3};
    for (int k = 0; k < a.length; k++) {
      float[] v = a.clone();
      float kth = RobustWindow.select(v, v.length, k);
      float[] sorted = a.clone();
      Arrays.sort(sorted);
      assertThat(kth).isEqualTo(sorted[k]);
      for (int i = 0; i < k; i++) {
        assertThat(v[i]).isLessThanOrEqualTo(kth);
      }
      for (int i = k + 1; i < v.length; i++) {
        assertThat(v[i]).isGreaterThanOrEqualTo(kth);
      }
    }
  }

  @Test
  void anEmptyWindowHasNoMedian() {
    assertThat(new RobustWindow().median()).isNaN();
  }
}
