"""Segment a FLAIR on the grid it was acquired on, with tissue maps from another grid.

A conventional FLAIR resampled into synthetic space has been interpolated
between its own slices (4 mm thick, 5 mm apart in the paper's protocol): a
lesion that one FLAIR slice shows is spread over two synthetic slices at a
fraction of its contrast. Segmenting the FLAIR where it was acquired, and
carrying the lesion map (not the image) into synthetic space, keeps that
contrast. The tissue maps and the intracranial mask, on the synthetic grid,
go the other way: they are smooth, so linear interpolation costs them little.

The transform is the registration's ``fixed_to_moving_world`` ``M``
(:mod:`synflair.registration.transform`), with the tissue maps' grid fixed
and the FLAIR moving: ``x_flair = M @ x_synthetic``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synflair.registration.transform import resample_world

__all__ = ["GridPair"]


@dataclass(frozen=True, eq=False)
class GridPair:
    """The FLAIR's own grid and the reference grid of the tissue maps.

    Attributes
    ----------
    flair_shape : tuple of int
    flair_affine : numpy.ndarray, (4, 4)
    reference_shape : tuple of int
    reference_affine : numpy.ndarray, (4, 4)
    reference_to_flair : numpy.ndarray, (4, 4)
        World map ``M``: ``x_flair = M @ x_reference``.
    """

    flair_shape: tuple[int, ...]
    flair_affine: np.ndarray
    reference_shape: tuple[int, ...]
    reference_affine: np.ndarray
    reference_to_flair: np.ndarray

    def to_flair(self, data: np.ndarray) -> np.ndarray:
        """A reference-grid map (probability, mask as 0/1) on the FLAIR grid, linear."""
        return resample_world(
            data,
            self.reference_affine,
            self.flair_shape,
            self.flair_affine,
            np.linalg.inv(self.reference_to_flair),
        )

    def to_reference(self, data: np.ndarray) -> np.ndarray:
        """A FLAIR-grid map on the reference grid, linear."""
        return resample_world(
            data,
            self.flair_affine,
            self.reference_shape,
            self.reference_affine,
            self.reference_to_flair,
        )

    def probabilities_to_flair(self, probs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Tissue probabilities on the FLAIR grid, clipped to [0, 1]."""
        return {name: np.clip(self.to_flair(p), 0.0, 1.0) for name, p in probs.items()}

    def mask_to_flair(self, mask: np.ndarray) -> np.ndarray:
        """A binary mask on the FLAIR grid: where its linear interpolation is >= 0.5."""
        return self.to_flair(np.asarray(mask, dtype=np.float64)) >= 0.5

    def mask_to_reference(self, mask: np.ndarray) -> np.ndarray:
        """A FLAIR-grid binary mask (a lesion map) on the reference grid, >= 0.5 of linear.

        This is how the phantom's QC carries its FLAIR-space lesion truth, so the
        lesion map and that truth are judged alike.
        """
        return self.to_reference(np.asarray(mask, dtype=np.float64)) >= 0.5
