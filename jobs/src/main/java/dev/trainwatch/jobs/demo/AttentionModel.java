package dev.trainwatch.jobs.demo;

/**
 * A one-layer, single-head attention classifier in float32 with hand-written backprop: token
 * plus position embeddings, the last position queries all positions, and the attended value
 * is read out to class logits. Small enough to train in milliseconds, and it has the one
 * quantity the instability detectors watch that an MLP lacks: pre-softmax attention logits
 * {@code q.k / sqrt(d)}, which grow without bound when the LR is too large (Dehghani et al.
 * 2023; Wortsman et al. 2023).
 */
final class AttentionModel {

  /** Attention statistics of the last forward batch, for {@code attn/*} metrics. */
  record AttentionStats(double maxLogit, double meanEntropy) {}

  private final int vocab;
  private final int len;
  private final int d;
  private final int classes;
  private final Params params;
  private final int emb;
  private final int pos;
  private final int wq;
  private final int wk;
  private final int wv;
  private final int wo;
  private final float scale;
  // per-batch caches for backward
  private int[] tokens;
  private float[][] x;
  private float[][] keys;
  private float[][] values;
  private float[][] queries;
  private float[][] attn;
  private float[][] out;

  AttentionModel(int vocab, int len, int d, int classes, Rng rng) {
    this.vocab = vocab;
    this.len = len;
    this.d = d;
    this.classes = classes;
    this.scale = (float) (1.0 / Math.sqrt(d));
    this.params = new Params(vocab * d + len * d + 3 * d * d + d * classes);
    float std = (float) Math.sqrt(1.0 / d);
    this.emb = params.allocate(vocab * d, 1f, rng);
    this.pos = params.allocate(len * d, 1f, rng);
    this.wq = params.allocate(d * d, std, rng);
    this.wk = params.allocate(d * d, std, rng);
    this.wv = params.allocate(d * d, std, rng);
    this.wo = params.allocate(d * classes, std, rng);
  }

  Params params() {
    return params;
  }

  /** Logits ({@code n x classes}) for {@code n} sequences of {@code len} tokens, row-major. */
  float[] forward(int[] tokens, int n) {
    this.tokens = tokens;
    x = new float[n][];
    keys = new float[n][];
    values = new float[n][];
    queries = new float[n][];
    attn = new float[n][];
    out = new float[n][];
    float[] logits = new float[n * classes];
    float[] w = params.w;
    for (int b = 0; b < n; b++) {
      float[] xb = new float[len * d];
      for (int i = 0; i < len; i++) {
        int t = tokens[b * len + i];
        for (int j = 0; j < d; j++) {
          xb[i * d + j] = w[emb + t * d + j] + w[pos + i * d + j];
        }
      }
      float[] k = new float[len * d];
      float[] v = new float[len * d];
      FloatMath.matmul(xb, len, d, w, wk, d, k);
      FloatMath.matmul(xb, len, d, w, wv, d, v);
      float[] q = new float[d];
      FloatMath.matmul(slice(xb, len - 1), 1, d, w, wq, d, q);
      float[] s = new float[len];
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < len; i++) {
        float dot = 0f;
        for (int j = 0; j < d; j++) {
          dot += q[j] * k[i * d + j];
        }
        s[i] = dot * scale;
        max = Math.max(max, s[i]);
      }
      float sum = 0f;
      for (int i = 0; i < len; i++) {
        s[i] = (float) Math.exp(s[i] - max);
        sum += s[i];
      }
      float[] o = new float[d];
      for (int i = 0; i < len; i++) {
        s[i] /= sum;
        for (int j = 0; j < d; j++) {
          o[j] += s[i] * v[i * d + j];
        }
      }
      float[] z = new float[classes];
      FloatMath.matmul(o, 1, d, w, wo, classes, z);
      System.arraycopy(z, 0, logits, b * classes, classes);
      x[b] = xb;
      keys[b] = k;
      values[b] = v;
      queries[b] = q;
      attn[b] = s;
      out[b] = o;
    }
    return logits;
  }

  /** Largest pre-softmax attention logit and mean attention entropy (nats) of the last batch. */
  AttentionStats attentionStats() {
    double maxLogit = Double.NEGATIVE_INFINITY;
    double entropy = 0;
    for (int b = 0; b < attn.length; b++) {
      for (int i = 0; i < len; i++) {
        float dot = 0f;
        for (int j = 0; j < d; j++) {
          dot += queries[b][j] * keys[b][i * d + j];
        }
        maxLogit = Math.max(maxLogit, dot * scale);
        double a = attn[b][i];
        entropy -= a > 0 ? a * Math.log(a) : 0;
      }
    }
    return new AttentionStats(maxLogit, entropy / attn.length);
  }

  /** Adds the gradient of the loss, given dLoss/dLogits of the last forward batch, to params.g. */
  void backward(float[] dlogits, int n) {
    float[] w = params.w;
    float[] g = params.g;
    for (int b = 0; b < n; b++) {
      float[] dz = slice(dlogits, b, classes);
      FloatMath.accumulateWeightGrad(out[b], 1, d, dz, classes, g, wo);
      float[] dout = FloatMath.matmulTransposed(dz, 1, classes, w, wo, d);
      float[] a = attn[b];
      float[] dv = new float[len * d];
      float[] da = new float[len];
      float dotAda = 0f;
      for (int i = 0; i < len; i++) {
        for (int j = 0; j < d; j++) {
          dv[i * d + j] = a[i] * dout[j];
          da[i] += values[b][i * d + j] * dout[j];
        }
        dotAda += a[i] * da[i];
      }
      float[] dq = new float[d];
      float[] dk = new float[len * d];
      for (int i = 0; i < len; i++) {
        float ds = a[i] * (da[i] - dotAda) * scale;
        for (int j = 0; j < d; j++) {
          dq[j] += ds * keys[b][i * d + j];
          dk[i * d + j] = ds * queries[b][j];
        }
      }
      FloatMath.accumulateWeightGrad(x[b], len, d, dv, d, g, wv);
      FloatMath.accumulateWeightGrad(x[b], len, d, dk, d, g, wk);
      FloatMath.accumulateWeightGrad(slice(x[b], len - 1), 1, d, dq, d, g, wq);
      float[] dx = FloatMath.matmulTransposed(dv, len, d, w, wv, d);
      float[] dxk = FloatMath.matmulTransposed(dk, len, d, w, wk, d);
      float[] dxq = FloatMath.matmulTransposed(dq, 1, d, w, wq, d);
      for (int i = 0; i < len; i++) {
        int t = tokens[b * len + i];
        for (int j = 0; j < d; j++) {
          float gx = dx[i * d + j] + dxk[i * d + j] + (i == len - 1 ? dxq[j] : 0f);
          g[emb + t * d + j] += gx;
          g[pos + i * d + j] += gx;
        }
      }
    }
  }

  private float[] slice(float[] rows, int row) {
    return slice(rows, row, d);
  }

  private static float[] slice(float[] rows, int row, int width) {
    float[] r = new float[width];
    System.arraycopy(rows, row * width, r, 0, width);
    return r;
  }

  int classes() {
    return classes;
  }

  int length() {
    return len;
  }

  int vocab() {
    return vocab;
  }
}
