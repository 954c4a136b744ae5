"""Accuracy and speed of ``synflair.registration`` on thick-slice MNI152 heads with known motion.

The fixed image samples nilearn's MNI152 T1 on an axial grid (4 mm slices,
5 mm steps: the paper's prescription); the moving image samples the same head
after a random rigid motion (up to 3 degrees and 3 mm per axis, about the
slab centre) on a different in-plane grid. Prints, per grid and ANTs preset,
the rotation and translation error against the truth (median and maximum over
the draws), the largest displacement over the brain, and the wall time.

Usage::

    python bench/bench_registration.py [--draws 5] [--seed 0] [--backend ants]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nibabel as nib
import nilearn
import numpy as np
from scipy import ndimage

from synflair.nifti import save
from synflair.registration import max_displacement, register, rigid_matrix, transform_error
from synflair.registration.ants import ANTS_PRESETS

MNI_T1 = (
    Path(nilearn.__file__).parent / "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
)
CENTER = np.array([0.0, -18.0, 12.0])
#: name -> (fixed spacing, fixed shape, moving spacing, moving shape); 4 mm slices, 5 mm step.
GRIDS = {
    "ci-like 2.5 mm": ((2.5, 2.5, 5.0), (88, 100, 12), (2.75, 2.75, 5.0), (80, 92, 12)),
    "demo-like 1.25 mm": ((1.25, 1.25, 5.0), (176, 200, 12), (1.25, 1.8, 5.0), (176, 140, 12)),
}


def axial_grid(spacing, shape):
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = CENTER - affine[:3, :3] @ ((np.asarray(shape) - 1) / 2)
    return affine


def sample_thick(volume, volume_affine, grid_affine, shape, thickness_vox=0.8):
    index = np.indices(shape).reshape(3, -1).astype(float)
    to_volume = np.linalg.inv(volume_affine) @ grid_affine
    offsets = np.linspace(-0.5, 0.5, 5) * thickness_vox
    total = np.zeros(index.shape[1])
    for offset in offsets:
        shifted = index + np.array([[0.0], [0.0], [offset]])
        total += ndimage.map_coordinates(
            volume, to_volume[:3, :3] @ shifted + to_volume[:3, 3:], order=1
        )
    return (total / offsets.size).reshape(shape)


def draw_motion(rng: np.random.Generator) -> np.ndarray:
    """A rigid head motion: up to 3 degrees and 3 mm per axis, about the slab centre."""
    return rigid_matrix(rng.uniform(-3, 3, 3), rng.uniform(-3, 3, 3), center_mm=CENTER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="ants", choices=("ants", "fsl", "auto"))
    args = parser.parse_args()
    image = nib.load(MNI_T1)
    template = np.asarray(image.dataobj, dtype=np.float32)
    rng = np.random.default_rng(args.seed)
    motions = [draw_motion(rng) for _ in range(args.draws)]
    presets = ANTS_PRESETS if args.backend == "ants" else {"default": None}
    print(f"backend {args.backend}, {args.draws} random motions (<= 3 deg, <= 3 mm per axis)")
    print(
        "grid                preset    rot err deg (median/max)  trans err mm (median/max)  "
        "max brain displ mm  time s"
    )
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        for grid_name, (f_spacing, f_shape, m_spacing, m_shape) in GRIDS.items():
            fixed_affine, moving_affine = (
                axial_grid(f_spacing, f_shape),
                axial_grid(m_spacing, m_shape),
            )
            fixed = save(
                sample_thick(template, image.affine, fixed_affine, f_shape),
                fixed_affine,
                work / "fixed.nii.gz",
            )
            brain = (
                sample_thick(
                    (template > 40).astype(np.float32), image.affine, fixed_affine, f_shape
                )
                > 0.5
            )
            for preset_name, settings in presets.items():
                rotations, translations, displacements, times = [], [], [], []
                for k, motion in enumerate(motions):
                    moving_data = sample_thick(
                        template, image.affine, np.linalg.inv(motion) @ moving_affine, m_shape
                    )
                    moving = save(moving_data, moving_affine, work / f"moving{k}.nii.gz")
                    start = time.perf_counter()
                    result = register(
                        moving,
                        fixed,
                        work / "reg.nii.gz",
                        backend=args.backend,
                        out_transform=work / "xfm.json",
                        settings=settings,
                    )
                    times.append(time.perf_counter() - start)
                    rotation, translation = transform_error(
                        result.fixed_to_moving_world, motion, CENTER
                    )
                    rotations.append(rotation)
                    translations.append(translation)
                    displacements.append(
                        max_displacement(result.fixed_to_moving_world, motion, brain, fixed_affine)
                    )
                print(
                    f"{grid_name:19s} {preset_name:9s} "
                    f"{np.median(rotations):6.3f} / {np.max(rotations):6.3f}          "
                    f"{np.median(translations):6.3f} / {np.max(translations):6.3f}          "
                    f"{np.max(displacements):6.3f}            {np.median(times):5.2f}"
                )


if __name__ == "__main__":
    main()
