"""``synflair figure`` (synflair.phantom.figure)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.cli import main
from synflair.errors import SynflairError
from synflair.phantom.figure import phantom_figure, read_dicom_slice


def test_figure_is_written(ci_cohort, tmp_path):
    import matplotlib.image

    out = tmp_path / "figs" / "ph01.png"
    assert (
        main(["figure", "--phantom", str(ci_cohort), "--subject", "ph01", "--out", str(out)]) == 0
    )
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 400 and image.shape[1] > 600
    assert image[..., :3].std() > 0.05  # not blank
    assert [p.name for p in out.parent.iterdir()] == ["ph01.png"]  # no temporary left
    phantom_figure(ci_cohort, "sub-ph02", tmp_path / "b.png", slice_index=0)
    assert (tmp_path / "b.png").stat().st_size > 10_000


def test_read_dicom_slice(ci_cohort):
    import nibabel as nib

    mdme = read_dicom_slice(
        ci_cohort / "sub-ph01" / "dicom" / "mdme", 3, EchoTime=16.9, TriggerTime=3879.0
    )
    assert mdme.shape == (96, 96) and np.all(mdme >= 0)
    pd = np.asarray(nib.load(ci_cohort / "sub-ph01" / "truth" / "sub-ph01_PDmap.nii.gz").dataobj)[
        ..., 3
    ]
    assert np.corrcoef(mdme.ravel(), pd.ravel())[0, 1] > 0.9
    with pytest.raises(SynflairError, match="slice 9"):
        read_dicom_slice(ci_cohort / "sub-ph01" / "dicom" / "flair", 9)
    with pytest.raises(SynflairError, match="no DICOM"):
        read_dicom_slice(ci_cohort, 0)


def test_figure_errors(ci_cohort, tmp_path):
    with pytest.raises(SynflairError, match="no such subject"):
        phantom_figure(ci_cohort, "ph07", tmp_path / "x.png")
    with pytest.raises(SynflairError, match="--slice"):
        phantom_figure(ci_cohort, "ph01", tmp_path / "x.png", slice_index=6)
    assert not (tmp_path / "x.png").exists()
