package dev.trainwatch.jobs.detect.instability;

import dev.trainwatch.jobs.detect.RunContext;

/** The remedy sentences of the instability family, in one place so alerts stay consistent. */
final class Remedies {

  static final String ATTENTION =
      "Add qk-layernorm (or sigma-reparam) to the attention, lower the peak LR or lengthen warmup.";
  static final String OUTPUT_LOGITS =
      "Add z-loss (1e-4 * log^2 Z) to keep log Z near 0, or lower the LR.";
  static final String GRADIENT =
      "Clip gradients adaptively (Stable-SPAM style) or lower the LR; skip the offending batch if it repeats.";
  static final String LOSS_SPIKE =
      "Skip the offending batch, lower the LR or tighten gradient clipping.";
  static final String EDGE =
      "Lower the LR below 2 / sharpness (or add warmup); the loss will oscillate until it is.";
  static final String UPDATE =
      "Lower the LR (updates of a few 1e-3 of the weights per step are typical).";
  static final String LOSS_SCALE =
      "Find the overflowing op (use bf16 or fp32 for it), lower the LR or clip gradients.";
  static final String NON_FINITE =
      "Stop the run and find the first non-finite metric; lower the LR, add z-loss or qk-layernorm.";
  static final String SUDDEN =
      "Undo the LR increase (raise the LR gradually, with a warmup, if it must go up), clip gradients, and resume from before the blow-up.";
  static final String DIVERGENCE = "Resume with a lower LR, qk-layernorm and z-loss.";

  private Remedies() {}

  /** The remedy with the rollback target named when a checkpoint is known. */
  static String withRollback(String remedy, RunContext ctx) {
    return remedy + ctx.rollbackHint();
  }
}
