"""Per-task evaluation accuracies (eval/acc/<task>) for continual learning."""

import json
import os
import tempfile
import unittest

from frameworks import need, needs

torch = need("torch")
L = need("lightning.pytorch")

from trainwatch.continual import TaskAccuracy, task_accuracies  # noqa: E402


class TaskAccuracyTest(unittest.TestCase):

    def test_accumulates_per_task_and_resets(self):
        acc = TaskAccuracy()
        acc.add("t0", 3, 4)
        acc.add("t0", 1, 4)
        acc.add("t1", 0, 2)
        self.assertEqual(acc.metrics(), {"eval/acc/t0": 0.5, "eval/acc/t1": 0.0})
        self.assertEqual(acc.metrics(), {})


@needs("torch")
class TaskAccuraciesTest(unittest.TestCase):

    def test_accuracy_per_task_equals_a_direct_count_and_restores_train_mode(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout(0.5))
        model.train()
        loaders = {}
        direct = {}
        for t in ("t0", "t1"):
            x, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
            loaders[t] = [(x[:10], y[:10]), (x[10:], y[10:])]
            model.eval()
            with torch.no_grad():
                direct["eval/acc/" + t] = int((model(x).argmax(-1) == y).sum()) / 20
            model.train()
        self.assertEqual(task_accuracies(model, loaders), direct)
        self.assertTrue(model.training)


@needs("torch", "lightning.pytorch")
class LightningEvalForwardingTest(unittest.TestCase):

    def test_logged_eval_metrics_reach_the_run(self):
        from trainwatch.lightning import TrainwatchCallback

        class Lit(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.net = torch.nn.Linear(4, 3)

            def training_step(self, batch, i):
                x, y = batch
                return torch.nn.functional.cross_entropy(self.net(x), y)

            def validation_step(self, batch, i, dataloader_idx=0):
                x, y = batch
                acc = (self.net(x).argmax(-1) == y).float().mean()
                self.log("eval/acc/t%d" % dataloader_idx, acc, add_dataloader_idx=False)

            def configure_optimizers(self):
                return torch.optim.SGD(self.parameters(), lr=0.1)

        torch.manual_seed(0)
        data = [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(4)]
        dl = torch.utils.data.DataLoader(data, batch_size=None)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.jsonl")
            trainer = L.Trainer(max_steps=4, accelerator="cpu", logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False, val_check_interval=2,
                                num_sanity_val_steps=0, default_root_dir=d,
                                callbacks=[TrainwatchCallback(run="lit-eval", path=path, attention=False)])
            trainer.fit(Lit(), train_dataloaders=dl, val_dataloaders=[dl, dl])
            with open(path) as f:
                recs = [json.loads(l) for l in f]
        evals = [r for r in recs if "metrics" in r and "eval/acc/t0" in r["metrics"]]
        self.assertEqual([r["step"] for r in evals], [2, 4])
        self.assertIn("eval/acc/t1", evals[0]["metrics"])


if __name__ == "__main__":
    unittest.main()
