"""trainwatch under Hugging Face transformers: a 2-layer GPT-2 from a local config (no download).

The Trainer callback's loss, grad_norm (before clipping) and lr equal what the Trainer itself
logs; param_norm, update_ratio and the logit statistics equal direct computations; GPT-2's
attention statistics equal those of its own attention probabilities (eager and sdpa) with the
causal mask; a critical alert sets control.should_training_stop.
"""

import json
import os
import tempfile
import time
import unittest

from fakesidecar import FakeSidecar
from frameworks import need, needs

torch = need("torch")
transformers = need("transformers")

if transformers is not None:
    from transformers import Trainer, TrainerCallback, TrainingArguments
    from trainwatch import StopOnCritical
    from trainwatch.attention import AttentionCapture
    from trainwatch.capture import Every
    from trainwatch.huggingface import TrainwatchCallback, eval_metric_name
    from trainwatch.torch_metrics import logit_stats
    from tinymodels import direct_attention, gpt2

    class Direct(TrainerCallback):
        def __init__(self, model):
            self.by_step = {}
            self.cur = {}
            model.register_forward_hook(self._out, with_kwargs=True)

        def _out(self, mod, args, kwargs, output):
            if mod.training:
                logits, labels = output.logits.detach(), kwargs["labels"]
                self.cur.update(logit_stats(logits[:, :-1], labels[:, 1:]))

        def on_pre_optimizer_step(self, args, state, control, model=None, optimizer=None, **kw):
            with torch.no_grad():
                self.before = torch.cat([p.reshape(-1).double() for p in model.parameters()])
                self.cur["param_norm"] = float(self.before.norm())

        def on_optimizer_step(self, args, state, control, model=None, **kw):
            with torch.no_grad():
                w = torch.cat([p.reshape(-1).double() for p in model.parameters()])
                self.cur["update_ratio"] = float((w - self.before).norm() / w.norm())
            self.by_step[state.global_step + 1] = self.cur
            self.cur = {}


def dataset(n, t=16, vocab=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (n, t), generator=g)
    return [{"input_ids": ids[i], "labels": ids[i].clone()} for i in range(n)]


@needs("torch", "transformers")
class HuggingFaceTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "t.jsonl")

    def tearDown(self):
        self.dir.cleanup()

    def args(self, steps, **kw):
        return TrainingArguments(output_dir=self.dir.name, max_steps=steps, per_device_train_batch_size=4,
                                 learning_rate=3e-3, warmup_steps=2, lr_scheduler_type="linear",
                                 max_grad_norm=0.05, logging_steps=1, report_to=[], save_strategy="no",
                                 use_cpu=True, disable_tqdm=True, dataloader_num_workers=0, seed=0, **kw)

    def test_trainer_metrics_equal_the_trainers_own_and_direct_computations(self):
        torch.manual_seed(0)
        model = gpt2()
        direct = Direct(model)
        cb = TrainwatchCallback(run="hf", path=self.path, every=Every.always())
        trainer = Trainer(model=model, args=self.args(5), train_dataset=dataset(20), callbacks=[cb, direct])
        trainer.train()
        with open(self.path) as f:
            recs = [json.loads(l) for l in f]
        self.assertEqual(recs[0]["event"], "run_start")
        tags = recs[0]["tags"]
        self.assertEqual((tags["framework"], tags["model"], tags["config.model.n_layer"], tags["precision"]),
                         ("transformers", "GPT2LMHeadModel", "2", "fp32"))
        steps = {r["step"]: r["metrics"] for r in recs if "metrics" in r}
        self.assertEqual(sorted(steps), [1, 2, 3, 4, 5])
        hf = {h["step"]: h for h in trainer.state.log_history if "loss" in h}
        for step in range(1, 6):
            m, h, d = steps[step], hf[step], direct.by_step[step]
            self.assertAlmostEqual(m["loss"], h["loss"], delta=1e-5 * h["loss"])
            self.assertAlmostEqual(m["grad_norm"], h["grad_norm"], delta=1e-5 * h["grad_norm"])
            self.assertGreater(m["grad_norm"], 0.05 * 1.5, "before clipping")
            self.assertAlmostEqual(m["lr"], h["learning_rate"], delta=1e-12)
            for name in ("param_norm", "update_ratio", "logits/max_abs", "logits/margin_mean",
                         "logits/lse_mean", "logits/absorbed_frac", "logits/zero_loss_frac"):
                self.assertAlmostEqual(m[name], d[name], delta=2e-5 * max(1.0, abs(d[name])),
                                       msg="%s at step %d" % (name, step))
            self.assertIn("attn/max_logit/1", m)
            self.assertIn("attn/entropy_min/1", m)
        self.assertEqual(recs[-1]["event"], "run_end")

    def test_gpt2_attention_statistics_equal_its_own_attention_probabilities(self):
        torch.manual_seed(0)
        eager = gpt2(attn="eager")
        with torch.no_grad():  # larger logits, so that a missed causal mask would show
            for blk in eager.transformer.h:
                blk.attn.c_attn.weight.mul_(4.0)
        sdpa = gpt2(attn="sdpa")
        sdpa.load_state_dict(eager.state_dict())
        ids = torch.randint(0, 64, (3, 16))
        results = {}
        for name, model in (("eager", eager), ("sdpa", sdpa)):
            model.train()
            cap = AttentionCapture(model, rows=2)
            cap.arm()
            out = model(ids, output_attentions=(name == "eager"))
            cap.disarm()
            results[name] = [(float(mx), float(ent)) for _, mx, ent in cap.take()]
            if name == "eager":
                probs = [a[:2].detach().double() for a in out.attentions]
        self.assertEqual(len(results["eager"]), 2)
        for i, p in enumerate(probs):
            self.assertTrue(torch.all(p.triu(1) == 0))  # GPT-2 is causal ...
            ent = (-(p * torch.log(p.clamp_min(1e-300))).sum(-1)).mean(dim=(0, 2)).min()
            self.assertAlmostEqual(results["eager"][i][1], float(ent), places=4)  # ... and so are we
            self.assertAlmostEqual(results["sdpa"][i][1], float(ent), places=4)
            self.assertAlmostEqual(results["sdpa"][i][0], results["eager"][i][0], places=4)
        with torch.no_grad():  # the same layer without the mask gives other numbers
            h = eager.transformer.wte(ids[:2]) + eager.transformer.wpe(torch.arange(16))
            h = eager.transformer.h[0].ln_1(h)
            q, k, _ = eager.transformer.h[0].attn.c_attn(h).split(32, dim=2)
            q, k = (z.view(2, 16, 2, 16).transpose(1, 2) for z in (q, k))
        causal, full = direct_attention(q, k, causal=True), direct_attention(q, k, causal=False)
        self.assertAlmostEqual(results["eager"][0][0], causal[0], places=4)
        self.assertGreater(abs(causal[1] - full[1]), 0.05)

    def test_a_critical_alert_sets_control_should_training_stop(self):
        sidecar = FakeSidecar()
        try:
            cb = TrainwatchCallback(run="hf-stop", url=sidecar.url, policies=[StopOnCritical()])

            class Publish(TrainerCallback):
                def on_step_end(self, args, state, control, **kw):
                    if state.global_step == 3:
                        sidecar.publish("hf-stop", detector="divergence")
                    time.sleep(0.02)
            trainer = Trainer(model=gpt2(), args=self.args(300), train_dataset=dataset(1200),
                              callbacks=[cb, Publish()])
            with self.assertLogs("trainwatch", level="WARNING") as logs:
                trainer.train()
            self.assertLess(trainer.state.global_step, 300)
            self.assertTrue(any("stopping the run" in l for l in logs.output))
        finally:
            sidecar.close()

    def test_evaluate_metrics_are_named_for_continual_learning(self):
        self.assertEqual(eval_metric_name("eval_t0_accuracy"), "eval/acc/t0")
        self.assertEqual(eval_metric_name("eval_accuracy"), "eval/acc")
        self.assertEqual(eval_metric_name("eval_loss"), "eval/loss")
        self.assertIsNone(eval_metric_name("eval_runtime"))


if __name__ == "__main__":
    unittest.main()
