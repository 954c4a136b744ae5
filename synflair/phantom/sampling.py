"""Linear interpolation of several template maps at the same points.

The phantom samples up to eight template maps (tissue fractions, lesion parts,
distances) at the same scanner points for every slice. Calling
``scipy.ndimage.map_coordinates`` once per map recomputes the interpolation
cell and weights each time; it was half of a demo subject's simulation time.
:func:`sample_maps` computes them once, gathers all maps together from the
block of the template the points fall in, and returns what
``map_coordinates(m, index, order=1, mode="nearest", prefilter=False)`` returns
for each map (the tests compare the two).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["sample_maps"]


def sample_maps(maps: Sequence[np.ndarray], index: np.ndarray) -> np.ndarray:
    """Trilinear samples of same-shape 3-D maps at voxel coordinates, edges extended.

    Parameters
    ----------
    maps : sequence of numpy.ndarray, each shape (X, Y, Z)
        The maps, all on one grid.
    index : numpy.ndarray, shape (3, N)
        Voxel coordinates (continuous); points outside the grid take the value
        of the nearest edge point (``mode="nearest"``).

    Returns
    -------
    numpy.ndarray of float32, shape (len(maps), N)
        One row per map.
    """
    if not maps:
        raise ValueError("maps must hold at least one map")
    shape = np.shape(maps[0])
    if len(shape) != 3 or any(np.shape(m) != shape for m in maps):
        raise ValueError(f"maps must be 3-D and of one shape, not {[np.shape(m) for m in maps]}")
    index = np.asarray(index, dtype=np.float64)
    if index.ndim != 2 or index.shape[0] != 3:
        raise ValueError(f"index must have shape (3, N), not {index.shape}")
    size = np.asarray(shape)[:, None]
    coords = np.clip(index, 0.0, size - 1.0)
    low = np.minimum(np.floor(coords).astype(np.intp), np.maximum(size - 2, 0))
    weight = coords - low
    if index.shape[1] == 0:
        return np.zeros((len(maps), 0), dtype=np.float32)
    start = low.min(axis=1)
    stop = np.minimum(low.max(axis=1) + 2, shape)
    box = tuple(slice(a, b) for a, b in zip(start, stop, strict=True))
    block = np.stack([np.asarray(m)[box] for m in maps], axis=-1)
    bshape = np.asarray(block.shape[:3])
    flat = block.reshape(-1, len(maps))
    corners = []
    for axis in range(3):
        local = low[axis] - start[axis]
        corners.append((local, np.minimum(local + 1, bshape[axis] - 1)))
    weight = weight.astype(np.float32)
    one = np.float32(1.0)
    out = np.zeros((index.shape[1], len(maps)), dtype=np.float32)
    for dx in (0, 1):
        wx = weight[0] if dx else one - weight[0]
        for dy in (0, 1):
            wxy = wx * (weight[1] if dy else one - weight[1])
            row = (corners[0][dx] * bshape[1] + corners[1][dy]) * bshape[2]
            for dz in (0, 1):
                values = flat[row + corners[2][dz]]
                values *= (wxy * (weight[2] if dz else one - weight[2]))[:, None]
                out += values
    return out.T
