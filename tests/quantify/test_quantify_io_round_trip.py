"""The quantification reads what the MDME importer writes: DICOM -> NIfTI + sidecar -> maps.

A contract test between :mod:`synflair.io` (writer and importer) and
:mod:`synflair.quantify`: the simulated head is written as real and imaginary
DICOM images with a smooth background phase, imported as magnitudes and as
phase-corrected real parts, and quantified with ``synflair quantify``.
"""

import nibabel as nib
import numpy as np
import pytest

from synflair.cli import main
from synflair.io.dicom_write import PatientInfo, write_mdme_dicom
from synflair.io.mdme import mdme_to_nifti
from synflair.physics import MDME_PAPER

# the importer orders slices along the DICOM slice normal (here inferior), as this affine does
SLICES = slice(4, 9)  # five slices through the ventricles keep the test fast
AFFINE = np.array([[-2.0, 0, 0, 97], [0, 2.0, 0, -120], [0, 0, -5.0, 50], [0, 0, 0, 1]])


@pytest.fixture(scope="module")
def dicom_dir(head, tmp_path_factory):
    out = tmp_path_factory.mktemp("dicom")
    x = np.linspace(-1, 1, head.signals.shape[0])[:, None, None, None]
    phase = np.exp(1j * (0.4 + 0.8 * x))  # smooth background phase, the same for all images
    write_mdme_dicom(
        head.signals[:, :, SLICES] * phase,
        AFFINE,
        out,
        protocol=MDME_PAPER,
        patient=PatientInfo("Test^Head", "TEST-01", "19700101"),
        uid_seed="quantify-io-round-trip",
        slice_thickness=4.0,
    )
    return out


@pytest.mark.parametrize("component", ["magnitude", "real"])
def test_imported_mdme_quantifies_like_the_simulation(head, dicom_dir, tmp_path, component):
    nii = mdme_to_nifti([dicom_dir], tmp_path / "sub-01_mdme.nii.gz", component=component)
    assert main(["quantify", "--mdme", str(nii), "--out", str(tmp_path / "q")]) == 0
    t1 = nib.load(tmp_path / "q" / "sub-01_T1map.nii.gz")
    np.testing.assert_allclose(t1.affine, AFFINE, atol=1e-4)
    wm = head.fractions["WM"][:, :, SLICES] > 0.95
    assert np.median(t1.get_fdata()[wm]) == pytest.approx(832.0, rel=0.03)
    t2 = nib.load(tmp_path / "q" / "sub-01_T2map.nii.gz").get_fdata()
    assert np.median(t2[wm]) == pytest.approx(80.0, rel=0.03)
    mask = nib.load(tmp_path / "q" / "sub-01_desc-intracranial_mask.nii.gz").get_fdata() > 0
    icv = head.icv[:, :, SLICES]
    assert 2 * np.sum(mask & icv) / (mask.sum() + icv.sum()) > 0.95
