"""Pose, motion and smooth deformation (synflair.phantom.deformation)."""

from __future__ import annotations

import numpy as np
import pytest

from synflair.phantom.deformation import (
    HEAD_CENTER_MNI,
    Pose,
    draw_deformation,
    draw_motion,
    draw_pose,
    rigid_matrix,
    rotation_matrix,
)


def test_rotation_matrix_convention():
    r = rotation_matrix((10.0, -20.0, 30.0))
    assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
    # 90 degrees about z takes x to y (right-handed, RAS).
    assert np.allclose(rotation_matrix((0, 0, 90)) @ [1, 0, 0], [0, 1, 0])
    assert np.allclose(rotation_matrix((90, 0, 0)) @ [0, 1, 0], [0, 0, 1])
    a, b = rotation_matrix((10, 0, 0)), rotation_matrix((0, 0, 30))
    assert np.allclose(rotation_matrix((10, 0, 30)), b @ a)


def test_rigid_matrix_keeps_its_centre():
    center = np.array([1.0, -20.0, 5.0])
    m = rigid_matrix((3, -2, 1), (0, 0, 0), center)
    assert np.allclose(m @ np.append(center, 1), np.append(center, 1))
    m = rigid_matrix((3, -2, 1), (1, 2, 3), center)
    assert np.allclose((m @ np.append(center, 1))[:3], center + np.array([1, 2, 3]))
    assert np.allclose(Pose().matrix(), np.eye(4))


def test_draw_pose_and_motion_ranges():
    rng = np.random.default_rng(0)
    for _ in range(50):
        pose = draw_pose(rng, (6, 3, 4), (3, 5, 4), (0.9, 0.95))
        assert np.all(np.abs(pose.rotation_deg) <= (6, 3, 4))
        assert np.all(np.abs(pose.translation_mm) <= (3, 5, 4))
        assert np.all((np.array(pose.scale) >= 0.9 * 0.97) & (np.array(pose.scale) <= 0.95 * 1.03))
        motion = draw_motion(rng, 3.0, 3.0)
        assert max(map(abs, motion.rotation_deg)) <= 3 and max(map(abs, motion.translation_mm)) <= 3
        assert motion.scale == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="scale"):
        Pose(scale=(1.0, 0.0, 1.0))


def test_deformation_statistics_and_reproducibility():
    affine = np.eye(4)
    affine[:3, 3] = (-90, -120, -80)
    a = draw_deformation(np.random.default_rng(5), affine, (180, 220, 180), 2.0, 20.0)
    b = draw_deformation(np.random.default_rng(5), affine, (180, 220, 180), 2.0, 20.0)
    assert np.array_equal(a.field, b.field)
    assert np.allclose(a.field.reshape(3, -1).std(axis=1), 2.0, rtol=1e-3)
    points = np.random.default_rng(1).uniform([-80, -110, -70], [80, 90, 90], (500, 3)).T
    moved = a(points)
    shift = np.linalg.norm(moved - points, axis=0)
    assert 0.5 < shift.mean() < 6.0
    # Smooth and invertible: the Jacobian (finite differences over 1 mm) stays near identity.
    jacobian = np.stack([a(points + np.eye(3)[:, [d]]) - moved for d in range(3)], axis=-1)
    deviation = np.abs(jacobian - np.eye(3)[:, None, :])
    assert deviation.mean() < 0.1 and deviation.max() < 0.4
    assert np.all(np.linalg.det(np.moveaxis(jacobian, 1, 0)) > 0.5)


def test_zero_deformation_is_identity():
    d = draw_deformation(np.random.default_rng(0), np.eye(4), (50, 50, 50), 0.0, 10.0)
    points = np.array([[10.0, 20.0, 30.0], [1.5, 2.5, 3.5]]).T
    assert np.allclose(d(points), points)
    with pytest.raises(ValueError, match="smoothness_mm"):
        draw_deformation(np.random.default_rng(0), np.eye(4), (50, 50, 50), 1.0, 0.0)


def test_head_center_is_inside_the_brain(template):
    index = np.linalg.solve(template.affine, np.append(HEAD_CENTER_MNI, 1))[:3].round().astype(int)
    assert template.icv[tuple(index)] == pytest.approx(1.0)
