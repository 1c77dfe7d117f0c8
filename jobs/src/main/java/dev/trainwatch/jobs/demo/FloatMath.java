package dev.trainwatch.jobs.demo;

/**
 * The few float32 kernels the demo models need. Every accumulation is in float, in a fixed
 * order, so results are deterministic and saturate exactly like float32 training code.
 */
final class FloatMath {

  private FloatMath() {}

  /** {@code out[n x m] += a[n x k] * W[k x m]}, W read row-major from {@code w} at {@code off}. */
  static void matmul(float[] a, int n, int k, float[] w, int off, int m, float[] out) {
    for (int i = 0; i < n; i++) {
      int row = i * m;
      for (int kk = 0; kk < k; kk++) {
        float av = a[i * k + kk];
        if (av == 0f) {
          continue;
        }
        int wr = off + kk * m;
        for (int j = 0; j < m; j++) {
          out[row + j] += av * w[wr + j];
        }
      }
    }
  }

  /** {@code d[n x m] * W^T}: the gradient with respect to the layer input, {@code n x k}. */
  static float[] matmulTransposed(float[] d, int n, int m, float[] w, int off, int k) {
    float[] dx = new float[n * k];
    for (int i = 0; i < n; i++) {
      for (int kk = 0; kk < k; kk++) {
        int wr = off + kk * m;
        float s = 0f;
        for (int j = 0; j < m; j++) {
          s += d[i * m + j] * w[wr + j];
        }
        dx[i * k + kk] = s;
      }
    }
    return dx;
  }

  /** {@code g[off + (k x m)] += a^T * d}: the weight gradient of {@code out = a * W}. */
  static void accumulateWeightGrad(float[] a, int n, int k, float[] d, int m, float[] g, int off) {
    for (int i = 0; i < n; i++) {
      for (int kk = 0; kk < k; kk++) {
        float av = a[i * k + kk];
        if (av == 0f) {
          continue;
        }
        int gr = off + kk * m;
        for (int j = 0; j < m; j++) {
          g[gr + j] += av * d[i * m + j];
        }
      }
    }
  }

  static void reluInPlace(float[] z) {
    for (int i = 0; i < z.length; i++) {
      if (z[i] < 0f) {
        z[i] = 0f;
      }
    }
  }

  /** Zeroes the gradient where the ReLU output was 0. */
  static void reluBackwardInPlace(float[] dx, float[] reluOut) {
    for (int i = 0; i < dx.length; i++) {
      if (reluOut[i] <= 0f) {
        dx[i] = 0f;
      }
    }
  }

  static double sumSquares(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    return s;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}
