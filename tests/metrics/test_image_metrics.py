import math

import numpy as np
import pytest
from skimage.metrics import normalized_root_mse, peak_signal_noise_ratio

from synflair.errors import SynflairError
from synflair.metrics import dice, mse, nrmse, nrmse_map, psnr


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    reference = rng.uniform(500, 4000, (16, 16, 6))
    image = reference * 1.1 + rng.normal(0, 150, reference.shape)
    mask = np.zeros(reference.shape, bool)
    mask[3:13, 2:14, 1:5] = True
    return image, reference, mask


def test_psnr_matches_scikit_image_inside_the_mask(pair):
    image, reference, mask = pair
    ours = psnr(image, reference, mask, peak=25500.0)
    theirs = peak_signal_noise_ratio(reference[mask], image[mask], data_range=25500.0)
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_nrmse_matches_scikit_image_mean_normalization(pair):
    image, reference, mask = pair
    ours = nrmse(image, reference, mask)
    # The paper divides by the mean of the image under test: skimage's image_true slot.
    theirs = normalized_root_mse(image[mask], reference[mask], normalization="mean")
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_known_values_constant_error():
    reference = np.full((4, 4, 4), 1000.0)
    image = reference + 255.0
    assert mse(image, reference) == pytest.approx(255.0**2)
    assert psnr(image, reference) == pytest.approx(20 * math.log10(25500.0 / 255.0))  # 40 dB
    assert psnr(image, reference, peak=255.0) == pytest.approx(0.0)
    assert nrmse(image, reference) == pytest.approx(255.0 / 1255.0)


def test_identical_images_have_infinite_psnr_and_zero_nrmse(pair):
    _, reference, mask = pair
    assert psnr(reference, reference, mask) == math.inf
    assert nrmse(reference, reference, mask) == 0.0


def test_only_masked_voxels_count(pair):
    image, reference, mask = pair
    spoiled = image.copy()
    spoiled[~mask] = 1e9
    assert psnr(spoiled, reference, mask) == psnr(image, reference, mask)
    assert nrmse(spoiled, reference, mask) == nrmse(image, reference, mask)


def test_normalizer_mask_changes_only_the_denominator(pair):
    image, reference, mask = pair
    wide = np.ones_like(mask)
    ratio = nrmse(image, reference, mask, normalizer_mask=wide) / nrmse(image, reference, mask)
    assert ratio == pytest.approx(image[mask].mean() / image.mean())


def test_nrmse_map_relates_to_nrmse(pair):
    image, reference, mask = pair
    error = nrmse_map(image, reference, mask)
    assert error.dtype == np.float32 and error.shape == image.shape
    assert not error[~mask].any()
    assert np.sqrt(np.mean(error[mask].astype(float) ** 2)) == pytest.approx(
        nrmse(image, reference, mask), rel=1e-5
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda i, r, m: psnr(i, r[:-1], m[:-1]), "same voxel grid"),
        (lambda i, r, m: psnr(i, r, m[:-1]), "mask has shape"),
        (lambda i, r, m: psnr(i, r, np.zeros_like(m)), "mask is empty"),
        (lambda i, r, m: psnr(np.where(m, np.nan, i), r, m), "NaN"),
        (lambda i, r, m: psnr(i, r, m, peak=0.0), "peak must be"),
        (lambda i, r, m: nrmse(np.where(m, 0.0, i), r, m), "positive mean"),
        (lambda i, r, m: nrmse_map(np.where(m, 0.0, i), r, m), "does the mask overlap"),
    ],
)
def test_bad_input(pair, call, match):
    with pytest.raises(SynflairError, match=match):
        call(*pair)


def test_dice():
    a = np.zeros((6, 6, 6), bool)
    b = np.zeros_like(a)
    a[1:3, 1:3, 1:3] = True  # 8 voxels
    b[2:4, 1:3, 1:3] = True  # 8 voxels, 4 shared
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(a, a) == 1.0
    assert dice(a, np.roll(a, 3, axis=0)) == 0.0
    assert math.isnan(dice(np.zeros_like(a), np.zeros_like(a)))
    assert dice(a.astype(np.uint8) * 3, b.astype(float)) == pytest.approx(0.5)
    with pytest.raises(SynflairError, match="same grid"):
        dice(a, b[:-1])
