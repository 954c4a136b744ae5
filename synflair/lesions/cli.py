"""``synflair lesions``: FLAIR-hyperintensity lesion map of one FLAIR image.

For a user with a FLAIR and a T1 (skull-stripped or not)::

    synflair lesions --flair FLAIR.nii.gz --t1 T1.nii.gz --out lesions.nii.gz

segments the T1 into GM/WM/CSF itself (inside ``--mask``, or a brain mask it
estimates) and writes the lesion mask, the belief map (``--belief-out``,
default ``<out>_belief.nii.gz``) and a JSON sidecar with the parameters. The
workflow passes ``--mask --gm --wm --csf`` (maps of the synthetic T1w or R1
map) instead of ``--t1``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import numpy as np

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.lesions.brainmask import estimate_brain_mask
from synflair.lesions.detection import label_lesions
from synflair.lesions.override import apply_override, load_override
from synflair.lesions.params import LesionParams
from synflair.lesions.segment import segment
from synflair.lesions.space import GridPair
from synflair.lesions.tissues import segment_tissues
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
    "z_low": "hyperintensity score (SDs above the brighter of GM/WM) where the belief starts",
    "z_high": "score where the belief reaches 1",
    "heterogeneity": "relative SD of normal tissue added to the measured WM spread",
    "kappa": "initial threshold: belief that seeds a lesion",
    "grow_threshold": "belief a neighbouring voxel needs for the lesion to grow into it",
    "t1_growth_z": "score a T1-hypointense neighbouring voxel needs for growth",
    "purity": "tissue probability of the voxels used for tissue intensity statistics",
    "max_csf_prob": "voxels with a higher CSF probability never seed a lesion",
    "boundary_fraction": "trim each lesion to this fraction of its peak score (0: off)",
    "min_volume_mm3": "smallest lesion kept, mm^3",
    "connectivity": "neighbourhood: 1 face, 2 edge, 3 corner",
    "bias_degree": "polynomial degree of the removed intensity bias (0: no correction)",
    "smoothing_mm": "Gaussian denoising of the FLAIR before scoring, mm (0: none)",
    "min_tissue_voxels": "fewest pure voxels per tissue",
    "local_mm": "neighbourhood (Gaussian SD, mm) of the regional WM reference (0: global)",
    "ribbon_mm": "voxels this close to sulcal CSF or the brain surface never seed a lesion",
    "ventricle_depth_mm": "thick CSF this deep (median mm from the surface) is ventricle",
    "wm_shell_fraction": "fraction of WM or ventricle a lesion's surroundings need",
    "shell_mm": "width of those surroundings, mm",
    "shell_exempt_z": "peak score from which a lesion is kept whatever surrounds it",
    "gm_peak_z": "peak score a lesion mostly outside WM needs",
    "min_mean_z": "mean score a lesion needs",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``synflair lesions``; every :class:`LesionParams` field is an option."""
    parser.add_argument("--flair", required=True, help="FLAIR image (NIfTI)")
    parser.add_argument(
        "--mask",
        help="brain (intracranial) mask on the FLAIR grid (with --transform: on the tissue maps' "
        "grid); default: estimated from the T1 and FLAIR",
    )
    parser.add_argument(
        "--t1",
        help="T1w image or R1 map on the FLAIR grid, segmented into GM/WM/CSF when no "
        "--gm/--wm/--csf are given",
    )
    parser.add_argument("--backend", choices=("auto", "ants", "fsl"), default="auto",
                        help="tissue segmentation of --t1 (default auto: FAST if FSL, else "
                             "Atropos)")  # fmt: skip
    parser.add_argument(
        "--transform",
        help="registration transform JSON (fixed_to_moving_world) from the mask's and tissue maps' "
        "grid (fixed) to the FLAIR (moving): the FLAIR is then segmented on its own grid, the "
        "maps carried there, and the lesion and belief maps written on the mask's grid",
    )
    parser.add_argument("--gm", help="GM probability (*_label-GM_probseg.nii.gz)")
    parser.add_argument("--wm", help="WM probability (*_label-WM_probseg.nii.gz)")
    parser.add_argument("--csf", help="CSF probability (*_label-CSF_probseg.nii.gz)")
    parser.add_argument("--out", required=True, help="output lesion mask (NIfTI, 0/1)")
    parser.add_argument("--belief-out", help="output belief map of lesion, in [0, 1] (NIfTI; "
                        "default <out>_belief.nii.gz)")  # fmt: skip
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


def belief_path(out: str | Path) -> Path:
    """``x_lesions.nii.gz`` -> ``x_lesions_belief.nii.gz`` (the default of --belief-out)."""
    sidecar = sidecar_path(out)
    return sidecar.with_name(sidecar.stem + "_belief.nii.gz")


def _tissue_maps(args, flair_image, on_grid):
    """Brain mask and GM/WM/CSF maps: given, or from --t1 (segmented here)."""
    given = [name for name in ("gm", "wm", "csf") if getattr(args, name)]
    if given and len(given) < 3:
        missing = sorted({"gm", "wm", "csf"} - set(given))
        raise SynflairError(f"--gm, --wm and --csf go together; missing --{', --'.join(missing)}")
    if args.transform and not (given and args.mask):
        raise SynflairError("--transform needs --mask, --gm, --wm and --csf on the maps' grid")
    mask = on_grid(args.mask) > 0.5 if args.mask else None
    if mask is not None and not mask.any():
        raise SynflairError(f"{args.mask}: the brain mask is empty; expected the brain's voxels")
    if given:
        probs = {name: on_grid(getattr(args, name)) for name in ("gm", "wm", "csf")}
        if mask is None:
            mask = sum(probs.values()) > 0.5
        return mask, probs, "given (--gm/--wm/--csf)"
    if not args.t1:
        raise SynflairError("give --t1 (a T1w or R1 map on the FLAIR grid) or --gm, --wm and --csf")
    t1, t1_image = load_data(args.t1, ndim=3)
    if t1.shape != flair_image.shape or not np.allclose(t1_image.affine, flair_image.affine,
                                                       atol=1e-3):  # fmt: skip
        raise SynflairError(
            f"{args.t1} (shape {t1.shape}) and {args.flair} (shape {flair_image.shape}) are on "
            "different grids; expected the same grid: register the T1 to the FLAIR and resample "
            "it first, or pass tissue maps with --gm/--wm/--csf and --transform"
        )
    if mask is None:
        flair = np.asarray(flair_image.dataobj, dtype=np.float64)
        voxel = tuple(float(v) for v in flair_image.header.get_zooms()[:3])
        mask = estimate_brain_mask(t1, flair, voxel)
    probs = segment_tissues(args.t1, mask, flair_image, backend=args.backend)
    return mask, probs, f"segmented from {args.t1} ({args.backend})"


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
    reference, reference_path = image, args.flair
    if args.transform and args.mask:
        reference_path = args.mask
        reference = load_data(args.mask, ndim=3)[1]

    def on_grid(path):
        data, other = load_data(path, ndim=3)
        check_same_grid(other, reference, path, reference_path)
        return data

    mask, probs, maps_source = _tissue_maps(args, image, on_grid)
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
        result = segment(flair, mask, probs["gm"], probs["wm"], probs["csf"], params,
                         voxel_size=voxel_size)  # fmt: skip
    except SynflairError as error:
        raise SynflairError(f"{args.flair}: {error}") from error
    automatic, belief = result.lesions, result.belief
    if grids is not None:
        automatic, belief = grids.mask_to_reference(automatic), grids.to_reference(belief)
    lesions, source = apply_override(automatic, override)
    belief_out = args.belief_out or belief_path(args.out)
    save(lesions.astype(np.uint8), reference.affine, args.out, header=reference.header,
         dtype=np.uint8)  # fmt: skip
    save(belief, reference.affine, belief_out, header=reference.header, dtype=np.float32)
    _, n_lesions = label_lesions(lesions, params.connectivity)
    voxel_ml = float(np.prod(reference.header.get_zooms()[:3])) / 1000.0
    ref = result.maps.reference
    write_json(sidecar_path(args.out), {
        "source": source,
        "override": str(args.override) if args.override else None,
        "n_lesions": n_lesions,
        "volume_ml": float(lesions.sum()) * voxel_ml,
        "automatic_n_voxels": int(automatic.sum()),
        "belief": str(belief_out),
        "tissue_maps": maps_source,
        "brain_mask": str(args.mask) if args.mask else "estimated",
        "segmented_on": f"the FLAIR's own grid, carried by {args.transform}" if grids else
                        "the grid of the FLAIR and the tissue maps",
        "params": params.to_dict(),
        "tissue_statistics": {name: dataclasses.asdict(s) for name, s in ref.tissues.items()},
        "reference": {"ceiling": ref.ceiling, "wm_location": ref.wm_location,
                      "wm_spread": ref.spread},
        "method": "FLAIR hyperintensity against the subject's GM/WM (after LST-LGA, Schmidt "
                  "et al. NeuroImage 2012;59:3774-3783); see docs/lesions.md",
    })  # fmt: skip
    log.info("%s: %d lesion(s), %.2f ml (%s) -> %s", args.flair, n_lesions,
             float(lesions.sum()) * voxel_ml, source, args.out)  # fmt: skip
