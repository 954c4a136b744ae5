"""Bad synthetic-FLAIR inputs to ``synflair infer`` with a ``data.relative`` model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from badinput_harness import assert_refused

from synflair.models import init_parameters
from synflair.models.modelfile import build_discriminator, build_generator, save_model
from synflair.models.normalization import InputNormalization
from synflair.nifti import save
from synflair.train.config import config_from_dict

AFFINE = np.diag([2.0, 2.0, 5.0, 1.0])
SHAPE = (20, 20, 2)


@pytest.fixture()
def exam(tmp_path) -> dict[str, Path]:
    """A relative model, an MDME NIfTI, its mask and bad synthetic FLAIRs."""
    rng = np.random.default_rng(3)
    folder = tmp_path / "in"
    config = config_from_dict(
        {"data": {"relative": True}, "generator": {"hidden": 8},
         "discriminator": {"base_channels": 4, "levels": 2}}
    )  # fmt: skip
    generator = init_parameters(build_generator(config), torch.Generator().manual_seed(0))
    model = save_model(
        folder / "model.pt",
        stage=2,
        iterations=1,
        config=config,
        normalization=InputNormalization.from_config(config.data),
        generator=generator,
        discriminator=build_discriminator(config),
    )
    mask = np.zeros(SHAPE, np.uint8)
    mask[3:17, 4:16] = 1
    synthetic = (rng.random(SHAPE) * 300 + 10).astype(np.float32)
    return {
        "model": model,
        "mdme": save((rng.random((*SHAPE, 8)) * 500).astype(np.float32), AFFINE,
                     folder / "sub-01_mdme.nii.gz"),
        "mask": save(mask, AFFINE, folder / "sub-01_mask.nii.gz", dtype=np.uint8),
        "shifted": save(synthetic, np.diag([2.0, 2.0, 4.0, 1.0]), folder / "shifted.nii.gz"),
        "smaller": save(synthetic[:-2], AFFINE, folder / "smaller.nii.gz"),
        "four_d": save(np.stack([synthetic] * 2, -1), AFFINE, folder / "four_d.nii.gz"),
    }  # fmt: skip


CASES = {
    "no --synthetic": (None, ["model.pt", "data.relative", "--synthetic"]),
    "another voxel size": ("shifted", ["shifted.nii.gz", "sub-01_mdme.nii.gz"]),
    "another grid": ("smaller", ["smaller.nii.gz", "sub-01_mdme.nii.gz"]),
    "a 4D image": ("four_d", ["four_d.nii.gz"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_infer_refuses_a_bad_synthetic_flair(case, exam, tmp_path, capsys):
    key, names = CASES[case]
    out = tmp_path / "out" / "sub-01_desc-dl_FLAIR.nii.gz"
    argv = ["infer", "--model", exam["model"], "--mdme", exam["mdme"], "--mask", exam["mask"],
            "--out", out]  # fmt: skip
    if key is not None:
        argv += ["--synthetic", exam[key]]
    assert_refused(argv, capsys, names=names, outputs=[out], inputs=[tmp_path / "in"])
