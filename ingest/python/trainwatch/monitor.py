"""Monitor: non-blocking telemetry logging for a training loop.

``log()`` only appends a small tuple to an in-memory buffer; a daemon thread turns
records into JSON Lines and sends them in batches to the sidecar (``url``) or appends
them to a JSON Lines file (``path``, no sidecar needed: point the sidecar's ``--tail`` at
it later). Nothing here raises into the training loop: a full buffer drops the record and
counts it, an unreachable sidecar is retried with backoff, and rejected lines are counted.

Trouble is reported once, as a WARNING on the ``trainwatch`` logger (which Python prints to
stderr when the application configured no logging): the sidecar unreachable (again once per
outage; its recovery at INFO), the first record it rejects (with its reason), the first
record dropped because the buffer was full, and at ``close()`` how many records were never
delivered. ``stats()`` counts all of them, so that after ``close()``
``logged == sent + rejected + dropped``.
"""

import atexit
import collections
import json
import logging
import math
import os
import threading
import time
import urllib.error
import urllib.request

_EVENTS = ("run_start", "run_end", "task_start", "checkpoint")
_log = logging.getLogger("trainwatch")

# close() waits at most this long by default (also at interpreter exit, through atexit): long
# enough for a healthy sidecar to take the last batches (one POST of 2,048 records takes
# ~20 ms), short enough that a script whose sidecar is gone exits promptly.
CLOSE_TIMEOUT_S = 5.0


def _number(v):
    """A JSON-safe number per FORMAT.md: non-finite values become "NaN"/"Infinity"."""
    try:
        f = float(v)  # also accepts 0-d tensors and numpy scalars
    except (TypeError, ValueError):
        return None
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return f


def to_json_line(run, step, time_ms, metrics, event=None, task=None, tags=None, logits=None):
    """One record as a compact JSON line (no trailing newline)."""
    rec = {"run": run, "step": int(step), "time_ms": int(time_ms)}
    if task is not None:
        rec["task"] = str(task)
    if event is not None:
        rec["event"] = event
    if metrics:
        m = {}
        for k, v in metrics.items():
            n = _number(v)
            if n is not None:
                m[str(k)] = n
        rec["metrics"] = m
    if tags:
        rec["tags"] = {str(k): str(v) for k, v in tags.items()}
    if logits is not None:
        rec["logits"] = logits
    return json.dumps(rec, separators=(",", ":"), allow_nan=False)


class Monitor:
    """Logs telemetry of one run without ever blocking or raising into the training loop.

    Give ``url`` (the sidecar, e.g. ``http://127.0.0.1:8787``) or ``path`` (a JSON Lines
    file). ``token`` defaults to ``$TRAINWATCH_INGEST_TOKEN``. ``max_queue`` bounds memory:
    beyond it records are dropped and counted in ``stats()["dropped"]``. ``timeout`` bounds
    one HTTP request; ``close()`` is bounded by its own ``timeout`` (``CLOSE_TIMEOUT_S``).
    """

    def __init__(self, run, url=None, path=None, token=None, tags=None, task=None,
                 batch_size=512, flush_interval=0.5, max_queue=100000, timeout=5.0):
        if not run or not isinstance(run, str):
            raise ValueError("run must be a non-empty string")
        if (url is None) == (path is None):
            raise ValueError("give exactly one of url= (sidecar) or path= (JSON Lines file)")
        self.run = run
        self._url = url.rstrip("/") + "/v1/records" if url else None
        self._path = path
        self._token = token if token is not None else os.environ.get("TRAINWATCH_INGEST_TOKEN")
        self._tags = dict(tags) if tags else None
        self._task = task
        self._batch_size = batch_size
        self._interval = flush_interval
        self._max_queue = max_queue
        self._timeout = timeout
        self._buf = collections.deque()
        self._wake = threading.Event()
        self._stop = False
        self._pending = []  # serialised lines awaiting a successful send
        self._lock = threading.Lock()  # guards counters and _pending
        self._counts = {"logged": 0, "sent": 0, "dropped": 0, "rejected": 0, "errors": 0}
        self._dropped_fast = 0  # drops counted by log() itself (plain int: cheapest to bump)
        self._pending_n = 0  # len(self._pending), kept by the background thread for log()
        self._taken = 0  # records the background thread took from the buffer
        self.last_error = None
        self._failing = False  # the last send failed: the sidecar is unreachable or refusing
        self._attempts = 0  # send attempts finished (close() gives up after one more fails)
        self._abandoned = False  # close() counted what was left as dropped
        self._warned = set()  # kinds of trouble already reported (each once)
        self._feed = None  # AlertFeed, started by the first alerts()/on_alert()/feed()
        self._base_url = url.rstrip("/") if url else None
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._loop, name="trainwatch-monitor", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # ---- training-loop side: cheap, never raises -------------------------------------
    def log(self, step, metrics=None, *, event=None, task=None, tags=None, logits=None, **kw):
        """Queue one record: ``log(step, loss=0.1, lr=1e-3)`` or ``log(step, {"attn/max_logit": 9.0})``.

        Returns False when the record was dropped (buffer full or monitor closed).
        Kept lean on purpose: serialisation happens on the background thread.
        """
        buf = self._buf
        n = len(buf)
        if n + self._pending_n >= self._max_queue or self._stop:
            self._dropped_fast += 1
            return False
        if kw:
            metrics = dict(metrics, **kw) if metrics else kw
        buf.append((step, time.time(), metrics, event, task, tags, logits))
        if n + 1 == self._batch_size:
            self._wake.set()
        return True

    def event(self, step, name, task=None):
        """Log a lifecycle event: run_start, run_end, task_start (with task), checkpoint."""
        return self.log(step, event=name, task=task)

    # ---- alerts back from the detection job (through the sidecar) ----------------------
    def feed(self):
        """The run's AlertFeed (long poll of ``GET /v1/runs/{run}/alerts``), started on first use.

        None in file mode (``path=``): no sidecar answers there; said once on the logger.
        """
        if self._feed is None and self._base_url is not None and not self._stop:
            from .alerts import AlertFeed
            self._feed = AlertFeed(self._base_url, self.run, token=self._token)
        if self._feed is None:
            self._warn_once("nofeed", "trainwatch: run %s: alerts need a sidecar (Monitor(url=...)); "
                            "in file mode (path=) none reach the training loop", self.run)
        return self._feed

    def alerts(self):
        """The run's firing alerts (``trainwatch.alerts.Alert``) as the sidecar last reported them."""
        f = self.feed()
        return f.active() if f is not None else []

    def on_alert(self, callback):
        """Call ``callback(alert)`` on the feed thread for every new alert event of this run."""
        f = self.feed()
        if f is not None:
            f.callbacks.append(callback)

    def stats(self):
        """Counters: logged (every log() call), sent, rejected (by the sidecar), dropped (buffer
        full, or not delivered by ``close()``), queued (not yet sent), errors (failed sends)."""
        with self._lock:
            s = dict(self._counts)
            s["dropped"] += self._dropped_fast
            s["queued"] = len(self._buf) + len(self._pending)
            s["logged"] = self._taken + len(self._buf) + self._dropped_fast
            return s

    def flush(self, timeout=10.0):
        """Wait until everything logged so far was sent (True) or ``timeout`` passed (False)."""
        return self._await_drained(time.monotonic() + timeout, give_up_on_failure=False)

    def _await_drained(self, deadline, give_up_on_failure):
        attempts = self._attempts
        self._wake.set()  # one poke: send now, but do not defeat the backoff of a failing sidecar
        while True:
            if not self._buf and not self._pending and self._idle.is_set():
                return True
            if give_up_on_failure and self._failing and self._attempts > attempts:
                return False
            now = time.monotonic()
            if now >= deadline:
                return False
            time.sleep(min(0.01, deadline - now))

    def close(self, timeout=CLOSE_TIMEOUT_S):
        """Send what is left, then stop; returns within ``timeout`` seconds (default 5).

        When the sidecar is failing, one more attempt is made and close() returns as soon as it
        fails. Whatever was not delivered is counted in ``stats()["dropped"]`` and reported once
        on the ``trainwatch`` logger. Safe to call twice; also runs at interpreter exit.
        """
        if self._stop:
            return
        if self._feed is not None:
            self._feed.close(timeout=0.0)
        deadline = time.monotonic() + max(0.0, timeout)
        self._await_drained(deadline, give_up_on_failure=True)
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:  # an HTTP request may still be in flight: its result no longer counts
            self._abandoned = True
            lost = len(self._buf) + len(self._pending)
            self._taken += len(self._buf)
            self._buf.clear()
            del self._pending[:]
            self._pending_n = 0
            self._counts["dropped"] += lost
        if lost:
            _log.warning("trainwatch: run %s: %d record(s) not delivered at close() (%s); "
                         "stats(): %s", self.run, lost, self.last_error or "timed out", self.stats())
        try:
            atexit.unregister(self.close)
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- background side ---------------------------------------------------------------
    def _loop(self):
        backoff = 0.0
        while not self._stop:
            self._wake.wait(max(self._interval, backoff))
            self._wake.clear()
            if self._stop:
                break
            self._idle.clear()
            try:
                self._take()
                if self._dropped_fast and "full" not in self._warned:
                    self._warn_once("full", "trainwatch: run %s: buffer full (max_queue=%d), records "
                                    "are being dropped (counted in stats()['dropped'])",
                                    self.run, self._max_queue)
                if self._pending:
                    ok = self._send(self._pending[: self._batch_size * 4])
                    self._attempts += 1
                    backoff = 0.0 if ok else min(max(backoff * 2, 0.2), 5.0)
                    if ok and (self._buf or self._pending):
                        self._wake.set()
            except Exception as e:  # pragma: no cover - defensive
                self.last_error = repr(e)
                self._counts["errors"] += 1
            finally:
                self._idle.set()

    def _take(self):
        buf = self._buf
        lines = []
        while buf and len(lines) < self._batch_size * 4:
            step, t, metrics, event, task, tags, logits = buf.popleft()
            self._taken += 1
            # count it as pending from the moment it leaves the buffer, so log()'s bound on
            # buffer + pending holds while this batch is being serialised
            self._pending_n += 1
            if self._tags is not None:  # run attributes go on the first record only
                tags = dict(self._tags, **tags) if tags else self._tags
                self._tags = None
            try:
                lines.append(to_json_line(self.run, step, t * 1000, metrics, event,
                                          task if task is not None else self._task, tags, logits))
            except (TypeError, ValueError) as e:
                self.last_error = repr(e)
                self._counts["dropped"] += 1
        if lines:
            with self._lock:
                self._pending.extend(lines)
                overflow = len(self._pending) - self._max_queue
                if overflow > 0:  # sidecar gone for long: keep the newest, count the rest
                    del self._pending[:overflow]
                    self._counts["dropped"] += overflow
                self._pending_n = len(self._pending)

    def _send(self, lines):
        body = ("\n".join(lines) + "\n").encode("utf-8")
        if self._path:
            try:
                with open(self._path, "ab") as f:
                    f.write(body)
                self._done(len(lines), 0)
                return True
            except OSError as e:
                return self._failed(e)
        req = urllib.request.Request(self._url, data=body, method="POST")
        req.add_header("Content-Type", "application/x-ndjson")
        if self._token:
            req.add_header("Authorization", "Bearer " + self._token)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as r:
                r.read()
            self._done(len(lines), 0)
            return True
        except urllib.error.HTTPError as e:
            if e.code == 400:  # some lines invalid; the rest were accepted
                try:
                    errors = json.loads(e.read().decode("utf-8")).get("rejected", [])
                    rejected = len(errors)
                    first = "line %s: %s" % (errors[0].get("line"), errors[0].get("error")) if errors else ""
                except Exception:
                    rejected, first = len(lines), "unreadable answer"
                self.last_error = "HTTP 400 " + first
                self._warn_once("rejected", "trainwatch: run %s: the sidecar rejected %d of %d record(s), "
                                "first %s (further rejections are only counted in stats()['rejected'])",
                                self.run, rejected, len(lines), first)
                self._done(len(lines) - rejected, rejected)
                return True
            if e.code in (401, 403, 413):  # will not get better by retrying: count, move on
                self.last_error = "HTTP %d" % e.code
                why = {401: "missing or wrong token (TRAINWATCH_INGEST_TOKEN)", 403: "forbidden",
                       413: "request too large for the sidecar's http.max.body.bytes"}[e.code]
                self._warn_once("http%d" % e.code, "trainwatch: run %s: the sidecar at %s refused %d "
                                "record(s): HTTP %d, %s (counted in stats()['rejected'])",
                                self.run, self._url, len(lines), e.code, why)
                self._done(0, len(lines))
                return True
            if e.code == 503:  # queue full: the first "accepted" lines are in; retry the rest
                try:
                    accepted = int(json.loads(e.read().decode("utf-8")).get("accepted", 0))
                    self._done(accepted, 0)
                except Exception:
                    pass
            return self._failed(e)  # 503 and other 5xx: retry later
        except (OSError, ValueError) as e:
            return self._failed(e)

    def _done(self, sent, rejected):
        with self._lock:
            if self._abandoned:  # close() already counted these as dropped
                return
            del self._pending[: sent + rejected]
            self._pending_n = len(self._pending)
            self._counts["sent"] += sent
            self._counts["rejected"] += rejected
        if self._failing and sent:
            self._failing = False
            self._warned.discard("down")  # a later outage is reported again
            _log.info("trainwatch: run %s: sidecar reachable again at %s", self.run, self._url or self._path)

    def _failed(self, e):
        self.last_error = repr(e)
        self._failing = True
        with self._lock:
            self._counts["errors"] += 1
        self._warn_once("down", "trainwatch: run %s: cannot deliver to %s (%s); retrying with backoff, "
                        "keeping up to max_queue=%d records; what close() cannot deliver is counted "
                        "in stats()['dropped']", self.run, self._url or self._path, self.last_error,
                        self._max_queue)
        return False

    def _warn_once(self, kind, msg, *args):
        if kind not in self._warned:
            self._warned.add(kind)
            _log.warning(msg, *args)
