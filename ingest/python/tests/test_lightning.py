"""TrainwatchCallback under the real Lightning Trainer: metrics equal direct computations,
and a critical alert stops the run through trainer.should_stop."""

import json
import os
import tempfile
import time
import unittest

from fakesidecar import FakeSidecar
from frameworks import need, needs

torch = need("torch")
L = need("lightning.pytorch")

if L is not None:
    import torch.nn.functional as F
    from trainwatch import StopOnCritical
    from trainwatch.capture import Every
    from trainwatch.lightning import TrainwatchCallback
    from trainwatch.torch_metrics import logit_stats
    from tinymodels import TinyLM, direct_attention

    class LitLM(L.LightningModule):
        def __init__(self, lr=3e-3):
            super().__init__()
            self.save_hyperparameters()
            self.lm = TinyLM(vocab=64, d=32, heads=2, layers=2)
            self.last_logits = None

        def forward(self, x):
            return self.lm(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            logits = self(x)
            self.last_logits = logits.detach()
            return F.cross_entropy(logits.reshape(-1, 64), y.reshape(-1))

        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.1)

    class Direct(L.Callback):
        """Computes every metric directly, at the points where it is defined."""

        def __init__(self):
            self.by_step = {}

        def on_train_batch_start(self, trainer, pl, batch, batch_idx):
            x, _ = batch
            with torch.no_grad():
                hidden = pl.lm.hidden(x)
                self.cur = {"attn": [direct_attention(*pl.lm.blocks[i].qk(hidden[i][:2])) for i in range(2)]}

        def on_before_optimizer_step(self, trainer, pl, optimizer):  # before Lightning clips
            with torch.no_grad():
                g = torch.cat([p.grad.reshape(-1).double() for p in pl.parameters()])
                w = torch.cat([p.reshape(-1).double() for p in pl.parameters()])
                self.cur.update(grad_norm=float(g.norm()), param_norm=float(w.norm()),
                                lr=optimizer.param_groups[0]["lr"])
                self.before = w

        def on_train_batch_end(self, trainer, pl, outputs, batch, batch_idx):
            with torch.no_grad():
                w = torch.cat([p.reshape(-1).double() for p in pl.parameters()])
                self.cur["update_ratio"] = float((w - self.before).norm() / w.norm())
                self.cur["loss"] = float(outputs["loss"])
                self.cur.update(logit_stats(pl.last_logits, batch[1]))
            self.by_step[trainer.global_step] = self.cur


def batches(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 64, (n, 4, 16), generator=g)
    y = torch.randint(0, 64, (n, 4, 16), generator=g)
    return torch.utils.data.DataLoader([(x[i], y[i]) for i in range(n)], batch_size=None)


@needs("torch", "lightning.pytorch")
class LightningCallbackTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "t.jsonl")

    def tearDown(self):
        self.dir.cleanup()

    def trainer(self, callbacks, steps):
        return L.Trainer(max_steps=steps, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         gradient_clip_val=0.05, callbacks=callbacks, default_root_dir=self.dir.name)

    def test_every_metric_equals_a_direct_computation(self):
        torch.manual_seed(0)
        direct = Direct()
        cb = TrainwatchCallback(run="lit", path=self.path, every=Every.always())
        model = LitLM()
        self.trainer([cb, direct], 5).fit(model, train_dataloaders=batches(5))
        with open(self.path) as f:
            recs = [json.loads(l) for l in f]
        self.assertEqual(recs[0]["event"], "run_start")
        self.assertEqual(recs[0]["tags"]["framework"], "lightning")
        self.assertEqual(recs[0]["tags"]["config.lr"], "0.003")  # from hparams
        self.assertEqual(recs[-1]["event"], "run_end")
        steps = {r["step"]: r["metrics"] for r in recs if "metrics" in r}
        self.assertEqual(sorted(steps), [1, 2, 3, 4, 5])
        for step, d in direct.by_step.items():
            m = steps[step]
            for name in ("loss", "lr", "grad_norm", "param_norm", "update_ratio", "logits/max_abs",
                         "logits/margin_mean", "logits/lse_mean", "logits/absorbed_frac", "logits/zero_loss_frac"):
                self.assertAlmostEqual(m[name], d[name], delta=2e-5 * max(1.0, abs(d[name])),
                                       msg="%s at step %d" % (name, step))
            self.assertGreater(m["grad_norm"], 0.05 * 1.5, "before clipping")
            for i, (mx, ent) in enumerate(d["attn"]):
                self.assertAlmostEqual(m["attn/max_logit/%d" % i], mx, places=4)
                self.assertAlmostEqual(m["attn/entropy_min/%d" % i], ent, places=4)

    def test_a_critical_alert_sets_trainer_should_stop(self):
        sidecar = FakeSidecar()
        try:
            cb = TrainwatchCallback(run="lit-stop", url=sidecar.url, policies=[StopOnCritical()])

            class Publish(L.Callback):
                def on_train_batch_end(self, trainer, pl, outputs, batch, batch_idx):
                    if trainer.global_step == 3:
                        sidecar.publish("lit-stop", detector="divergence")
                    time.sleep(0.02)
            with self.assertLogs("trainwatch", level="WARNING") as logs:
                trainer = self.trainer([cb, Publish()], 400)
                trainer.fit(LitLM(), train_dataloaders=batches(400))
            self.assertLess(trainer.global_step, 400)
            self.assertTrue(any("stopping the run" in l for l in logs.output))
            self.assertTrue(sidecar.wait_for(lambda s: any(r.get("event") == "run_end" for r in s.records())))
        finally:
            sidecar.close()


if __name__ == "__main__":
    unittest.main()
