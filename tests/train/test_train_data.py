"""Manifest, normalization, and the on-device patch sampler."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from synflair import intensity
from synflair.errors import SynflairError
from synflair.models.normalization import InputNormalization
from synflair.nifti import save
from synflair.train.data import PatchSampler, TrainingData, load_training_data, read_manifest


def _data(shape=(40, 30, 2), channels=8, seed=0, extra=None):
    rng = np.random.default_rng(seed)
    inputs = rng.random((*shape, channels), dtype=np.float32)
    target = rng.random(shape, dtype=np.float32)
    conventional = rng.random(shape, dtype=np.float32)
    mask = np.ones(shape, bool)
    subjects = [("a", inputs, target, conventional, mask)] + (extra or [])
    return TrainingData.from_arrays(subjects)


def test_sampler_shapes_and_contents_match_the_source():
    data = _data()
    sampler = PatchSampler(data, 16, 5, torch.Generator().manual_seed(0))
    batch = sampler.sample()
    assert batch.inputs.shape == (5, 8, 16, 16)
    assert batch.target.shape == batch.conventional.shape == (5, 1, 16, 16)
    # every patch is a contiguous crop of some slice
    stacked = torch.cat([batch.inputs, batch.target, batch.conventional], dim=1)
    for patch in stacked:
        windows = data.slices.unfold(2, 16, 1).unfold(3, 16, 1)  # (S, C, nx, ny, 16, 16)
        hits = (windows == patch[None, :, None, None]).all(dim=(1, 4, 5))
        assert int(hits.sum()) == 1


def test_sampler_is_deterministic_and_depends_on_the_seed():
    data = _data()

    def draw(seed):
        sampler = PatchSampler(data, 8, 6, torch.Generator().manual_seed(seed))
        return [sampler.sample().inputs for _ in range(3)]

    first, again, other = draw(1), draw(1), draw(2)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_sampler_covers_all_positions_and_slices_of_differently_sized_subjects():
    rng = np.random.default_rng(1)
    small = (10, 12, 1)
    extra = [
        (
            "b",
            rng.random((*small, 8), dtype=np.float32),
            rng.random(small, dtype=np.float32),
            rng.random(small, dtype=np.float32),
            np.ones(small, bool),
        )
    ]
    data = _data(shape=(20, 16, 2), extra=extra)
    assert data.slices.shape == (3, 10, 20, 16)
    assert data.extents.tolist() == [[20, 16], [20, 16], [10, 12]]
    sampler = PatchSampler(data, 8, 64, torch.Generator().manual_seed(0))
    # the padded zeros of the small slice are never sampled
    for _ in range(20):
        batch = sampler.sample()
        assert bool((batch.target > 0).all())


def test_slices_without_mask_voxels_are_not_used():
    rng = np.random.default_rng(0)
    shape = (16, 16, 5)
    mask = np.zeros(shape, bool)
    mask[4:10, 4:10, 1] = True
    mask[2, 2, 3] = True
    inputs = rng.random((*shape, 8), dtype=np.float32)
    data = TrainingData.from_arrays([("a", inputs, rng.random(shape), rng.random(shape), mask)])
    assert data.slices.shape[0] == 2
    with pytest.raises(SynflairError, match="no training slice"):
        TrainingData.from_arrays(
            [("a", rng.random((*shape, 8)), rng.random(shape), rng.random(shape), mask & False)]
        )


def test_patch_size_larger_than_the_slices_is_a_clear_error():
    data = _data(shape=(40, 30, 2))
    with pytest.raises(SynflairError, match=r"data.patch_size = 32 .* 'a'.* 40x30.* <= 30"):
        PatchSampler(data, 32, 2, torch.Generator())


def test_normalization_rule():
    rng = np.random.default_rng(0)
    mdme = rng.normal(0, 1, (10, 10, 3, 8)).astype(np.float32)
    mask = np.zeros((10, 10, 3), bool)
    mask[2:8, 2:8] = True
    rule = InputNormalization("magnitude", 90.0, "intracranial", 1000.0)
    q = rule.input_scale(mdme, mask)
    assert q == pytest.approx(np.percentile(np.abs(mdme[mask]), 90))
    normalized = rule.normalize_inputs(mdme, mask)
    np.testing.assert_allclose(normalized, np.abs(mdme) / q, rtol=1e-6)
    assert bool((normalized >= 0).all())
    real = InputNormalization("real", 90.0, "intracranial", 1000.0).normalize_inputs(mdme, mask)
    np.testing.assert_allclose(real, mdme / q, rtol=1e-6)  # signs kept
    whole = InputNormalization("magnitude", 90.0, "volume", 1000.0)
    assert whole.input_scale(mdme, None) == pytest.approx(np.percentile(np.abs(mdme), 90))
    with pytest.raises(SynflairError, match="a mask is needed"):
        rule.input_scale(mdme, None)
    # the scale is invariant to the receiver gain
    np.testing.assert_allclose(rule.normalize_inputs(7.5 * mdme, mask), normalized, rtol=1e-5)
    flair = rng.random((10, 10, 3)).astype(np.float32) * 300
    target = rule.normalize_target(flair, mask)
    assert target[mask].mean() * 1000.0 == pytest.approx(intensity.INTRACRANIAL_MEAN, rel=1e-5)
    assert InputNormalization.from_dict(rule.to_dict()) == rule
    with pytest.raises(SynflairError, match="invalid normalization record"):
        InputNormalization.from_dict({"inputs": "phase"})


def test_manifest_errors(tmp_path):
    path = tmp_path / "m.tsv"
    pd.DataFrame({"subject": ["a"], "mdme": ["x"], "mask": ["y"]}).to_csv(path, sep="\t")
    with pytest.raises(SynflairError, match=r"m\.tsv: missing column\(s\) target, conv"):
        read_manifest(path)
    frame = pd.DataFrame(
        {c: ["a", "a"] for c in ("subject", "mdme", "mask", "target", "conventional")}
    )
    frame.to_csv(path, sep="\t", index=False)
    with pytest.raises(SynflairError, match=r"duplicate subject\(s\) \['a'\]"):
        read_manifest(path)
    frame.iloc[1, 0] = "b"
    frame.iloc[1, 2] = ""
    frame.to_csv(path, sep="\t", index=False)
    with pytest.raises(SynflairError, match=r"line 3: column 'mask' is empty"):
        read_manifest(path)
    with pytest.raises(SynflairError, match="no such file"):
        read_manifest(tmp_path / "none.tsv")


def test_loading_checks_grids_and_volumes(tiny_cohort, tmp_path):
    rows = read_manifest(tiny_cohort)
    rule = InputNormalization()
    data = load_training_data(rows, rule)
    assert data.in_channels == 8 and data.slices.shape == (6, 10, 48, 48)
    # wrong number of MDME volumes
    wrong = tmp_path / "mdme7.nii.gz"
    save(np.ones((48, 48, 3, 7), np.float32), np.diag([2.0, 2.0, 5.0, 1.0]), wrong)
    bad = [dataclasses.replace(rows[0], mdme=wrong)]
    with pytest.raises(SynflairError, match=r"mdme7\.nii\.gz: has 7 volume\(s\).* 8 volumes"):
        load_training_data(bad, rule)
    # a target on another grid
    shifted = tmp_path / "target.nii.gz"
    save(np.ones((48, 48, 3), np.float32), np.diag([2.0, 2.0, 4.0, 1.0]), shifted)
    bad = [dataclasses.replace(rows[0], target=shifted)]
    with pytest.raises(SynflairError, match=r"target\.nii\.gz and .*mdme.* different affines"):
        load_training_data(bad, rule)
