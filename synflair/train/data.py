"""Training data: the manifest, per-subject normalization and on-device patch sampling.

**Manifest.** A TSV with one row per training subject and the columns
``subject, mdme, mask, target, conventional``: the 4D MDME NIfTI (8 images,
delay-major; 16 for ``real_imag``), the intracranial mask, the CSF-suppressed
synthetic FLAIR (stage-1 target) and the conventional FLAIR registered into
the MDME grid (stage-2 "real" images). Relative paths are relative to the
current working directory (the workflow root), not to the manifest.

**Normalization**: :class:`synflair.models.normalization.InputNormalization`,
stored with every model so that inference applies the same rule.

**Patches.** Axial slices (the third array axis) of all subjects that contain
intracranial voxels are stacked, once, in one tensor on the training device.
Each batch draws slices and in-plane offsets uniformly with a
``torch.Generator`` on that device, and cuts the patches by indexing: no
loader process, no host-device copies.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from synflair.errors import SynflairError
from synflair.models.normalization import InputNormalization, check_mdme_volumes
from synflair.nifti import check_same_grid, load, load_data, load_mask
from synflair.tables import read_tsv

log = logging.getLogger(__name__)

__all__ = [
    "MANIFEST_COLUMNS",
    "Batch",
    "PatchSampler",
    "SubjectPaths",
    "TrainingData",
    "VoxelBatch",
    "VoxelSampler",
    "load_training_data",
    "read_manifest",
]

MANIFEST_COLUMNS = ("subject", "mdme", "mask", "target", "conventional")


@dataclass(frozen=True)
class SubjectPaths:
    """The files of one training subject (one manifest row)."""

    subject: str
    mdme: Path
    mask: Path
    target: Path
    conventional: Path
    lesions: Path | None = None
    synthetic: Path | None = None


def read_manifest(
    path: str | os.PathLike, what: str = "the training manifest"
) -> list[SubjectPaths]:
    """Read and check the training (or validation) manifest TSV; ``what`` names it in errors.

    Columns :data:`MANIFEST_COLUMNS`, and optionally ``lesions`` (the conventional FLAIR's
    lesion map, on the MDME grid; an empty cell: none for that subject) and ``synthetic``
    (the synthetic FLAIR, on the MDME grid: the extra input of ``data.relative`` models).

    Raises
    ------
    SynflairError
        Missing file or columns, no rows, empty cells or duplicate subjects.
    """
    path = Path(path)
    frame = read_tsv(path, MANIFEST_COLUMNS, what=what, require_rows=True)
    rows = []
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        for column in MANIFEST_COLUMNS:
            if not str(getattr(row, column)).strip():
                raise SynflairError(f"{path}, line {number}: column {column!r} is empty")
        rows.append(
            SubjectPaths(
                row.subject,
                Path(row.mdme),
                Path(row.mask),
                Path(row.target),
                Path(row.conventional),
                _optional_path(getattr(row, "lesions", None)),
                _optional_path(getattr(row, "synthetic", None)),
            )
        )
    subjects = [r.subject for r in rows]
    duplicates = sorted({s for s in subjects if subjects.count(s) > 1})
    if duplicates:
        raise SynflairError(f"{path}: duplicate subject(s) {duplicates}")
    return rows


def _optional_path(value: str | None) -> Path | None:
    """A cell of an optional manifest column (text): a path, or None where absent or empty."""
    return Path(value) if value is not None and value.strip() else None


def _load_subject(paths: SubjectPaths, rule: InputNormalization, *, lesions: bool = False):
    """Normalized ``inputs (X,Y,Z,C)``, ``target``, ``conventional`` and ``mask`` of a subject.

    With ``lesions``, also the row's conventional-FLAIR lesion map (bool; None without one;
    an empty map is a subject without lesions, not an error).
    """
    mdme_image = load(paths.mdme, ndim=4)
    check_mdme_volumes(mdme_image.shape, rule.mdme_channels, rule.inputs, paths.mdme)
    mask = load_mask(paths.mask, reference=mdme_image, reference_path=paths.mdme)
    mdme, _ = load_data(paths.mdme, ndim=4)
    images = {}
    columns = ("target", "conventional", *(("synthetic",) if rule.relative else ()))
    for column in columns:
        path = getattr(paths, column)
        if path is None:
            raise SynflairError(
                f"subject {paths.subject}: data.relative: true needs the synthetic FLAIR "
                "(the manifest's 'synthetic' column)"
            )
        data, image = load_data(path, ndim=3)
        check_same_grid(image, mdme_image, path, paths.mdme)
        images[column] = rule.normalize_target(data, mask, name=path)
    inputs = rule.normalize_inputs(mdme, mask, name=paths.mdme)
    if rule.relative:  # the synthetic FLAIR is the last input channel
        inputs = np.concatenate([inputs, images["synthetic"][..., None]], axis=-1)
    loaded = (inputs, images["target"], images["conventional"], mask)
    if not lesions:
        return loaded
    lesion_map = None
    if paths.lesions is not None:
        lesion_map = load_mask(
            paths.lesions, reference=mdme_image, reference_path=paths.mdme, allow_empty=True
        )
    return (*loaded, lesion_map)


@dataclass(frozen=True)
class Batch:
    """A batch: ``inputs (B, C, p, p)``, ``target`` and ``conventional (B, 1, p, p)``."""

    inputs: torch.Tensor
    target: torch.Tensor
    conventional: torch.Tensor


class TrainingData:
    """All training slices that contain intracranial voxels, stacked on one device.

    Parameters
    ----------
    slices : torch.Tensor
        ``(S, C + 2, H, W)``: the ``C`` normalized inputs, the stage-1 target and
        the conventional FLAIR; slices smaller than ``H x W`` are zero-padded.
    extents : torch.Tensor
        ``(S, 2)`` int64: each slice's true in-plane size.
    subjects : list of str
        Subject of each slice (for messages).
    voxels : torch.Tensor, optional
        ``(n,)`` int64 flat indices ``(s * H + i) * W + j`` of the voxels of voxel batches
        (:class:`VoxelSampler`): :meth:`from_arrays` takes the intracranial voxels inside
        the conventional FLAIR's field of view (not exactly 0); default: every voxel.
    target_median : torch.Tensor, optional
        ``(S,)`` median of the stage-1 target over the intracranial voxels of each
        slice's subject (the unit of :meth:`VoxelSampler.hyperintensity`); default 1.
    lesion_voxels : torch.Tensor, optional
        ``(m,)`` flat indices of the voxels (among ``voxels``) in the conventional FLAIR's
        lesion map (:class:`VoxelSampler` ``lesion_share``); None: no lesion maps given.
    """

    def __init__(
        self,
        slices: torch.Tensor,
        extents: torch.Tensor,
        subjects: list[str],
        voxels: torch.Tensor | None = None,
        target_median: torch.Tensor | None = None,
        lesion_voxels: torch.Tensor | None = None,
    ) -> None:
        if slices.ndim != 4 or slices.shape[1] < 3:
            raise ValueError(f"slices must have shape (S, C + 2, H, W), not {tuple(slices.shape)}")
        if extents.shape != (slices.shape[0], 2):
            raise ValueError(f"extents must have shape ({slices.shape[0]}, 2)")
        self.slices = slices
        self.extents = extents.to(slices.device)
        self.subjects = list(subjects)
        n_slices, _, height, width = slices.shape
        if voxels is None:
            voxels = torch.arange(n_slices * height * width)
        if target_median is None:
            target_median = torch.ones(n_slices)
        if voxels.ndim != 1 or len(voxels) == 0:
            raise ValueError("voxels must be a non-empty 1-D tensor of flat voxel indices")
        if target_median.shape != (n_slices,):
            raise ValueError(f"target_median must have shape ({n_slices},)")
        self.voxels = voxels.to(slices.device, torch.int64)
        self.target_median = target_median.to(slices.device, torch.float32)
        if lesion_voxels is not None:
            lesion_voxels = lesion_voxels.to(slices.device, torch.int64)
        self.lesion_voxels = lesion_voxels

    @property
    def in_channels(self) -> int:
        """Generator input channels."""
        return self.slices.shape[1] - 2

    @property
    def device(self) -> torch.device:
        return self.slices.device

    @classmethod
    def from_arrays(cls, subjects, device="cpu") -> TrainingData:
        """Stack ``(name, inputs, target, conventional, mask[, lesions])`` arrays of subjects.

        ``lesions`` (optional, bool or None): the conventional FLAIR's lesion map; its
        drawable voxels become :attr:`lesion_voxels`.
        """
        planes, masks, extents, names, medians, lesion_planes = [], [], [], [], [], []
        for name, inputs, target, conventional, mask, *rest in subjects:
            lesions = rest[0] if rest else None
            stacked = np.concatenate([inputs, target[..., None], conventional[..., None]], axis=3)
            median = float(np.median(target[mask])) if mask.any() else 1.0
            for k in np.flatnonzero(mask.any(axis=(0, 1))):
                planes.append(np.moveaxis(stacked[:, :, k, :], 2, 0))
                # voxels outside the conventional FLAIR's field of view (exactly 0 after
                # registration) have no paired target: not drawn in voxel batches
                masks.append(mask[:, :, k] & (conventional[:, :, k] != 0))
                extents.append(stacked.shape[:2])
                names.append(name)
                medians.append(median if median > 0 else 1.0)
                lesion_planes.append(None if lesions is None else lesions[:, :, k])
        if not planes:
            raise SynflairError("no training slice contains intracranial voxels")
        height = max(e[0] for e in extents)
        width = max(e[1] for e in extents)
        slices = torch.zeros((len(planes), planes[0].shape[0], height, width), device=device)
        inside = np.zeros((len(planes), height, width), bool)
        lesion = np.zeros((len(planes), height, width), bool)
        for index, (plane, mask) in enumerate(zip(planes, masks, strict=True)):
            h, w = plane.shape[1:]
            slices[index, :, :h, :w] = torch.from_numpy(np.ascontiguousarray(plane))
            inside[index, :h, :w] = mask
            if lesion_planes[index] is not None:
                lesion[index, :h, :w] = mask & lesion_planes[index]
        voxels = torch.from_numpy(np.flatnonzero(inside.ravel()))
        return cls(
            slices,
            torch.tensor(extents, dtype=torch.int64),
            names,
            voxels,
            torch.tensor(medians, dtype=torch.float32),
            torch.from_numpy(np.flatnonzero(lesion.ravel()))
            if any(plane is not None for plane in lesion_planes)
            else None,
        )

    def check_patch_size(self, patch_size: int, key: str = "data.patch_size") -> None:
        """Raise unless every slice is at least ``patch_size`` on both sides."""
        small = (self.extents < patch_size).any(dim=1)
        if bool(small.any()):
            index = int(torch.nonzero(small)[0, 0])
            shape = tuple(int(v) for v in self.extents[index])
            raise SynflairError(
                f"{key} = {patch_size} does not fit subject {self.subjects[index]!r}, whose "
                f"slices are {shape[0]}x{shape[1]}; use a patch size <= {min(shape)}"
            )


def load_training_data(
    rows: list[SubjectPaths], rule: InputNormalization, device: torch.device | str = "cpu"
) -> TrainingData:
    """Load, check and normalize all subjects of a manifest onto ``device``."""
    arrays = []
    for paths in rows:
        arrays.append((paths.subject, *_load_subject(paths, rule, lesions=True)))
    return TrainingData.from_arrays(arrays, device=device)


class PatchSampler:
    """Random square patches from :class:`TrainingData`, drawn on its device.

    Parameters
    ----------
    data : TrainingData
    patch_size, batch_size : int
    generator : torch.Generator
        On ``data.device``; the only source of randomness (its state is
        checkpointed).
    """

    def __init__(
        self, data: TrainingData, patch_size: int, batch_size: int, generator: torch.Generator
    ) -> None:
        data.check_patch_size(patch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        self.data = data
        self.patch_size = patch_size
        self.batch_size = batch_size
        self.generator = generator
        self._offsets = torch.arange(patch_size, device=data.device)

    def sample(self) -> Batch:
        """Draw one batch: uniform slice, uniform top-left corner within the slice."""
        data, p, n = self.data, self.patch_size, self.batch_size
        device = data.device
        index = torch.randint(
            0, data.slices.shape[0], (n,), generator=self.generator, device=device
        )
        room = (data.extents[index] - p + 1).to(torch.float64)  # valid corners per axis
        corner = (
            torch.rand((n, 2), generator=self.generator, device=device, dtype=torch.float64) * room
        ).long()
        rows = corner[:, 0, None] + self._offsets  # (n, p)
        cols = corner[:, 1, None] + self._offsets
        patches = data.slices[index[:, None, None], :, rows[:, :, None], cols[:, None, :]]
        patches = patches.permute(0, 3, 1, 2).contiguous()  # (n, C + 2, p, p)
        c = data.in_channels
        return Batch(patches[:, :c], patches[:, c : c + 1], patches[:, c + 1 : c + 2])


@dataclass(frozen=True)
class VoxelBatch:
    """Intracranial voxels: ``inputs (n, C)``, ``target``, ``conventional`` and ``hyper (n,)``.

    ``hyper`` is the stage-1 target (the CSF-suppressed synthetic FLAIR) over its
    subject's intracranial median: a label-free measure of hyperintensity.
    """

    inputs: torch.Tensor
    target: torch.Tensor
    conventional: torch.Tensor
    hyper: torch.Tensor


class VoxelSampler:
    """Random batches of intracranial voxels from :class:`TrainingData`.

    The generator is pixel-wise, so a pixel-wise loss needs no patches: a batch
    of ``batch_size`` voxels drawn from every intracranial voxel of every training
    subject covers rare tissue far better than a few patches (and skips the
    background).

    With ``lesion_share > 0`` that share of every batch is drawn from the voxels
    of the conventional FLAIR's lesion maps (:attr:`TrainingData.lesion_voxels`;
    the pipeline's own automatic segmentation, no expert labels). Lesion voxels
    are about 0.05 % of the intracranial voxels and their MDME signals resemble
    those of far more common, darker tissue (partial volume with CSF), so a
    uniformly sampled paired loss fits them to that tissue; drawn at a fixed
    share they weigh in the fit as a class of their own (oversampling, as in
    class-imbalanced segmentation).

    Parameters
    ----------
    data : TrainingData
    batch_size : int
    generator : torch.Generator
        On ``data.device``.
    lesion_share : float
        Share of each batch drawn from the lesion voxels, in [0, 1).
    """

    def __init__(
        self,
        data: TrainingData,
        batch_size: int,
        generator: torch.Generator,
        lesion_share: float = 0.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        if not 0 <= lesion_share < 1:
            raise ValueError(f"lesion_share must be in [0, 1), not {lesion_share!r}")
        self.data = data
        self.batch_size = batch_size
        self.generator = generator
        self.n_lesion = 0
        if lesion_share > 0:
            if data.lesion_voxels is None:
                raise SynflairError(
                    f"objective.lesion_share = {lesion_share} needs the conventional FLAIR's "
                    "lesion maps of the training subjects: the training manifest has no "
                    "'lesions' column"
                )
            if len(data.lesion_voxels) == 0:
                log.warning(
                    "objective.lesion_share = %s: the training subjects' lesion maps are empty; "
                    "voxel batches are drawn uniformly",
                    lesion_share,
                )
            else:
                self.n_lesion = round(lesion_share * batch_size)

    def sample(self) -> VoxelBatch:
        """Draw ``batch_size`` voxels with replacement: ``n_lesion`` lesion voxels, then any."""
        data, rng = self.data, self.generator
        n_uniform = self.batch_size - self.n_lesion
        pick = torch.randint(0, len(data.voxels), (n_uniform,), generator=rng, device=data.device)
        flat = data.voxels[pick]
        if self.n_lesion:
            n = len(data.lesion_voxels)
            pick = torch.randint(0, n, (self.n_lesion,), generator=rng, device=data.device)
            flat = torch.cat([flat, data.lesion_voxels[pick]])
        height, width = data.slices.shape[2:]
        index, pixel = flat // (height * width), flat % (height * width)
        values = data.slices[index, :, pixel // width, pixel % width]  # (n, C + 2)
        c = data.in_channels
        target = values[:, c]
        return VoxelBatch(
            values[:, :c], target, values[:, c + 1], target / data.target_median[index]
        )
