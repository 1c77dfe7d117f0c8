"""Alerts back into the training process: a long-poll feed from the sidecar, and policies.

The sidecar serves the alerts of a run from the alerts topic at
``GET /v1/runs/{run}/alerts?after=<cursor>&wait_ms=<ms>`` (long poll: the answer comes as soon
as an alert event newer than ``cursor`` exists, or after ``wait_ms`` with none). The answer
holds the run's active alerts and the events since the cursor; a cursor from another sidecar
instance (restart) gets every retained event again, so delivery is at least once and the feed
drops what it already saw (same fingerprint, status, severity and step).

Policies turn alerts into decisions that the integrations apply on the training thread at a
step boundary (never concurrently with a step):

    StopOnCritical()           stop the run (Lightning trainer.should_stop, HF
                               control.should_training_stop, StopTraining in a plain loop)
    SkipStepWhileNonFinite()   skip optimizer steps while a non_finite alert is active
    Rollback(hook)             call hook(alert) once per firing alert (restore a checkpoint,
                               lower the LR, ...)

Standard library only.
"""

import collections
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

_log = logging.getLogger("trainwatch")

SEVERITIES = ("warning", "critical")


class Alert:
    """One alert event as the detection job emitted it (wire schema of ``AlertEvent``)."""

    __slots__ = ("run", "family", "detector", "severity", "status", "step", "time_ms",
                 "fingerprint", "summary", "remedy", "evidence", "affected_task", "seen_at")

    def __init__(self, d, seen_at=None):
        self.run = d.get("run")
        self.family = d.get("family")
        self.detector = d.get("detector")
        self.severity = d.get("severity")
        self.status = d.get("status")
        self.step = d.get("step")
        self.time_ms = d.get("time_ms")
        self.fingerprint = d.get("fingerprint")
        self.summary = d.get("summary")
        self.remedy = d.get("remedy")
        self.evidence = d.get("evidence") or {}
        self.affected_task = d.get("affected_task")
        self.seen_at = seen_at if seen_at is not None else time.time()

    @property
    def firing(self):
        return self.status == "firing"

    def key(self):
        """Identity of the event (not of the alert): repeats of it are dropped."""
        return (self.fingerprint, self.status, self.severity, self.step)

    def at_least(self, severity):
        return SEVERITIES.index(self.severity) >= SEVERITIES.index(severity) \
            if self.severity in SEVERITIES and severity in SEVERITIES else False

    def __repr__(self):
        return "Alert(%s %s %s/%s step %s: %s)" % (self.status, self.severity, self.family,
                                                   self.detector, self.step, self.summary)


class StopTraining(Exception):
    """Raised by a plain-loop integration when a policy stops the run; ``.alert`` says why."""

    def __init__(self, alert):
        super().__init__("trainwatch stopped the run: %r" % (alert,))
        self.alert = alert


class AlertFeed:
    """Background long-poll of a run's alerts; never raises into the caller.

    ``active()`` is the run's firing alerts as the sidecar last reported them; ``take_new()``
    returns (once) the events not seen before, in arrival order; ``callbacks`` are called on
    the feed thread with each new event. The sidecar being unreachable is said once per outage
    on the ``trainwatch`` logger, like the Monitor does.
    """

    def __init__(self, url, run, token=None, wait_ms=20000, timeout=None):
        self._base = url.rstrip("/") + "/v1/runs/" + urllib.parse.quote(run, safe="") + "/alerts"
        self.run = run
        self._token = token
        self._wait_ms = int(wait_ms)
        # the request timeout must outlast the server's hold of a long poll
        self._timeout = timeout if timeout is not None else self._wait_ms / 1000.0 + 10.0
        self._cursor = None
        self._active = {}
        self._seen = set()
        self._seen_order = collections.deque()
        self._new = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failing = False
        self.callbacks = []
        self.polls = 0
        self.errors = 0
        self.last_error = None
        self.received = threading.Event()  # set after the first successful poll
        self._thread = threading.Thread(target=self._loop, name="trainwatch-alerts", daemon=True)
        self._thread.start()

    def active(self):
        with self._lock:
            return list(self._active.values())

    def take_new(self):
        out = []
        while self._new:
            out.append(self._new.popleft())
        return out

    def close(self, timeout=1.0):
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self):
        backoff = 0.0
        while not self._stop.is_set():
            try:
                self._poll()
                backoff = 0.0
            except Exception as e:  # network, HTTP or JSON trouble: retry with backoff
                self.errors += 1
                self.last_error = repr(e)
                if not self._failing:
                    self._failing = True
                    _log.warning("trainwatch: run %s: cannot read alerts from %s (%s); retrying, "
                                 "alerts reach the training loop once it answers", self.run,
                                 self._base, self.last_error)
                backoff = min(max(backoff * 2, 0.2), 5.0)
                self._stop.wait(backoff)

    def _poll(self):
        q = {"wait_ms": str(self._wait_ms)}
        if self._cursor is not None:
            q["after"] = self._cursor
        req = urllib.request.Request(self._base + "?" + urllib.parse.urlencode(q))
        if self._token:
            req.add_header("Authorization", "Bearer " + self._token)
        with urllib.request.urlopen(req, timeout=self._timeout) as r:
            body = json.loads(r.read().decode("utf-8"))
        now = time.time()
        self.polls += 1
        if self._failing:
            self._failing = False
            _log.info("trainwatch: run %s: alerts readable again at %s", self.run, self._base)
        fresh = []
        with self._lock:
            self._active = {a["fingerprint"]: Alert(a, now) for a in body.get("active", [])}
            for e in body.get("events", []):
                a = Alert(e, now)
                k = a.key()
                if k in self._seen:
                    continue  # at-least-once: a repeat after a cursor reset
                self._seen.add(k)
                self._seen_order.append(k)
                if len(self._seen_order) > 10000:
                    self._seen.discard(self._seen_order.popleft())
                fresh.append(a)
            self._cursor = body.get("cursor", self._cursor)
        for a in fresh:
            self._new.append(a)
            for cb in list(self.callbacks):
                try:
                    cb(a)
                except Exception as e:  # a user callback must not kill the feed
                    _log.warning("trainwatch: alert callback %r failed: %r", cb, e)
        self.received.set()


class Decision:
    """What the policies decided at one step boundary."""

    __slots__ = ("stop", "skip", "actions")

    def __init__(self):
        self.stop = None  # the Alert that stops the run, or None
        self.skip = False  # skip the next optimizer step(s)
        self.actions = []  # callables to run on the training thread, in order


class Policy:
    """Base: ``decide(new, active, decision)`` adds to the decision; runs on the training thread."""

    def decide(self, new, active, decision):
        raise NotImplementedError


class StopOnCritical(Policy):
    """Stop the run when an alert of ``severity`` (default critical) or worse fires.

    ``families``/``detectors`` restrict which alerts count (default: all).
    """

    def __init__(self, severity="critical", families=None, detectors=None):
        self.severity = severity
        self.families = set(families) if families else None
        self.detectors = set(detectors) if detectors else None

    def decide(self, new, active, decision):
        for a in new:
            if a.firing and a.at_least(self.severity) and _matches(a, self.families, self.detectors):
                decision.stop = decision.stop or a


class SkipStepWhileNonFinite(Policy):
    """Skip optimizer steps while a ``non_finite`` alert (NaN/Inf in the telemetry) is active.

    Forward and backward still run, so the telemetry shows when the run is finite again; the
    detector resolves the alert after ``instability.non_finite.resolve_after`` (50) finite
    records, and steps resume.
    """

    def __init__(self, detectors=("non_finite",)):
        self.detectors = set(detectors)

    def decide(self, new, active, decision):
        if any(a.firing and a.detector in self.detectors for a in active):
            decision.skip = True


class Rollback(Policy):
    """Call ``hook(alert)`` on the training thread once per firing alert that matches.

    Default: critical alerts of any detector. The hook restores a checkpoint, lowers the LR, ...
    """

    def __init__(self, hook, severity="critical", families=None, detectors=None):
        self.hook = hook
        self.severity = severity
        self.families = set(families) if families else None
        self.detectors = set(detectors) if detectors else None
        self._done = set()

    def decide(self, new, active, decision):
        for a in new:
            if a.firing and a.at_least(self.severity) and _matches(a, self.families, self.detectors) \
                    and a.fingerprint not in self._done:
                self._done.add(a.fingerprint)
                decision.actions.append(lambda a=a: self.hook(a))
        for a in new:  # a resolved alert may fire (and roll back) again later
            if not a.firing:
                self._done.discard(a.fingerprint)


def _matches(a, families, detectors):
    return (families is None or a.family in families) and (detectors is None or a.detector in detectors)


class PolicyRunner:
    """Applies policies to a feed at step boundaries (the integrations call ``step_boundary()``)."""

    def __init__(self, feed, policies):
        self.feed = feed
        self.policies = list(policies or [])
        self.skipping = False
        self.stopped_by = None
        self.skipped_steps = 0
        self.rollbacks = 0
        self.seen = []  # every new alert event, in order (for stats and tests)

    def step_boundary(self):
        new = self.feed.take_new() if self.feed is not None else []
        self.seen.extend(new)
        if not self.policies:
            return Decision()
        active = self.feed.active() if self.feed is not None else []
        d = Decision()
        for p in self.policies:
            p.decide(new, active, d)
        for act in d.actions:
            self.rollbacks += 1
            act()
        if d.skip != self.skipping:
            _log.warning("trainwatch: %s optimizer steps (%s)", "skipping" if d.skip else "resuming",
                         "non-finite alert active" if d.skip else "alert resolved")
        self.skipping = d.skip
        if d.stop is not None and self.stopped_by is None:
            self.stopped_by = d.stop
            _log.warning("trainwatch: stopping the run: %r; remedy: %s", d.stop, d.stop.remedy)
        return d
