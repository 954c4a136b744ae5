"""Simulated MDME data for the quantification tests (imported by the tests in tests/quantify).

``simulate`` draws complex MDME signals of given tissues with complex Gaussian
noise; ``head`` builds a small thick-slice head from nilearn's bundled MNI152
2009a maps (brain = the brain-extracted T1's support, closed; CSF = what GM and
WM leave of it) wrapped in skull and scalp shells (cortical bone: no signal;
diploe marrow, muscle, subcutaneous fat, skin), averaged to 2 x 2 x 5 mm voxels
so that the edges have partial volume, as the phantom has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
from scipy import ndimage

from synflair.physics import MDME_PAPER

#: 3 T values (T1 ms, T2 ms, PD water = 1); the phantom's references (synflair.phantom.tissues).
TISSUES = {
    "WM": (832.0, 80.0, 0.68),
    "GM": (1331.0, 100.0, 0.79),
    "CSF": (4000.0, 1500.0, 1.0),
    "lesion": (1300.0, 150.0, 0.85),
    "fat": (382.0, 68.0, 0.90),
    "muscle": (1412.0, 50.0, 0.70),
    "marrow": (586.0, 49.0, 0.80),
}
#: Noise standard deviation per channel: SNR ~40 in WM at TD4/TE1 (0.68 * 0.99 * 0.81 / 0.0135).
SIGMA = 0.0135

MNI = Path(nilearn.__file__).parent / "datasets" / "data"


def simulate(rng, t1, t2, pd, b1=1.0, sigma=SIGMA, protocol=MDME_PAPER):
    """Complex MDME signals ``(..., 8)`` of single tissues plus complex Gaussian noise."""
    signal = protocol.signal(t1, t2, pd, b1)
    noise = rng.standard_normal((*signal.shape, 2)) @ np.array([1.0, 1j])
    return signal + sigma * noise


def mixture(rng, fractions: dict[str, np.ndarray], b1=1.0, sigma=SIGMA, protocol=MDME_PAPER):
    """Complex signals of voxels holding several tissues (fraction-weighted sum) plus noise."""
    total = 0.0
    for name, fraction in fractions.items():
        t1, t2, pd = TISSUES[name]
        total = total + np.asarray(fraction)[..., None] * protocol.signal(t1, t2, pd, b1)
    noise = rng.standard_normal((*np.shape(total), 2)) @ np.array([1.0, 1j])
    return total + sigma * noise


@dataclass(frozen=True, eq=False)
class Head:
    """A simulated head: fractions, complex MDME signals and the truth."""

    fractions: dict  # name -> (X, Y, Z) float
    b1: np.ndarray
    signals: np.ndarray  # complex (X, Y, Z, 8)
    icv: np.ndarray  # bool, intracranial fraction >= 0.5
    voxel_size: tuple[float, float, float]


def _ball(radius: int) -> np.ndarray:
    i, j, k = np.mgrid[-radius : radius + 1, -radius : radius + 1, -radius : radius + 1]
    return i * i + j * j + k * k <= radius * radius


def build_head(rng, sigma=SIGMA, block=(2, 2, 5), z_range=(-12, 53)) -> Head:
    """See the module docstring; slices cover MNI z in ``z_range`` (mm)."""
    k0, k1 = z_range[0] + 72, z_range[1] + 72
    load = {n: np.asarray(nib.load(MNI / f"mni_icbm152_{n}_tal_nlin_sym_09a_converted.nii.gz")
                          .dataobj)[:, :, k0 - 8 : k1 + 8].astype(np.float32)
            for n in ("t1", "gm", "wm")}  # fmt: skip
    brain = load["t1"] > 0
    icv = ndimage.binary_closing(brain, structure=_ball(3), iterations=2)
    icv = ndimage.binary_dilation(icv, structure=_ball(1))
    icv = np.stack([ndimage.binary_fill_holes(icv[:, :, k]) for k in range(icv.shape[2])], -1)
    wm, gm = load["wm"] / 255.0, load["gm"] / 255.0
    scale = np.where(wm + gm > 1.0, 1.0 / np.maximum(wm + gm, 1e-6), 1.0) * icv
    wm, gm = wm * scale, gm * scale
    distance = ndimage.distance_transform_edt(~icv)
    shells = {
        "marrow": (distance > 1.5) & (distance <= 4.0),
        "muscle": ((distance > 5.5) & (distance <= 7.0)) | ((distance > 11.0) & (distance <= 12.5)),
        "fat": (distance > 7.0) & (distance <= 11.0),
    }
    fine = {"WM": wm, "GM": gm, "CSF": icv - wm - gm}
    fine.update({k: v.astype(np.float32) for k, v in shells.items()})
    fine = {k: v[:, :, 8:-8] for k, v in fine.items()}
    icv = icv[:, :, 8:-8].astype(np.float32)

    def coarse(a):
        shape = [s // b for s, b in zip(a.shape, block, strict=True)]
        a = a[: shape[0] * block[0], : shape[1] * block[1], : shape[2] * block[2]]
        return a.reshape(shape[0], block[0], shape[1], block[1], shape[2], block[2]).mean((1, 3, 5))

    fractions = {k: coarse(v) for k, v in fine.items()}
    icv_fraction = coarse(icv)
    shape = icv_fraction.shape
    x = np.linspace(-1, 1, shape[0])[:, None, None]
    y = np.linspace(-1, 1, shape[1])[None, :, None]
    b1 = np.broadcast_to(1.0 + 0.08 * x - 0.05 * y + 0.0 * icv_fraction, shape)
    signals = mixture(rng, fractions, b1=b1, sigma=sigma)
    return Head(fractions, b1, signals, icv_fraction >= 0.5, tuple(float(b) for b in block))
