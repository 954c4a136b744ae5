"""Phantom DICOM -> NIfTI gives the phantom's signals back (issue 3, "Done when")."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pydicom
import pytest

from synflair.io.mdme import mdme_to_nifti, read_mdme


@pytest.mark.slow
def test_phantom_mdme_round_trip(tmp_path):
    from synflair.phantom import cohort
    from synflair.phantom.anatomy import load_template
    from synflair.phantom.output import write_subject
    from synflair.phantom.presets import get_preset
    from synflair.phantom.subject import draw_subject, simulate_subject

    preset = get_preset("ci")
    template = load_template()
    params = draw_subject(np.random.default_rng(cohort.subject_seed(5, "ph01")), preset, template)
    images = simulate_subject(params, preset, template)
    write_subject(tmp_path / "sub", "ph01", images, params, preset, "io-test/ph01")

    mdme_dir = tmp_path / "sub" / "dicom" / "mdme"
    first = pydicom.dcmread(next(mdme_dir.iterdir()))
    quantum = float(first.RescaleSlope)
    mdme = read_mdme(mdme_dir)
    np.testing.assert_allclose(mdme.affine, images.affine, atol=1e-6)
    error = mdme.raw - images.mdme
    assert np.abs(error.real).max() <= 0.51 * quantum
    assert np.abs(error.imag).max() <= 0.51 * quantum

    out = mdme_to_nifti(mdme_dir, tmp_path / "out" / "sub-ph01_mdme.nii.gz")
    image = nib.load(out)
    np.testing.assert_allclose(image.affine, images.affine, atol=1e-5)
    assert np.abs(np.asarray(image.dataobj) - np.abs(images.mdme)).max() <= quantum
    identifiers = [str(first.PatientName), first.PatientID, first.PatientBirthDate]
    identifiers = [i for i in identifiers if len(i) >= 4]
    assert identifiers
    for path in (out, out.with_name("sub-ph01_mdme.json")):
        data = path.read_bytes()
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        assert not [i for i in identifiers if i.encode() in data]
