import numpy as np

from synflair.geometry import orientation_of, slice_positions, stack_affine
from synflair.intensity import to_common_scale


def test_axial_stack_affine_matches_dicom_conventions():
    # Axial, rows along +x (patient left in LPS), columns along +y (posterior).
    aff = stack_affine([-120.0, -120.0, -70.0], [1, 0, 0, 0, 1, 0], [0.5, 0.25], 5.0)
    # i runs along LPS +x = RAS -x with the column spacing; j along LPS +y = RAS -y.
    np.testing.assert_allclose(aff[:3, 0], [-0.25, 0, 0])
    np.testing.assert_allclose(aff[:3, 1], [0, -0.5, 0])
    np.testing.assert_allclose(aff[:3, 2], [0, 0, 5.0])
    np.testing.assert_allclose(aff[:3, 3], [120.0, 120.0, -70.0])


def test_round_trip_oblique():
    rot = np.deg2rad(10)
    iop = [np.cos(rot), np.sin(rot), 0, -np.sin(rot), np.cos(rot), 0]
    aff = stack_affine([-100.0, -90.0, 20.0], iop, [0.47, 0.47], 5.0)
    orientation, spacing, step = orientation_of(aff)
    np.testing.assert_allclose(orientation, iop, atol=1e-12)
    np.testing.assert_allclose(spacing, [0.47, 0.47])
    assert step == 5.0
    pos = slice_positions(aff, 3)
    np.testing.assert_allclose(pos[0], [-100.0, -90.0, 20.0])
    np.testing.assert_allclose(pos[2] - pos[0], [0, 0, 10.0], atol=1e-12)


def test_common_scale_sets_the_masked_mean():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 10, (8, 8))
    mask = np.zeros((8, 8), bool)
    mask[2:6, 2:6] = True
    scaled, factor = to_common_scale(image, mask, 2000.0)
    assert scaled[mask].mean() == np.float32(2000.0) or abs(scaled[mask].mean() - 2000) < 1e-2
    assert factor == 2000.0 / image[mask].mean()
