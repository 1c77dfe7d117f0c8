"""trainwatch.watch on plain PyTorch: every captured metric against a direct computation."""

import json
import math
import os
import sys
import tempfile
import unittest

from frameworks import need, needs

torch = need("torch")
if torch is not None:
    import torch.nn.functional as F
    import trainwatch
    from trainwatch.capture import Every
    from trainwatch.torch_metrics import logit_stats
    from tinymodels import EncoderLM, TinyLM, direct_attention


_PKG = os.path.dirname(os.path.realpath(trainwatch.__file__)) + os.sep if torch is not None else ""


def read(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


class SyncCounter:
    """Counts trainwatch's calls that move a tensor's value to the host (a sync on a GPU each).

    Calls from elsewhere (AdamW reads its step counters with .item() on CPU) are not counted.
    """

    NAMES = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__")

    def __enter__(self):
        self.calls = []
        self._orig = {}
        for n in self.NAMES:
            orig = getattr(torch.Tensor, n)
            self._orig[n] = orig

            def wrapped(t, *a, _orig=orig, _n=n, **k):
                caller = os.path.realpath(sys._getframe(1).f_code.co_filename)
                if caller.startswith(_PKG):
                    self.calls.append(_n)
                return _orig(t, *a, **k)
            setattr(torch.Tensor, n, wrapped)
        return self

    def __exit__(self, *exc):
        for n, orig in self._orig.items():
            setattr(torch.Tensor, n, orig)


@needs("torch")
class PlainLoopCaptureTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "t.jsonl")

    def tearDown(self):
        self.dir.cleanup()

    def test_every_metric_equals_a_direct_computation(self):
        torch.manual_seed(0)
        model = TinyLM(vocab=64, d=32, heads=2, layers=2)
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
        tw = trainwatch.watch(model, opt, run="cap", path=self.path, every=Every.always(),
                              config={"lr": 3e-3, "model": {"layers": 2}})
        direct = {}
        for step in range(1, 6):
            x = torch.randint(0, 64, (4, 16))
            y = torch.randint(0, 64, (4, 16))
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, 64), y.reshape(-1))
            loss.backward()
            with torch.no_grad():
                d = {"loss": float(loss), "lr": opt.param_groups[0]["lr"]}
                g = torch.cat([p.grad.reshape(-1).double() for p in model.parameters()])
                w = torch.cat([p.reshape(-1).double() for p in model.parameters()])
                d["grad_norm"] = float(g.norm())  # before clipping
                d["param_norm"] = float(w.norm())
                d["grad_weight_cos"] = float(-(g @ w) / (g.norm() * w.norm()))
                d.update(logit_stats(logits, y))
                hidden = model.hidden(x)
                per_layer = [direct_attention(*model.blocks[i].qk(hidden[i][:2])) for i in range(2)]
                before = w.clone()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.05)  # clips: the norms differ after
            opt.step()
            opt.zero_grad()
            with torch.no_grad():
                after = torch.cat([p.reshape(-1).double() for p in model.parameters()])
                d["update_ratio"] = float((after - before).norm() / after.norm())
            d["attn"] = per_layer
            direct[step] = d
            tw.step(loss, labels=y)
        tw.close()
        recs = read(self.path)
        self.assertEqual(recs[0]["event"], "run_start")
        tags = recs[0]["tags"]
        self.assertEqual((tags["framework"], tags["model"], tags["optimizer"], tags["dtype"]),
                         ("torch", "TinyLM", "AdamW", "float32"))
        self.assertEqual((tags["config.lr"], tags["config.model.layers"]), ("0.003", "2"))
        self.assertEqual(recs[-1]["event"], "run_end")
        steps = {r["step"]: r for r in recs if "metrics" in r}
        self.assertEqual(sorted(steps), [1, 2, 3, 4, 5])
        for step, d in direct.items():
            m = steps[step]["metrics"]
            for name in ("loss", "lr", "grad_norm", "param_norm", "grad_weight_cos", "update_ratio",
                         "logits/max_abs", "logits/margin_mean", "logits/lse_mean"):
                self.assertAlmostEqual(m[name], d[name], delta=2e-5 * max(1.0, abs(d[name])),
                                       msg="%s at step %d" % (name, step))
            self.assertEqual(m["logits/zero_loss_frac"], d["logits/zero_loss_frac"])
            self.assertEqual(m["logits/absorbed_frac"], d["logits/absorbed_frac"])
            self.assertGreater(m["grad_norm"], 0.05 * 1.5, "the norm before clipping, not after")
            for i, (mx, ent) in enumerate(d["attn"]):
                self.assertAlmostEqual(m["attn/max_logit/%d" % i], mx, places=4)
                self.assertAlmostEqual(m["attn/entropy_min/%d" % i], ent, places=4)
            self.assertAlmostEqual(m["attn/max_logit"], max(mx for mx, _ in d["attn"]), places=4)
            self.assertAlmostEqual(m["attn/entropy_min"], min(e for _, e in d["attn"]), places=4)

    def test_attention_respects_the_causal_mask(self):
        torch.manual_seed(1)
        model = TinyLM(vocab=64, d=32, heads=2, layers=1)
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        tw = trainwatch.watch(model, opt, run="causal", path=self.path, every=Every.always())
        x = torch.randint(0, 64, (2, 16))
        with torch.no_grad():
            q, k = model.blocks[0].qk(model.hidden(x)[0])
        model(x).sum().backward()
        opt.step()
        tw.step(0.0)
        tw.close()
        m = [r for r in read(self.path) if "metrics" in r][0]["metrics"]
        causal = direct_attention(q, k, causal=True)
        full = direct_attention(q, k, causal=False)
        self.assertGreater(abs(causal[1] - full[1]), 0.1)  # the mask changes the entropy a lot
        self.assertAlmostEqual(m["attn/entropy_min"], causal[1], places=4)
        self.assertAlmostEqual(m["attn/max_logit"], causal[0], places=4)

    def test_transformer_encoder_layer_causal_mask_is_respected(self):
        # torch 1.13's hook dropped the attn_mask keyword: entropy 2.624 instead of 1.777
        torch.manual_seed(2)
        model = EncoderLM()
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        tw = trainwatch.watch(model, opt, run="enc", path=self.path, every=Every.always())
        x = torch.randint(0, 64, (3, 12))
        logits, hidden = model(x, return_hidden=True)
        logits.sum().backward()
        opt.step()
        tw.step(0.0)
        tw.close()
        m = [r for r in read(self.path) if "metrics" in r][0]["metrics"]
        for i, layer in enumerate(model.layers):
            with torch.no_grad():
                h = layer.norm1(hidden[i][:2])
                mha = layer.self_attn
                e = mha.embed_dim
                q = F.linear(h, mha.in_proj_weight[:e], mha.in_proj_bias[:e]).view(2, 12, 2, -1).transpose(1, 2)
                k = F.linear(h, mha.in_proj_weight[e:2 * e], mha.in_proj_bias[e:2 * e]).view(2, 12, 2, -1).transpose(1, 2)
            mx, ent = direct_attention(q, k, causal=True)
            self.assertAlmostEqual(m["attn/max_logit/%d" % i], mx, places=4)
            self.assertAlmostEqual(m["attn/entropy_min/%d" % i], ent, places=4)

    def test_multihead_attention_with_weights_is_recomputed_with_its_mask(self):
        torch.manual_seed(3)
        mha = torch.nn.MultiheadAttention(16, 2, batch_first=True)
        model = torch.nn.ModuleDict({"attn": mha, "head": torch.nn.Linear(16, 5)})
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        tw = trainwatch.watch(model, opt, run="mha", path=self.path, every=Every.always(), head=model["head"])
        x = torch.randn(2, 6, 16) * 3
        mask = torch.ones(6, 6, dtype=torch.bool).triu(1)  # MHA: True = masked out
        tw.capture.arm_forward()  # ModuleDict has no forward of its own: arm by hand
        out, weights = mha(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False)
        tw.capture.disarm_forward()
        model["head"](out).sum().backward()
        opt.step()
        tw.step(0.0)
        tw.close()
        m = [r for r in read(self.path) if "metrics" in r][0]["metrics"]
        w = weights.detach().double()
        ent = (-(w * torch.log(w.clamp_min(1e-300))).sum(-1)).mean(dim=(0, 2)).min()
        self.assertAlmostEqual(m["attn/entropy_min"], float(ent), places=4)

    def test_one_host_sync_per_logged_step(self):
        torch.manual_seed(0)
        model = TinyLM()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        tw = trainwatch.watch(model, opt, run="sync", path=self.path, every=Every.always())
        counts = []
        for _ in range(3):
            x = torch.randint(0, 64, (4, 16))
            y = torch.randint(0, 64, (4, 16))
            loss = F.cross_entropy(model(x).reshape(-1, 64), y.reshape(-1))
            with SyncCounter() as sc:
                loss.backward()
                opt.step()
                opt.zero_grad()
                tw.step(loss, labels=y)  # everything sampled, raw logit rows included
            counts.append(sc.calls)
        tw.close()
        for calls in counts:
            self.assertEqual(sorted(calls), ["cpu", "tolist"], calls)  # one .cpu().tolist()

    def test_sampling_intervals(self):
        torch.manual_seed(0)
        model = TinyLM()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        tw = trainwatch.watch(model, opt, run="every", path=self.path,
                              every=Every(scalars=1, update_ratio=2, logits=3, logits_sample=4, attention=5))
        for _ in range(10):
            x = torch.randint(0, 64, (2, 8))
            loss = F.cross_entropy(model(x).reshape(-1, 64), x.reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad()
            tw.step(loss, labels=x)
        tw.close()
        recs = {r["step"]: r for r in read(self.path) if "metrics" in r}
        self.assertEqual([s for s in recs if "update_ratio" in recs[s]["metrics"]], [2, 4, 6, 8, 10])
        self.assertEqual([s for s in recs if "logits/max_abs" in recs[s]["metrics"]], [3, 6, 9])
        self.assertEqual([s for s in recs if "logits" in recs[s]], [4, 8])
        self.assertEqual([s for s in recs if "attn/max_logit" in recs[s]["metrics"]], [5, 10])
        self.assertTrue(all("grad_norm" in r["metrics"] and "loss" in r["metrics"] for r in recs.values()))
        sample = recs[4]["logits"]
        self.assertEqual((sample["dtype"], len(sample["rows"]), len(sample["rows"][0])), ("float32", 4, 64))

    def test_loss_scale_and_grad_norm_under_a_grad_scaler(self):
        torch.manual_seed(0)
        model = TinyLM()
        opt = torch.optim.SGD(model.parameters(), lr=1e-2)
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
        tw = trainwatch.watch(model, opt, run="amp", path=self.path, every=Every.always(), scaler=scaler)
        x = torch.randint(0, 64, (2, 8))
        loss = F.cross_entropy(model(x).reshape(-1, 64), x.reshape(-1))
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        direct = float(torch.cat([p.grad.reshape(-1).double() for p in model.parameters()]).norm())
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        tw.step(loss, labels=x)
        tw.close()
        m = [r for r in read(self.path) if "metrics" in r][0]["metrics"]
        self.assertEqual(m["loss_scale"], 1024.0)
        self.assertAlmostEqual(m["grad_norm"], direct, delta=1e-5 * direct)

    def test_nothing_to_hook_is_said_once(self):
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            tw = trainwatch.watch(model, opt, run="mlp", path=self.path, every=Every.always())
            for _ in range(3):
                x, y = torch.randn(5, 4), torch.randint(0, 3, (5,))
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                opt.zero_grad()
                tw.step(loss, labels=y)
            tw.close()
        attn = [l for l in logs.output if "attention" in l]
        self.assertEqual(len(attn), 1, logs.output)
        self.assertIn("Sequential", attn[0])
        m = [r for r in read(self.path) if "metrics" in r][0]["metrics"]
        self.assertIn("logits/absorbed_frac", m)  # the last Linear is the head
        self.assertNotIn("attn/max_logit", m)

    def test_a_loop_that_never_calls_step_is_told(self):
        model = torch.nn.Linear(4, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with self.assertLogs("trainwatch", level="WARNING") as logs:
            tw = trainwatch.watch(model, opt, run="nostep", path=self.path, attention=False)
            for _ in range(4):
                model(torch.randn(2, 4)).sum().backward()
                opt.step()
                opt.zero_grad()
            tw.close()
        self.assertEqual(len([l for l in logs.output if "without Watch.step" in l]), 1, logs.output)


if __name__ == "__main__":
    unittest.main()
