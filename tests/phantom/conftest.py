"""Shared fixtures of the phantom tests: the template, a tiny preset and a generated ci cohort."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.phantom.presets import Geometry, PhantomPreset, get_preset

#: A 3-slice, 48x48 geometry through the lateral ventricles, for fast simulation tests.
TINY = PhantomPreset(
    name="tiny",
    geometry=Geometry(
        n_slices=3,
        slice_thickness=4.0,
        slice_gap=1.0,
        fov=240.0,
        recon_matrix=(48, 48),
        mdme_matrix=(32, 32),
        flair_matrix=(24, 32),
        oversample=2,
        center_mni=(0.0, -15.0, 16.0),
        profile_samples=5,
    ),
    n_subjects=2,
)


@pytest.fixture(scope="session")
def template():
    from synflair.phantom.anatomy import load_template

    return load_template()


@pytest.fixture(scope="session")
def tiny():
    return TINY


@pytest.fixture(scope="session")
def tiny_subject(template):
    """Parameters and images of one subject of the tiny preset."""
    from synflair.phantom.subject import draw_subject, simulate_subject

    params = draw_subject(np.random.default_rng(7), TINY, template)
    return params, simulate_subject(params, TINY, template)


@pytest.fixture(scope="session")
def ci_cohort(tmp_path_factory, template):
    """A full ci cohort of 2 subjects (seed 11), generated in-process."""
    from synflair.phantom.generate import generate_cohort

    out = tmp_path_factory.mktemp("cohort")
    generate_cohort(out, 2, 11, "ci")
    return out


@pytest.fixture(scope="session")
def ci_preset():
    return get_preset("ci")
