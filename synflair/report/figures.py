"""Figures in the manner of the paper's Fig 2-4, loss curves and per-subject QC thumbnails.

Images follow the synflair array convention (``data[i, j, k]``, i = column,
j = row of the DICOM slice), so a slice is shown as ``data[:, :, k].T``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

IMAGE_TITLES = {
    "synthetic": "Synthetic FLAIR",
    "stage1": "DL-FLAIR (stage 1)",
    "dl": "DL-FLAIR",
    "conventional": "Conventional FLAIR (registered)",
}


def choose_slice(mask: np.ndarray, lesions: np.ndarray | None = None) -> int:
    """Axial slice to show: the most lesion voxels, else the largest mask area."""
    if lesions is not None and lesions.any():
        return int(np.argmax(lesions.sum(axis=(0, 1))))
    return int(np.argmax(mask.sum(axis=(0, 1))))


def _show(ax, image, vmax, title, cmap="gray"):
    ax.imshow(image.T, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def nrmse_map(image: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-voxel |image - reference| / mean(image in mask), zero outside the mask."""
    mean = float(image[mask].mean())
    out = np.zeros(image.shape, np.float32)
    out[mask] = np.abs(image[mask] - reference[mask]) / mean
    return out


def flair_comparison(images: dict, reference: np.ndarray, mask: np.ndarray, k: int, subject: str):
    """Fig 2: synthetic, DL and conventional FLAIR and the NRMSE maps of the first two.

    Parameters
    ----------
    images : dict of str -> ndarray
        FLAIRs under test on the common intensity scale (e.g. ``synthetic``, ``dl``).
    reference : ndarray
        Registered conventional FLAIR on the common scale.
    mask : ndarray of bool
        Intracranial mask.
    k : int
        Slice.
    subject : str
    """
    names = list(images)
    vmax = float(np.percentile(reference[mask], 99.5))
    fig, axes = plt.subplots(2, len(names) + 1, figsize=(3.2 * (len(names) + 1), 6.4))
    for col, name in enumerate(names):
        _show(
            axes[0, col], images[name][:, :, k] * mask[:, :, k], vmax, IMAGE_TITLES.get(name, name)
        )
        error = nrmse_map(images[name], reference, mask)[:, :, k]
        _show(axes[1, col], error, 1.0, f"NRMSE map, {IMAGE_TITLES.get(name, name)}", "magma")
    _show(axes[0, -1], reference[:, :, k] * mask[:, :, k], vmax, IMAGE_TITLES["conventional"])
    axes[1, -1].axis("off")
    fig.suptitle(f"sub-{subject}, slice {k}", fontsize=10)
    return fig


def _box(center, size, shape):
    half = size // 2
    lo = [int(np.clip(c - half, 0, s - size)) for c, s in zip(center, shape, strict=True)]
    return tuple(slice(a, a + size) for a in lo)


def magnified(images: dict, reference: np.ndarray, dseg: np.ndarray, k: int, region: str):
    """Fig 3/4: magnified views of the CSF (granular artifacts) or the cortex (swelling).

    ``region="csf"`` centres the box on the ventricles (CSF label nearest the
    slice centre); ``region="cortex"`` on the cortical GM at the brain edge.
    """
    label = dseg[:, :, k]
    shape = label.shape
    size = max(16, min(shape) // 3)
    centre = np.array(shape) / 2.0
    if region == "csf":
        points = np.argwhere(label == 1)
        if len(points):
            points = points[np.argsort(np.linalg.norm(points - centre, axis=1))[:50]]
    else:
        points = np.argwhere(label == 2)
        if len(points):
            distance = np.linalg.norm(points - centre, axis=1)
            points = points[distance >= np.percentile(distance, 80)]
            points = (
                points[points[:, 1] <= np.percentile(points[:, 1], 30)] if len(points) else points
            )
    center = points.mean(axis=0).astype(int) if len(points) else centre.astype(int)
    box = _box(center, size, shape)
    panels = {**images, "conventional": reference}
    vmax = float(np.percentile(reference[:, :, k][label > 0], 99.5)) if (label > 0).any() else 1.0
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.2))
    for ax, (name, image) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        _show(ax, image[:, :, k][box], vmax, IMAGE_TITLES.get(name, name))
    return fig


def loss_curves(losses: dict[str, pd.DataFrame]):
    """Loss curves of both stages (every numeric column except the iteration)."""
    fig, axes = plt.subplots(1, len(losses), figsize=(5.5 * len(losses), 3.4), squeeze=False)
    for ax, (stage, frame) in zip(axes[0], losses.items(), strict=True):
        x = frame["iteration"] if "iteration" in frame else np.arange(len(frame))
        for column in frame.columns:
            if column != "iteration" and pd.api.types.is_numeric_dtype(frame[column]):
                ax.plot(x, frame[column], label=column, lw=1)
        ax.set_title(stage, fontsize=10)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7)
    return fig


def qc_thumbnails(t1w, dseg, synthetic, conventional, lesions: dict, mask, k: int, subject: str):
    """Per-subject QC: registration overlay, tissue segmentation and lesion maps."""
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.4))
    vmax = float(np.percentile(synthetic[mask], 99.5))
    _show(axes[0], synthetic[:, :, k], vmax, "registration: conventional edges on synthetic")
    edges = np.hypot(*np.gradient(conventional[:, :, k].astype(float)))
    axes[0].contour(edges.T, levels=[np.percentile(edges, 90)], colors="yellow", linewidths=0.4)
    _show(
        axes[1],
        t1w[:, :, k] * mask[:, :, k],
        float(np.percentile(t1w[mask], 99.5)),
        "segmentation (CSF/GM/WM)",
    )
    axes[1].imshow(
        np.ma.masked_equal(dseg[:, :, k], 0).T,
        cmap="viridis",
        alpha=0.35,
        vmin=1,
        vmax=3,
        interpolation="nearest",
    )
    _show(
        axes[2],
        conventional[:, :, k] * mask[:, :, k],
        float(np.percentile(conventional[mask], 99.5)),
        "lesions (on conventional)",
    )
    colours = {"conventional": "red", "synthetic": "cyan", "dl": "lime", "stage1": "orange"}
    for name, lesion in lesions.items():
        if lesion[:, :, k].any():
            axes[2].contour(
                lesion[:, :, k].T.astype(float),
                levels=[0.5],
                colors=colours.get(name, "white"),
                linewidths=0.6,
            )
    fig.suptitle(f"sub-{subject}, slice {k}", fontsize=9)
    return fig
