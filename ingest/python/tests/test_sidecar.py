"""Against the real sidecar (jar or in-process) and Kafka: runs only when
TRAINWATCH_SIDECAR_URL is set (the JUnit PythonClientIT sets it and checks Kafka)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from trainwatch import Monitor  # noqa: E402

URL = os.environ.get("TRAINWATCH_SIDECAR_URL")
RUN = os.environ.get("TRAINWATCH_TEST_RUN", "py-sidecar-test")
N = int(os.environ.get("TRAINWATCH_TEST_RECORDS", "500"))


@unittest.skipUnless(URL, "TRAINWATCH_SIDECAR_URL not set")
class SidecarTest(unittest.TestCase):

    def test_records_reach_the_sidecar_and_invalid_ones_are_counted(self):
        with Monitor(RUN, url=URL, tags={"model": "mlp", "dtype": "float32"}) as mon:
            mon.event(0, "run_start")
            for step in range(1, N):
                mon.log(step, {"logits/absorbed_frac": 0.0}, loss=1.0 / step, grad_norm=float("nan"))
            self.assertTrue(mon.flush(30))
            mon.log(N, event="not_an_event")  # the sidecar rejects it, naming the field
            self.assertTrue(mon.flush(30))
            s = mon.stats()
        self.assertEqual(s["sent"], N, s)
        self.assertEqual(s["rejected"], 1, s)
        self.assertEqual(s["dropped"], 0, s)


if __name__ == "__main__":
    unittest.main()
