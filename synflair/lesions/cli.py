"""``synflair lesions``: FLAIR-hyperintensity lesion map of one FLAIR image."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import numpy as np

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.lesions.belief import belief_map
from synflair.lesions.detection import label_lesions
from synflair.lesions.growth import grow_lesions
from synflair.lesions.override import apply_override, load_override
from synflair.lesions.params import LesionParams
from synflair.lesions.space import GridPair
from synflair.nifti import check_same_grid, load_data, save
from synflair.registration.transform import read_transform

log = logging.getLogger(__name__)


def sidecar_path(out: str | Path) -> Path:
    """``x_lesions.nii.gz`` -> ``x_lesions.json``."""
    out = Path(out)
    name = out.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return out.with_name(name + ".json")


#: One-line help per :class:`LesionParams` field (the class docstring has the details).
PARAM_HELP = {
    "z_low": "robust z-score where the belief of hyperintensity starts to rise",
    "z_high": "robust z-score where the belief reaches 1",
    "heterogeneity": "relative SD of normal tissue added to the measured tissue spread",
    "gm_floor": "a voxel must also be brighter than if its parenchyma were all GM",
    "kappa": "initial threshold: belief that seeds a lesion",
    "grow_threshold": "belief a neighbouring voxel needs for the lesion to grow into it",
    "purity": "tissue probability of the voxels used for tissue intensity statistics",
    "max_csf_prob": "voxels with a higher CSF probability are never lesion",
    "boundary_fraction": "trim each lesion to this fraction of its peak z (0: off)",
    "min_volume_mm3": "smallest lesion kept, mm^3",
    "connectivity": "neighbourhood: 1 face, 2 edge, 3 corner",
    "bias_degree": "polynomial degree of the removed intensity bias (0: no correction)",
    "smoothing_mm": "Gaussian denoising of the FLAIR before scoring (0: none)",
    "min_tissue_voxels": "fewest pure voxels per tissue",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair lesions``; every :class:`LesionParams` field is an option."""
    parser.add_argument("--flair", required=True, help="FLAIR image (NIfTI)")
    parser.add_argument(
        "--mask",
        required=True,
        help="intracranial mask on the FLAIR grid (with --transform: on the tissue maps' grid)",
    )
    parser.add_argument(
        "--transform",
        help="registration transform JSON (fixed_to_moving_world) from the mask's and tissue maps' "
        "grid (fixed) to the FLAIR (moving): the FLAIR is then segmented on its own grid, the "
        "maps carried there, and the lesion and belief maps written on the mask's grid",
    )
    parser.add_argument("--gm", required=True, help="GM probability (*_label-GM_probseg.nii.gz)")
    parser.add_argument("--wm", required=True, help="WM probability (*_label-WM_probseg.nii.gz)")
    parser.add_argument("--csf", required=True, help="CSF probability (*_label-CSF_probseg.nii.gz)")
    parser.add_argument("--out", required=True, help="output lesion mask (NIfTI, 0/1)")
    parser.add_argument("--belief-out", help="output belief map of hyperintensity (NIfTI)")
    parser.add_argument(
        "--override",
        help="a lesion mask (e.g. manually corrected) written instead of the automatic one",
    )
    defaults = LesionParams()
    group = parser.add_argument_group("segmentation parameters")
    for field in dataclasses.fields(LesionParams):
        default = getattr(defaults, field.name)
        flag = f"--{field.name.replace('_', '-')}"
        text = f"{PARAM_HELP[field.name]} (default {default})"
        if isinstance(default, bool):
            group.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction,
                               default=default, help=text)  # fmt: skip
        else:
            group.add_argument(flag, dest=field.name, type=type(default), default=default,
                               help=text)  # fmt: skip


def run(args: argparse.Namespace) -> None:
    """Run ``synflair lesions``."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(LesionParams)}
    try:
        params = LesionParams(**values)
    except ValueError as error:
        raise SynflairError(f"synflair lesions options: {error}") from error
    flair, image = load_data(args.flair, ndim=3)
    # The grid of the tissue maps, the override and the outputs: the FLAIR's own, or with
    # --transform the mask's.
    mask, mask_image = load_data(args.mask, ndim=3)
    reference, reference_path = (mask_image, args.mask) if args.transform else (image, args.flair)
    check_same_grid(mask_image, reference, args.mask, reference_path)

    def on_grid(path):
        data, other = load_data(path, ndim=3)
        check_same_grid(other, reference, path, reference_path)
        return data

    mask = mask > 0.5
    if not mask.any():
        raise SynflairError(f"{args.mask}: the intracranial mask is empty")
    probs = {name: on_grid(getattr(args, name)) for name in ("gm", "wm", "csf")}
    override = load_override(args.override, reference, reference_path) if args.override else None
    grids = None
    if args.transform:
        grids = GridPair(flair.shape, image.affine, mask.shape, reference.affine,
                         read_transform(args.transform))  # fmt: skip
        mask, probs = grids.mask_to_flair(mask), grids.probabilities_to_flair(probs)
        if not mask.any():
            raise SynflairError(
                f"{args.mask} carried by {args.transform} does not overlap {args.flair}; "
                "expected the transform of this FLAIR's registration"
            )
    voxel_size = tuple(float(v) for v in image.header.get_zooms()[:3])
    try:
        belief, z, stats = belief_map(
            flair, mask, probs["gm"], probs["wm"], probs["csf"], params, voxel_size=voxel_size
        )
    except SynflairError as error:
        raise SynflairError(f"{args.flair}: {error}") from error
    candidates = mask & (probs["csf"] <= params.max_csf_prob)
    automatic = grow_lesions(belief, candidates, params, z=z, voxel_size=voxel_size)
    if grids is not None:
        automatic, belief = grids.mask_to_reference(automatic), grids.to_reference(belief)
    lesions, source = apply_override(automatic, override)
    save(lesions.astype(np.uint8), reference.affine, args.out, header=reference.header,
         dtype=np.uint8)  # fmt: skip
    if args.belief_out:
        save(belief, reference.affine, args.belief_out, header=reference.header, dtype=np.float32)
    _, n_lesions = label_lesions(lesions, params.connectivity)
    voxel_ml = float(np.prod(reference.header.get_zooms()[:3])) / 1000.0
    write_json(sidecar_path(args.out), {
        "source": source,
        "override": str(args.override) if args.override else None,
        "n_lesions": n_lesions,
        "volume_ml": float(lesions.sum()) * voxel_ml,
        "automatic_n_voxels": int(automatic.sum()),
        "segmented_on": f"the FLAIR's own grid, carried by {args.transform}" if grids else
                        "the grid of the FLAIR and the tissue maps",
        "params": params.to_dict(),
        "tissue_statistics": {name: dataclasses.asdict(s) for name, s in stats.items()},
    })  # fmt: skip
    log.info("%s: %d lesion(s), %.2f ml (%s) -> %s", args.flair, n_lesions,
             float(lesions.sum()) * voxel_ml, source, args.out)  # fmt: skip
