"""Standard series through dcm2niix (nipype): values, world geometry, sidecar, errors."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from dicom_cases import AXIAL, PATIENT

from synflair.errors import SynflairError
from synflair.geometry import stack_affine
from synflair.io.dcm2niix import dcm2niix_interface, find_dcm2niix, standard_to_nifti
from synflair.io.dicom_write import write_magnitude_dicom

pytestmark = pytest.mark.skipif(find_dcm2niix() is None, reason="needs dcm2niix")


def _write(directory, volume, affine=AXIAL, series_number=2, seed="flair"):
    return write_magnitude_dicom(
        volume,
        affine,
        directory,
        patient=PATIENT,
        uid_seed=seed,
        slice_thickness=5.0,
        tr=9000,
        te=124,
        ti=2472,
        series_number=series_number,
    )


def _in_input_grid(out_affine, in_affine, out_shape):
    """Input voxel index of every output voxel, from world coordinates."""
    mapping = np.linalg.inv(in_affine) @ out_affine
    assert np.allclose(mapping, np.round(mapping), atol=1e-4), mapping  # a permutation/flip
    ijk = np.indices(out_shape).reshape(3, -1)
    return np.rint(mapping[:3, :3] @ ijk + mapping[:3, 3:]).astype(int)


@pytest.mark.parametrize(
    "affine",
    [
        AXIAL,
        stack_affine([90.0, -100.0, 110.0], [0, 1, 0, 0, 0, -1], [7.0, 6.0], 5.5),  # sagittal
    ],
    ids=["axial", "sagittal"],
)
def test_flair_same_values_at_the_same_world_points(tmp_path, affine):
    rng = np.random.default_rng(7)
    volume = rng.uniform(0, 1000, (12, 10, 4))  # asymmetric: any flip would show
    paths = _write(tmp_path / "dicom", volume, affine)
    slope = float(pydicom.dcmread(paths[0]).RescaleSlope)
    out = standard_to_nifti(tmp_path / "dicom", tmp_path / "sub-01_FLAIR.nii.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dicom",
        "sub-01_FLAIR.json",
        "sub-01_FLAIR.nii.gz",
    ]
    image = nib.load(out)
    data = np.asarray(image.dataobj)
    assert image.get_data_dtype() == np.float32 and data.shape == (12, 10, 4)
    index = _in_input_grid(image.affine, affine, data.shape)
    assert ((index >= 0) & (index < np.array(volume.shape)[:, None])).all()
    expected = volume[tuple(index)].reshape(data.shape)
    assert np.abs(data - expected).max() <= slope / 2 * 1.001 + 1e-3
    meta = json.loads(out.with_name("sub-01_FLAIR.json").read_text())
    assert meta["EchoTime"] == 0.124 and meta["InversionTime"] == 2.472
    assert meta["RepetitionTime"] == 9
    assert "InstitutionName" not in meta  # kept by dcm2niix -ba y, removed by us


def test_integer_series_stay_native(tmp_path):
    labels = np.zeros((8, 8, 3))
    labels[2:6, 2:6, 1] = 65535.0  # full range: RescaleSlope 1
    _write(tmp_path / "dicom", labels)
    image = nib.load(standard_to_nifti(tmp_path / "dicom", tmp_path / "mask.nii"))
    assert np.issubdtype(image.get_data_dtype(), np.integer)
    assert sorted(np.unique(np.asarray(image.dataobj)).tolist()) == [0, 65535]


def test_several_series_are_an_error(tmp_path):
    volume = np.ones((8, 8, 3))
    _write(tmp_path / "dicom", volume, series_number=2, seed="a")
    _write(tmp_path / "dicom", volume * 2, series_number=3, seed="b")
    with pytest.raises(SynflairError, match=r"these are 2 series: series 2 'FLAIR' \(3") as info:
        standard_to_nifti(tmp_path / "dicom", tmp_path / "x.nii.gz")
    assert "series 3 'FLAIR' (3 files" in str(info.value)
    assert "expected exactly one series" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dicom"]  # no leftovers


def test_no_dicom_is_an_error(tmp_path):
    (tmp_path / "dicom").mkdir()
    (tmp_path / "dicom" / "readme.txt").write_text("nothing here")
    readme = tmp_path / "dicom" / "readme.txt"
    with pytest.raises(SynflairError, match="no readable DICOM file among 1 file") as info:
        standard_to_nifti(tmp_path / "dicom", tmp_path / "x.nii.gz")
    assert f"{readme}: not a DICOM file" in str(info.value)
    readme.unlink()
    with pytest.raises(SynflairError, match="no files in"):
        standard_to_nifti(tmp_path / "dicom", tmp_path / "x.nii.gz")
    with pytest.raises(SynflairError, match="no such directory"):
        standard_to_nifti(tmp_path / "absent", tmp_path / "x.nii.gz")
    (tmp_path / "one.dcm").write_bytes(b"")
    with pytest.raises(SynflairError, match=r"one\.dcm: is a file, not a directory"):
        standard_to_nifti(tmp_path / "one.dcm", tmp_path / "y.nii.gz")


def test_command_line(tmp_path):
    (tmp_path / "flair").mkdir(), (tmp_path / "out").mkdir()
    line = dcm2niix_interface(tmp_path / "flair", tmp_path / "out", "series").cmdline
    assert line.startswith("dcm2niix ")
    for flag in ("-ba y", "-b y", "-z y", "-f series", f"-o {tmp_path / 'out'}", "-x n", "-m 0"):
        assert flag in line
    assert line.endswith(f" {tmp_path / 'flair'}")


def test_found_without_an_activated_environment(tmp_path):
    """``/path/to/venv/bin/synflair`` from cron or a job script: PATH lacks the venv's bin."""
    import subprocess
    import sys

    console = Path(sys.executable).parent / "synflair"
    if not console.is_file():
        pytest.skip(f"no console script beside {sys.executable}")
    volume = np.random.default_rng(0).uniform(100, 1000, (16, 12, 4))
    _write(tmp_path / "flair", volume)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert not [d for d in env["PATH"].split(":") if (Path(d) / "dcm2niix").exists()]
    out = tmp_path / "out" / "FLAIR.nii.gz"
    argv = [str(console), "dicom2nifti", "--kind", "standard"]
    argv += ["--dicom", str(tmp_path / "flair"), "--out", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.is_file()
