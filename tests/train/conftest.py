"""A tiny synthetic training cohort made with synflair.physics.

Each subject is a stack of small axial slices of an elliptical "head": a WM
core, a GM ring, CSF around it and in a ventricle, and a lesion, blurred into
partial-volume fractions. The MDME magnitudes and the conventional FLAIR are
fraction-weighted sums of the compartments' signed signals (as in a real
voxel); the "synthetic FLAIR" target uses the fraction-weighted mean T1, T2,
PD of the voxel (the single-compartment model), so that it shows the bright
rims at tissue-CSF borders that the network should learn to avoid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tiny_config import TINY_CONFIG
from train_cohort import TISSUES, tiny_subject, write_cohort  # noqa: F401

from synflair.train.config import config_from_dict


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    """Every test here on one torch thread (tests/conftest.py)."""


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory) -> Path:
    """Manifest of 2 tiny subjects (48x48x3)."""
    return write_cohort(tmp_path_factory.mktemp("cohort"), 2)


@pytest.fixture()
def tiny_preset(tmp_path) -> Path:
    """:data:`TINY_CONFIG` as a preset YAML file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG))
    return path


@pytest.fixture()
def tiny_config():
    """A :class:`TrainConfig` small enough for sub-second CPU training."""
    return config_from_dict(TINY_CONFIG)
