"""Fixtures of the quantification tests; the simulation helpers live in ``quantify_sim``."""

from __future__ import annotations

import numpy as np
import pytest
from quantify_sim import Head, build_head


@pytest.fixture(scope="session")
def head() -> Head:
    """A simulated head (MNI152-based, 2 x 2 x 5 mm voxels, SNR ~40 in WM)."""
    return build_head(np.random.default_rng(2019))
