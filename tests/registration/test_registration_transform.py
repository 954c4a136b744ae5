"""The transform convention, its JSON form and the error measures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synflair.errors import SynflairError
from synflair.registration.transform import (
    CONVENTION,
    WorldTransform,
    closest_rotation,
    euler_deg,
    max_displacement,
    read_transform,
    rigid_matrix,
    rotation_angle_deg,
    transform_error,
)


def test_rigid_matrix_euler_round_trip():
    angles = np.array([3.0, -2.0, 5.5])
    matrix = rigid_matrix(angles, (1.0, -2.0, 3.0))
    np.testing.assert_allclose(euler_deg(matrix), angles, atol=1e-10)
    np.testing.assert_allclose(matrix[:3, 3], [1.0, -2.0, 3.0])
    np.testing.assert_allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3), atol=1e-12)


def test_rigid_matrix_is_extrinsic_xyz():
    # A 90 degree rotation about z sends the x axis to y (right-handed, RAS).
    matrix = rigid_matrix((0.0, 0.0, 90.0))
    np.testing.assert_allclose(matrix[:3, :3] @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)
    # x first, then z: Rz @ Rx.
    rx, rz = rigid_matrix((30.0, 0.0, 0.0)), rigid_matrix((0.0, 0.0, 40.0))
    np.testing.assert_allclose(rigid_matrix((30.0, 0.0, 40.0)), rz @ rx, atol=1e-12)


def test_rigid_matrix_center_is_fixed_point():
    center = np.array([10.0, -20.0, 30.0])
    matrix = rigid_matrix((4.0, 5.0, 6.0), (0.0, 0.0, 0.0), center_mm=center)
    np.testing.assert_allclose(matrix @ np.append(center, 1.0), np.append(center, 1.0))


def test_closest_rotation_removes_scaling_and_shear():
    rotation = rigid_matrix((10.0, 0.0, -7.0))[:3, :3]
    symmetric = np.array([[1.1, 0.05, 0.0], [0.05, 0.9, 0.02], [0.0, 0.02, 1.2]])
    np.testing.assert_allclose(closest_rotation(rotation @ symmetric), rotation, atol=1e-12)
    with pytest.raises(ValueError, match="positive determinant"):
        closest_rotation(np.diag([-1.0, 1.0, 1.0]))


def test_transform_error_limits():
    center = np.array([0.0, -18.0, 12.0])
    truth = rigid_matrix((2.0, -1.0, 3.0), (2.0, 1.0, -1.0), center_mm=center)
    assert transform_error(truth, truth, center) == pytest.approx((0.0, 0.0), abs=1e-9)
    # A pure translation error of (1, 2, 2) mm: 3 mm everywhere, no rotation.
    shifted = rigid_matrix(translation_mm=(1.0, 2.0, 2.0)) @ truth
    assert transform_error(shifted, truth, center) == pytest.approx((0.0, 3.0), abs=1e-9)
    # An extra 1.5 degree rotation about the centre: no displacement there.
    rotated = truth @ rigid_matrix((0.0, 1.5, 0.0), center_mm=center)
    rotation, translation = transform_error(rotated, truth, center)
    assert rotation == pytest.approx(1.5, abs=1e-9)
    assert translation == pytest.approx(0.0, abs=1e-9)


def test_max_displacement_of_a_rotation_is_at_the_farthest_voxel():
    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    mask = np.zeros((11, 11, 3), dtype=bool)
    mask[:, :, 1] = True
    center = affine @ [5.0, 5.0, 1.0, 1.0]
    angle = 2.0
    rotated = rigid_matrix((0.0, 0.0, angle), center_mm=center[:3])
    radius = np.hypot(10.0, 10.0)  # corner voxel, 5 voxels x 2 mm from the centre
    expected = 2 * radius * np.sin(np.radians(angle) / 2)
    assert max_displacement(rotated, np.eye(4), mask, affine) == pytest.approx(expected)
    translated = rigid_matrix(translation_mm=(0.0, 0.3, 0.4))
    assert max_displacement(translated, np.eye(4), mask, affine) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-empty 3D mask"):
        max_displacement(rotated, np.eye(4), np.zeros((3, 3, 3), bool), affine)


def test_rotation_angle_of_inverse_is_the_same():
    matrix = rigid_matrix((5.0, -3.0, 2.0), (4.0, 0.0, 1.0))
    assert rotation_angle_deg(matrix) == pytest.approx(rotation_angle_deg(np.linalg.inv(matrix)))


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.eye(3), "4x4"),
        (np.full((4, 4), np.nan), "finite"),
        (np.ones((4, 4)), "last row"),
        (np.diag([0.0, 1.0, 1.0, 1.0]), "invertible"),
    ],
)
def test_world_transform_rejects_bad_matrices(matrix, message):
    with pytest.raises(ValueError, match=message):
        WorldTransform(matrix, backend="ants", dof=6)


def test_world_transform_rejects_bad_backend_and_dof():
    with pytest.raises(ValueError, match="backend"):
        WorldTransform(np.eye(4), backend="spm", dof=6)
    with pytest.raises(ValueError, match="dof"):
        WorldTransform(np.eye(4), backend="fsl", dof=9)


def test_world_transform_json_round_trip(tmp_path):
    matrix = rigid_matrix((1.0, 2.0, -3.0), (4.0, -5.0, 6.0))
    transform = WorldTransform(matrix, backend="fsl", dof=6, details={"moving": "a.nii.gz"})
    path = transform.write(tmp_path / "xfm.json")
    document = json.loads(path.read_text())
    assert document["backend"] == "fsl"
    assert document["dof"] == 6
    assert document["convention"] == CONVENTION
    assert document["moving"] == "a.nii.gz"
    np.testing.assert_allclose(document["rotation_deg"], [1.0, 2.0, -3.0], atol=1e-10)
    np.testing.assert_allclose(document["translation_mm"], [4.0, -5.0, 6.0])
    np.testing.assert_allclose(read_transform(path), matrix, atol=1e-12)
    np.testing.assert_allclose(transform.moving_to_fixed_world @ matrix, np.eye(4), atol=1e-12)
    with pytest.raises(ValueError):
        transform.fixed_to_moving_world[0, 0] = 2.0  # read-only


def test_read_transform_reads_the_phantom_key(tmp_path):
    matrix = rigid_matrix((0.5, 0.0, 0.0), (0.0, 1.0, 0.0))
    path = tmp_path / "sub-ph01_motion.json"
    path.write_text(json.dumps({"flair_from_mdme": matrix.tolist(), "rotation_deg": [0.5, 0, 0]}))
    np.testing.assert_allclose(read_transform(path, key="flair_from_mdme"), matrix)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not a readable JSON"),
        ("[1, 2]", "key 'fixed_to_moving_world'"),
        ('{"fixed_to_moving_world": [[1, 0], [0, 1]]}', "4x4"),
        ('{"fixed_to_moving_world": [[1, 0, 0, 0], [0, 1]]}', "fixed_to_moving_world"),
    ],
)
def test_read_transform_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "xfm.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SynflairError, match=message) as info:
        read_transform(path)
    assert str(path) in str(info.value)


def test_resample_world_samples_the_moving_image_at_m_times_x():
    from synflair.registration.transform import resample_world

    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    affine[:3, 3] = (-10.0, 4.0, 20.0)
    data = np.zeros((12, 10, 6))
    data[5, 4, 2] = 1.0
    # The fixed point x sees the moving point x + (4, 0, 5) mm: 2 voxels in i, 1 slice.
    shift = np.eye(4)
    shift[:3, 3] = (4.0, 0.0, 5.0)
    out = resample_world(data, affine, data.shape, affine, shift)
    assert out[3, 4, 1] == pytest.approx(1.0)
    assert out.sum() == pytest.approx(1.0)
    # Half a slice: linear interpolation splits the voxel between two slices.
    shift[:3, 3] = (0.0, 0.0, 2.5)
    out = resample_world(data, affine, data.shape, affine, shift)
    assert out[5, 4, 1] == pytest.approx(0.5) and out[5, 4, 2] == pytest.approx(0.5)
    with pytest.raises(SynflairError, match="3D"):
        resample_world(data[..., 0], affine, data.shape, affine, shift)
