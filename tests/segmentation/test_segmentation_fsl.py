"""The fsl backend: FAST command lines as strings; a real run where FSL is installed."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.registration import backend
from synflair.segmentation import segment
from synflair.segmentation.fsl import FastSettings, fast_interface, provenance


def test_fast_command_line_default(head, tmp_path):
    t1w = head[0]
    interface = fast_interface(t1w, tmp_path / "fast")
    assert interface.cmdline == f"fast -H 0.10 -t 1 -n 3 -o {tmp_path / 'fast'} -S 1 {t1w}"


def test_fast_command_line_without_bias_correction(head, tmp_path):
    t1w = head[0]
    settings = FastSettings(mrf_beta=0.3, bias_correction=False)
    interface = fast_interface(t1w, tmp_path / "fast", settings)
    assert interface.cmdline == f"fast -H 0.30 -t 1 -N -n 3 -o {tmp_path / 'fast'} -S 1 {t1w}"


def test_fast_provenance_has_no_seed_to_set():
    # FAST takes no seed option (it seeds rand() with a constant itself), so the
    # command lines above carry none; the sidecar says the maps are reproducible.
    assert provenance(FastSettings(mrf_beta=0.3)) == {
        "FastSettings": {"mrf_beta": 0.3, "bias_correction": True},
        "Reproducible": True,
    }


def test_fast_settings_are_validated():
    with pytest.raises(ValueError, match="mrf_beta"):
        FastSettings(mrf_beta=-0.1)


def test_fsl_backend_without_fsl_is_a_clear_error(head, tmp_path, monkeypatch):
    monkeypatch.delenv("FSLDIR", raising=False)
    backend.fsl_version.cache_clear()
    try:
        with pytest.raises(SynflairError, match=r"\$FSLDIR"):
            segment(head[0], head[1], tmp_path / "out", "sub-01", backend="fsl")
        with pytest.raises(
            SynflairError, match="needs settings of type AtroposSettings, not FastSettings"
        ):
            # auto without FSL runs Atropos, which refuses FAST's settings
            segment(
                head[0], head[1], tmp_path / "out", "s", backend="auto", settings=FastSettings()
            )
    finally:
        backend.fsl_version.cache_clear()
    assert not (tmp_path / "out").exists()


@pytest.mark.fsl
@pytest.mark.skipif(backend.fsl_version() is None, reason="needs FSL: $FSLDIR holds no FSL")
def test_fast_segments_the_head(head, tmp_path, dice_of):
    result = segment(head[0], head[1], tmp_path, "sub-01", backend="fsl")
    labels = np.asarray(nib.load(result.dseg).dataobj)
    truth = head[2]
    assert result.backend == "fsl"
    assert dice_of(labels == 2, truth == 2) >= 0.85
    assert dice_of(labels == 3, truth == 3) >= 0.85
