"""Shared by the framework tests: imports that skip cleanly, or fail when the venv must have them.

``TRAINWATCH_REQUIRE_FRAMEWORKS=1`` (set by the Maven test that runs the suite under the
``bin/pyenv`` venv) turns a missing torch/Lightning/transformers into a failure instead of a
skip, so that CI cannot pass these tests by skipping them.
"""

import importlib
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
REQUIRED = os.environ.get("TRAINWATCH_REQUIRE_FRAMEWORKS") == "1"


def need(module):
    """The imported module, or None; a test class decorated with ``needs(module)`` skips without it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if REQUIRED:
            raise
        return None


def needs(*modules):
    missing = [m for m in modules if need(m) is None]
    return unittest.skipIf(bool(missing), "not installed: %s" % ", ".join(missing))
