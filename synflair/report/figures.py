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

from synflair.metrics.image import nrmse_map

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
    shown = ax.imshow(image.T, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return shown


def shared_error_max(maps: list[np.ndarray], masks: list[np.ndarray]) -> float:
    """Upper end of the NRMSE colour scale shared by the panels: the 99th percentile of all
    the maps' in-mask values, rounded up to 2 significant digits (at least 0.01)."""
    values = np.concatenate([m[k] for m, k in zip(maps, masks, strict=True)])
    if values.size == 0:
        return 1.0
    top = float(np.percentile(values, 99))
    if not top > 0:
        return 0.01
    digits = 1 - int(np.floor(np.log10(top)))
    return max(0.01, float(np.ceil(top * 10**digits) / 10**digits))


def flair_comparison(
    images: dict,
    reference: np.ndarray,
    mask: np.ndarray,
    k: int,
    subject: str,
    error_max: float | None = None,
):
    """Fig 2: synthetic, DL and conventional FLAIR and the NRMSE maps of the first two.

    The FLAIRs share one grey scale and the NRMSE maps one colour scale
    (``[0, error_max]``), each with its colour bar.

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
    error_max : float, optional
        Top of the NRMSE scale (default :func:`shared_error_max` of the shown slices).
    """
    names = list(images)
    vmax = float(np.percentile(reference[mask], 99.5))
    errors = {name: nrmse_map(images[name], reference, mask)[:, :, k] for name in names}
    if error_max is None:
        error_max = shared_error_max(list(errors.values()), [mask[:, :, k]] * len(names))
    fig, axes = plt.subplots(
        2, len(names) + 1, figsize=(3.2 * (len(names) + 1) + 0.8, 6.4), layout="constrained"
    )
    for col, name in enumerate(names):
        title = IMAGE_TITLES.get(name, name)
        grey = _show(axes[0, col], images[name][:, :, k] * mask[:, :, k], vmax, title)
        error = _show(axes[1, col], errors[name], error_max, f"NRMSE map, {title}", "magma")
    _show(axes[0, -1], reference[:, :, k] * mask[:, :, k], vmax, IMAGE_TITLES["conventional"])
    axes[1, -1].axis("off")
    fig.colorbar(grey, ax=axes[0, :], shrink=0.8, label="FLAIR, common intensity scale")
    bar = fig.colorbar(error, ax=axes[1, :-1], shrink=0.8, extend="max")
    bar.set_label(f"|error| / mean intracranial intensity (shared scale 0-{error_max:g})")
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
    """Loss curves of both stages: :func:`synflair.train.curves.loss_figure`, one
    implementation for ``losses.png`` and the report."""
    from synflair.train.curves import loss_figure

    return loss_figure(list(losses.values()))


#: Tissue labels of ``dseg`` and their overlay colours.
TISSUE_COLOURS = {1: ("CSF", "#3b82f6"), 2: ("GM", "#f59e0b"), 3: ("WM", "#10b981")}
#: Lesion-outline colour of each image's lesion map.
LESION_COLOURS = {"conventional": "red", "synthetic": "cyan", "dl": "lime", "stage1": "orange"}


def qc_thumbnails(t1w, dseg, synthetic, conventional, lesions: dict, mask, k: int, subject: str):
    """Per-subject QC: registration overlay, tissue segmentation and lesion maps, with legends."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, 3, figsize=(10.5, 4.2), layout="constrained")
    vmax = float(np.percentile(synthetic[mask], 99.5))
    _show(axes[0], synthetic[:, :, k], vmax, "registration: conventional edges on synthetic")
    edges = np.hypot(*np.gradient(conventional[:, :, k].astype(float)))
    axes[0].contour(edges.T, levels=[np.percentile(edges, 90)], colors="yellow", linewidths=0.4)
    axes[0].legend(
        handles=[Line2D([], [], color="yellow", lw=1, label="conventional FLAIR edges")],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        fontsize=7,
        frameon=False,
    )
    _show(
        axes[1],
        t1w[:, :, k] * mask[:, :, k],
        float(np.percentile(t1w[mask], 99.5)),
        "segmentation (CSF/GM/WM)",
    )
    colours = ListedColormap([TISSUE_COLOURS[i][1] for i in sorted(TISSUE_COLOURS)])
    axes[1].imshow(
        np.ma.masked_equal(dseg[:, :, k], 0).T,
        cmap=colours,
        alpha=0.4,
        vmin=0.5,
        vmax=3.5,
        interpolation="nearest",
    )
    axes[1].legend(
        handles=[Patch(color=c, alpha=0.6, label=n) for n, c in TISSUE_COLOURS.values()],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        fontsize=7,
        frameon=False,
    )
    _show(
        axes[2],
        conventional[:, :, k] * mask[:, :, k],
        float(np.percentile(conventional[mask], 99.5)),
        "lesion outlines (on conventional)",
    )
    handles = []
    for name, lesion in lesions.items():
        colour = LESION_COLOURS.get(name, "white")
        present = bool(lesion[:, :, k].any())
        if present:
            axes[2].contour(
                lesion[:, :, k].T.astype(float), levels=[0.5], colors=colour, linewidths=0.6
            )
        label = IMAGE_TITLES.get(name, name).replace(" (registered)", "")
        handles.append(
            Line2D([], [], color=colour, lw=1, label=label if present else f"{label}: none here")
        )
    axes[2].legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        fontsize=7,
        frameon=False,
    )
    fig.suptitle(f"sub-{subject}, slice {k}", fontsize=9)
    return fig
