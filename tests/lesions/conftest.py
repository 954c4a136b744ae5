"""Fixtures of the lesion tests; the simulated FLAIR is in :mod:`lesion_sim`."""

from __future__ import annotations

import numpy as np
import pytest
from lesion_sim import SimulatedFlair, simulate


@pytest.fixture(scope="session")
def simulated() -> SimulatedFlair:
    """One simulated subject (seed 0)."""
    return simulate(np.random.default_rng(0))
