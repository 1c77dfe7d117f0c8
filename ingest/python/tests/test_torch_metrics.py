"""torch helpers; skipped cleanly when torch is not installed."""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

if torch is not None:
    from trainwatch.torch_metrics import (AttentionStats, UpdateRatio, grad_param_stats,  # noqa: E402
                                          logit_stats, logits_sample)


@unittest.skipIf(torch is None, "torch is not installed")
class LogitStatsTest(unittest.TestCase):

    def test_absorption_depends_on_the_training_dtype(self):
        logits = torch.tensor([[20.0, 0.0, 0.0], [1.0, 0.5, 0.0]])
        labels = torch.tensor([0, 0])
        f32 = logit_stats(logits, labels)
        f64 = logit_stats(logits.double(), labels)
        self.assertEqual(f32["logits/absorbed_frac"], 0.5)  # exp(-20) vanishes beside 1 in float32
        self.assertEqual(f64["logits/absorbed_frac"], 0.0)
        self.assertEqual(f32["logits/max_abs"], 20.0)
        self.assertAlmostEqual(f32["logits/margin_mean"], (20.0 + 0.5) / 2)

    def test_zero_loss_fraction_and_log_z(self):
        logits = torch.tensor([[200.0, 0.0], [0.0, 0.0]])
        labels = torch.tensor([0, 1])
        s = logit_stats(logits, labels)
        self.assertEqual(s["logits/zero_loss_frac"], 0.5)
        self.assertAlmostEqual(s["logits/lse_mean"], (200.0 + math.log(2)) / 2, places=5)

    def test_bfloat16_saturates_earlier_than_float32(self):
        logits = torch.tensor([[8.0, 0.0]])
        labels = torch.tensor([0])
        self.assertEqual(logit_stats(logits.bfloat16(), labels)["logits/absorbed_frac"], 1.0)
        self.assertEqual(logit_stats(logits, labels)["logits/absorbed_frac"], 0.0)

    def test_logits_sample_matches_the_wire_format(self):
        s = logits_sample(torch.randn(10, 5).half(), torch.arange(10) % 5, rows=3)
        self.assertEqual(s["dtype"], "float16")
        self.assertEqual(len(s["rows"]), 3)
        self.assertEqual(s["labels"], [0, 1, 2])


@unittest.skipIf(torch is None, "torch is not installed")
class GradientStatsTest(unittest.TestCase):

    def test_norms_and_cosine_of_a_step_that_only_shrinks_the_weights(self):
        w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
        (0.5 * (w * w).sum()).backward()  # grad = w: -grad points at -w
        s = grad_param_stats([w])
        self.assertAlmostEqual(s["param_norm"], 5.0)
        self.assertAlmostEqual(s["grad_norm"], 5.0)
        self.assertAlmostEqual(s["grad_weight_cos"], -1.0)

    def test_update_ratio(self):
        model = torch.nn.Linear(4, 1, bias=False)
        with torch.no_grad():
            model.weight.fill_(1.0)
        ur = UpdateRatio(model)
        ur.before()
        with torch.no_grad():
            model.weight.mul_(1.1)
        self.assertAlmostEqual(ur.after()["update_ratio"], 0.1 / 1.1, places=6)


@unittest.skipIf(torch is None, "torch is not installed")
class AttentionStatsTest(unittest.TestCase):

    def test_hook_reproduces_the_softmax_weights_of_multihead_attention(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential()
        mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        model.add_module("l0", mha)
        stats = AttentionStats(model)
        x = torch.randn(3, 5, 8) * 3
        _, weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
        out = stats.collect()
        ent = -(weights * weights.clamp_min(1e-30).log()).sum(-1).mean(dim=(0, 2))
        self.assertAlmostEqual(out["attn/entropy_min"], float(ent.min()), places=4)
        self.assertIn("attn/max_logit/l0", out)
        self.assertEqual(out["attn/max_logit"], out["attn/max_logit/l0"])
        self.assertEqual(stats.collect(), {})
        stats.remove()

    @unittest.skipIf(torch is not None and int(torch.__version__.split(".")[0]) < 2, "torch 1.x hides keywords")
    def test_the_causal_mask_of_a_transformer_encoder_layer_is_respected(self):
        # the mask arrives as a keyword: torch 1.13's hook dropped it (entropy 2.624 vs 1.777)
        torch.manual_seed(2)
        layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        model = torch.nn.ModuleList([layer])
        stats = AttentionStats(model)
        x = torch.randn(2, 10, 16) * 2
        mask = torch.nn.Transformer.generate_square_subsequent_mask(10)
        layer(x, src_mask=mask, is_causal=True)
        out = stats.collect()
        mha, e = layer.self_attn, 16
        with torch.no_grad():
            q = torch.nn.functional.linear(x, mha.in_proj_weight[:e], mha.in_proj_bias[:e]).view(2, 10, 2, 8).transpose(1, 2)
            k = torch.nn.functional.linear(x, mha.in_proj_weight[e:2 * e], mha.in_proj_bias[e:2 * e]).view(2, 10, 2, 8).transpose(1, 2)
            s = (q @ k.transpose(-2, -1)) / math.sqrt(8) + mask
            p = torch.softmax(s.double(), dim=-1)
            ent = (-(p * torch.log(p.clamp_min(1e-300))).sum(-1)).mean(dim=(0, 2)).min()
        self.assertAlmostEqual(out["attn/entropy_min"], float(ent), places=5)
        self.assertAlmostEqual(out["attn/max_logit"], float(s[torch.isfinite(s)].max()), places=4)

    def test_observe_takes_custom_scores(self):
        stats = AttentionStats()
        stats.observe("blk3", torch.tensor([[[[0.0, 0.0], [50.0, 0.0]]]]))
        out = stats.collect()
        self.assertEqual(out["attn/max_logit"], 50.0)
        self.assertAlmostEqual(out["attn/entropy_min"], math.log(2) / 2, places=6)


if __name__ == "__main__":
    unittest.main()
