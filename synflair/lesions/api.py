"""The file-level lesion segmentation of one FLAIR (``synflair lesions``): paths in, paths out.

:func:`segment_lesions_file` reads the FLAIR and the brain mask and tissue maps (given, or
segmented from a T1w or R1 map), runs :func:`synflair.lesions.segment.segment` (the
composition :func:`~synflair.lesions.segment_lesions` returns), applies a supplied override
mask, and writes the lesion mask, the belief map and a JSON sidecar with the parameters.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synflair.atomic import write_json
from synflair.errors import SynflairError
from synflair.io.sidecar import sidecar_path
from synflair.lesions.brainmask import estimate_brain_mask
from synflair.lesions.detection import label_lesions
from synflair.lesions.override import apply_override, load_override
from synflair.lesions.params import LesionParams
from synflair.lesions.segment import DEFAULT_PARAMS, segment
from synflair.lesions.space import GridPair
from synflair.lesions.tissues import segment_tissues
from synflair.nifti import check_same_grid, load_data, save
from synflair.registration.transform import read_transform

__all__ = ["LesionInputs", "belief_path", "segment_lesions_file"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike


@dataclass(frozen=True)
class LesionInputs:
    """The images of one lesion segmentation (the options of ``synflair lesions``).

    Attributes
    ----------
    flair : path-like
        The FLAIR image.
    mask : path-like, optional
        Brain (intracranial) mask on the FLAIR grid (with ``transform``: on the tissue
        maps' grid); default: estimated from ``t1`` and the FLAIR.
    t1 : path-like, optional
        T1w image or R1 map on the FLAIR grid, segmented into GM/WM/CSF when no tissue
        maps are given.
    backend : {"auto", "ants", "fsl"}
        Tissue segmentation of ``t1``.
    transform : path-like, optional
        Registration transform JSON from the mask's and maps' grid (fixed) to the FLAIR
        (moving): the FLAIR is segmented on its own grid and the outputs written on the
        mask's grid.
    gm, wm, csf : path-like, optional
        Tissue probability maps (all three or none).
    override : path-like, optional
        A lesion mask written instead of the automatic one.
    """

    flair: PathLike
    mask: PathLike | None = None
    t1: PathLike | None = None
    backend: str = "auto"
    transform: PathLike | None = None
    gm: PathLike | None = None
    wm: PathLike | None = None
    csf: PathLike | None = None
    override: PathLike | None = None


def belief_path(out: str | Path) -> Path:
    """``x_lesions.nii.gz`` -> ``x_lesions_belief.nii.gz`` (the default of --belief-out)."""
    sidecar = sidecar_path(out)
    return sidecar.with_name(sidecar.stem + "_belief.nii.gz")


def _tissue_maps(inputs: LesionInputs, flair_image, on_grid):
    """Brain mask and GM/WM/CSF maps: given, or from --t1 (segmented here)."""
    given = [name for name in ("gm", "wm", "csf") if getattr(inputs, name)]
    if given and len(given) < 3:
        missing = sorted({"gm", "wm", "csf"} - set(given))
        raise SynflairError(f"--gm, --wm and --csf go together; missing --{', --'.join(missing)}")
    if inputs.transform and not (given and inputs.mask):
        raise SynflairError("--transform needs --mask, --gm, --wm and --csf on the maps' grid")
    mask = on_grid(inputs.mask) > 0.5 if inputs.mask else None
    if mask is not None and not mask.any():
        raise SynflairError(f"{inputs.mask}: the brain mask is empty; expected the brain's voxels")
    if given:
        probs = {name: on_grid(getattr(inputs, name)) for name in ("gm", "wm", "csf")}
        if mask is None:
            mask = sum(probs.values()) > 0.5
        return mask, probs, "given (--gm/--wm/--csf)"
    if not inputs.t1:
        raise SynflairError("give --t1 (a T1w or R1 map on the FLAIR grid) or --gm, --wm and --csf")
    t1, t1_image = load_data(inputs.t1, ndim=3)
    if t1.shape != flair_image.shape or not np.allclose(t1_image.affine, flair_image.affine,
                                                       atol=1e-3):  # fmt: skip
        raise SynflairError(
            f"{inputs.t1} (shape {t1.shape}) and {inputs.flair} (shape {flair_image.shape}) are on "
            "different grids; expected the same grid: register the T1 to the FLAIR and resample "
            "it first, or pass tissue maps with --gm/--wm/--csf and --transform"
        )
    if mask is None:
        flair = np.asarray(flair_image.dataobj, dtype=np.float64)
        voxel = tuple(float(v) for v in flair_image.header.get_zooms()[:3])
        mask = estimate_brain_mask(t1, flair, voxel)
    probs = segment_tissues(inputs.t1, mask, flair_image, backend=inputs.backend)
    return mask, probs, f"segmented from {inputs.t1} ({inputs.backend})"


def segment_lesions_file(
    inputs: LesionInputs,
    out: PathLike,
    *,
    belief_out: PathLike | None = None,
    params: LesionParams = DEFAULT_PARAMS,
) -> dict[str, Path]:
    """Segment the lesions of one FLAIR and write the mask, the belief map and the sidecar.

    Parameters
    ----------
    inputs : LesionInputs
    out : path-like
        The lesion mask (uint8, 0/1); its sidecar is :func:`sidecar_path`.
    belief_out : path-like, optional
        The belief map (float32, [0, 1]); default :func:`belief_path`.
    params : LesionParams

    Returns
    -------
    dict of str to Path
        ``lesions``, ``belief`` and ``sidecar``.

    Raises
    ------
    SynflairError
        Naming the file or option: missing or inconsistent maps, grids that differ, an empty
        mask, a mask the transform does not carry onto the FLAIR, a FLAIR the method refuses.
    """
    flair, image = load_data(inputs.flair, ndim=3)
    # The grid of the tissue maps, the override and the outputs: the FLAIR's own, or with
    # --transform the mask's.
    reference, reference_path = image, inputs.flair
    if inputs.transform and inputs.mask:
        reference_path = inputs.mask
        reference = load_data(inputs.mask, ndim=3)[1]

    def on_grid(path):
        data, other = load_data(path, ndim=3)
        check_same_grid(other, reference, path, reference_path)
        return data

    mask, probs, maps_source = _tissue_maps(inputs, image, on_grid)
    override = None
    if inputs.override:
        override = load_override(inputs.override, reference, reference_path)
    grids = None
    if inputs.transform:
        grids = GridPair(flair.shape, image.affine, mask.shape, reference.affine,
                         read_transform(inputs.transform))  # fmt: skip
        mask, probs = _carried_to_flair(inputs, grids, mask, probs)
    voxel_size = tuple(float(v) for v in image.header.get_zooms()[:3])
    try:
        result = segment(flair, mask, probs["gm"], probs["wm"], probs["csf"], params,
                         voxel_size=voxel_size)  # fmt: skip
    except SynflairError as error:
        raise SynflairError(f"{inputs.flair}: {error}") from error
    automatic, belief = result.lesions, result.belief
    if grids is not None:
        automatic, belief = grids.mask_to_reference(automatic), grids.to_reference(belief)
    lesions, source = apply_override(automatic, override)
    belief_out = belief_out or belief_path(out)
    save(lesions.astype(np.uint8), reference.affine, out, header=reference.header,
         dtype=np.uint8)  # fmt: skip
    save(belief, reference.affine, belief_out, header=reference.header, dtype=np.float32)
    _, n_lesions = label_lesions(lesions, params.connectivity)
    voxel_ml = float(np.prod(reference.header.get_zooms()[:3])) / 1000.0
    write_json(sidecar_path(out), {
        "source": source,
        "override": str(inputs.override) if inputs.override else None,
        "n_lesions": n_lesions,
        "volume_ml": float(lesions.sum()) * voxel_ml,
        "automatic_n_voxels": int(automatic.sum()),
        "belief": str(belief_out),
        "tissue_maps": maps_source,
        **_method_record(inputs, params, result, grids is not None),
    })  # fmt: skip
    log.info("%s: %d lesion(s), %.2f ml (%s) -> %s", inputs.flair, n_lesions,
             float(lesions.sum()) * voxel_ml, source, out)  # fmt: skip
    return {"lesions": Path(out), "belief": Path(belief_out), "sidecar": sidecar_path(out)}


def _carried_to_flair(inputs: LesionInputs, grids: GridPair, mask, probs):
    """The mask and tissue maps carried by the transform onto the FLAIR's own grid."""
    mask, probs = grids.mask_to_flair(mask), grids.probabilities_to_flair(probs)
    if not mask.any():
        raise SynflairError(
            f"{inputs.mask} carried by {inputs.transform} does not overlap {inputs.flair}; "
            "expected the transform of this FLAIR's registration"
        )
    return mask, probs


def _method_record(inputs: LesionInputs, params: LesionParams, result, carried: bool) -> dict:
    """How the map was made, for the sidecar: mask, grid, parameters, tissue statistics."""
    ref = result.maps.reference
    return {
        "brain_mask": str(inputs.mask) if inputs.mask else "estimated",
        "segmented_on": f"the FLAIR's own grid, carried by {inputs.transform}" if carried else
                        "the grid of the FLAIR and the tissue maps",
        "params": params.to_dict(),
        "tissue_statistics": {name: dataclasses.asdict(s) for name, s in ref.tissues.items()},
        "reference": {"ceiling": ref.ceiling, "wm_location": ref.wm_location,
                      "wm_spread": ref.spread},
        "method": "FLAIR hyperintensity against the subject's GM/WM (after LST-LGA, Schmidt "
                  "et al. NeuroImage 2012;59:3774-3783); see docs/lesions.md",
    }  # fmt: skip
