package dev.trainwatch.wire;

import java.util.List;

/**
 * The well-known metric names of the telemetry contract (docs/telemetry.md), with their meaning and
 * unit. Detectors read metrics through these constants, never through string literals, so a renamed
 * metric is one change here and the docs test ({@code MetricNamesTest}) keeps the table in
 * docs/telemetry.md equal to {@link #ALL}. Any other name is carried through and stored.
 */
public final class MetricNames {

  private MetricNames() {}

  /** One well-known metric: its name (or name prefix, ending in '/'), unit and meaning. */
  public record Name(String name, String unit, String meaning) {}

  public static final String LOSS = "loss";
  public static final String LR = "lr";
  public static final String GRAD_NORM = "grad_norm";
  public static final String PARAM_NORM = "param_norm";
  public static final String UPDATE_RATIO = "update_ratio";
  public static final String GRAD_WEIGHT_COS = "grad_weight_cos";
  public static final String LOGITS_MAX_ABS = "logits/max_abs";
  public static final String LOGITS_MARGIN_MEAN = "logits/margin_mean";
  public static final String LOGITS_LSE_MEAN = "logits/lse_mean";
  public static final String LOGITS_ZERO_LOSS_FRAC = "logits/zero_loss_frac";
  public static final String LOGITS_ABSORBED_FRAC = "logits/absorbed_frac";
  public static final String ATTN_MAX_LOGIT = "attn/max_logit";

  /** Prefix of the per-layer attention max logit: {@code attn/max_logit/<layer>}. */
  public static final String ATTN_MAX_LOGIT_LAYER = "attn/max_logit/";

  public static final String ATTN_ENTROPY_MIN = "attn/entropy_min";
  public static final String SHARPNESS = "sharpness";
  public static final String LOSS_SCALE = "loss_scale";

  /** Prefix of per-task held-out accuracy: {@code eval/acc/<task>}. */
  public static final String EVAL_ACC_TASK = "eval/acc/";

  public static final String EVAL_LOSS = "eval/loss";
  public static final String EVAL_ACC = "eval/acc";

  public static final List<Name> ALL =
      List.of(
          new Name(
              LOSS,
              "nats (cross-entropy) or the loss's own unit",
              "mean training loss of the step's batch"),
          new Name(LR, "1", "learning rate in force at the step"),
          new Name(GRAD_NORM, "gradient units", "global L2 norm of the gradient, before clipping"),
          new Name(PARAM_NORM, "parameter units", "global L2 norm of the parameters"),
          new Name(UPDATE_RATIO, "1", "L2 norm of the parameter update divided by `param_norm`"),
          new Name(
              GRAD_WEIGHT_COS,
              "1, in [-1, 1]",
              "cosine between the negative gradient and the parameter vector (1 means the step only scales the weights)"),
          new Name(LOGITS_MAX_ABS, "logit units", "largest absolute logit in the batch"),
          new Name(LOGITS_MARGIN_MEAN, "nats", "mean over samples of (top-1 logit - top-2 logit)"),
          new Name(LOGITS_LSE_MEAN, "nats", "mean over samples of logsumexp of the logits (log Z)"),
          new Name(
              LOGITS_ZERO_LOSS_FRAC,
              "fraction in [0, 1]",
              "fraction of samples whose per-sample loss, computed in the training dtype, is exactly 0"),
          new Name(
              LOGITS_ABSORBED_FRAC,
              "fraction in [0, 1]",
              "fraction of samples whose softmax probability of the true class is exactly 1.0 in the training dtype"),
          new Name(
              ATTN_MAX_LOGIT,
              "logit units",
              "largest pre-softmax attention logit over all layers and heads"),
          new Name(ATTN_MAX_LOGIT_LAYER + "<layer>", "logit units", "the same for one layer"),
          new Name(
              ATTN_ENTROPY_MIN, "nats", "smallest mean attention entropy over layers and heads"),
          new Name(
              SHARPNESS,
              "1/lr",
              "estimate of the top Hessian eigenvalue (sent on some steps only)"),
          new Name(LOSS_SCALE, "1", "mixed-precision loss scale"),
          new Name(
              EVAL_ACC_TASK + "<task>",
              "fraction in [0, 1] (values in (1, 100] read as percent)",
              "accuracy on the held-out data of task `<task>`, measured at this step"),
          new Name(EVAL_LOSS, "as `loss`", "held-out loss"),
          new Name(EVAL_ACC, "fraction in [0, 1]", "held-out accuracy"));
}
