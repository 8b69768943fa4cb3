"""Shared fixtures and the hypothesis profiles.

Choose a profile with the HYPOTHESIS_PROFILE environment variable:

* ``default``: 100 examples per property, no deadline (the engine compiles
  a network per example, which a deadline would flag as flaky);
* ``ci``: 50 examples per property, derandomized so that a failure in CI
  reproduces, and printing the blob to replay it with ``@reproduce_failure``;
* ``thorough``: 2000 examples, for a run on purpose.

A test that runs fewer examples than the profile (the slow pgmpy ones)
scales its count with :func:`strategies.scaled`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import kneebayes

settings.register_profile("default", max_examples=100, deadline=None, derandomize=False)
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True, print_blob=True)   # CI: half the local examples, in a fixed order
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def knee_model() -> kneebayes.Model:
    return kneebayes.load_model()


@pytest.fixture(scope="session")
def knee_pgmpy(knee_model: kneebayes.Model):  # type: ignore[no-untyped-def]
    """pgmpy's VariableElimination on the exported knee model (one object, reused)."""
    from pgmpy.inference import VariableElimination

    return VariableElimination(knee_model.to_pgmpy())
