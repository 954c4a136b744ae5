"""Benchmark and calibration of the digital phantom (synflair.phantom).

Usage::

    python bench/bench_phantom.py timing [--demo] [--paper]
    python bench/bench_phantom.py calibrate [--subjects 4] [--slices 8] [--fit own|quantify]
    python bench/bench_phantom.py lesions [--preset demo] [--seed 2019] [--only ph10 ph11 ph12]

``timing`` runs ``synflair phantom`` as a user would (a fresh process, so the
template build is included) and prints wall-clock and CPU seconds:
``--preset ci --subjects 2`` always; ``--preset demo --subjects 12 --jobs 2``
with ``--demo``; one ``--preset paper`` subject with ``--paper``.

``calibrate`` simulates subjects on the paper's in-plane geometry (512x512 from
320x320 / 224x320, 4 mm slices) on ``--slices`` slices spread evenly over the
paper's 150 mm slab (every 4th-5th slice, so that the tissue mix is the paper's),
fits the MDME magnitudes with a single-compartment model, makes the synthetic
FLAIR (TR 15000, TE 100, TI 3000) and compares it, after
:func:`synflair.intensity.to_common_scale` (intracranial mean 2000), with the
conventional FLAIR: the noise-free truth in MDME space and the noisy
acquisition without head motion (a perfectly registered FLAIR). Regions are the
voxels with a truth fraction >= 0.9 and the intracranial mask. PSNR uses the
paper's peak of 25,500. It also prints the artifact measures of docs/phantom.md.

``lesions`` prints the lesion / normal-appearing-WM ratios that the phantom's
lesions are calibrated on (docs/phantom.md), per subject, simulated in memory
exactly as ``synflair phantom --preset P --seed S --only ID`` does: on the
acquired conventional FLAIR (lesion mask and WM from the space-FLAIR truth), on
the noise-free FLAIR, and on the synthetic FLAIR and T1w of the
``synflair.quantify`` fit of the MDME magnitudes (MDME-space truth); plus the
synthetic T1w's GM/WM ratio and the fitted lesion T1.

The fit (``--fit own``) is a dictionary fit written here for calibration only:
T2 from the ratio of the echo sums, then T1 and B1 by an exhaustive search of
the magnitude saturation-recovery curve over a (T1, B1) grid with the amplitude
solved linearly, refined by parabolic interpolation. ``--fit quantify`` uses
``synflair.quantify.MDMEModel`` instead, when that module is installed.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from synflair.intensity import to_common_scale
from synflair.physics import MDME_PAPER, SYNTHETIC_FLAIR, mdme_signal

PEAK = 25_500.0


def run_cli(args: list[str]) -> tuple[float, float]:
    """Run ``synflair phantom`` with ``args``; return (wall s, CPU s of the children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "synflair", "phantom", *args], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def timing(demo: bool, paper: bool) -> None:
    runs = [("ci", ["--preset", "ci", "--subjects", "2"])]
    if demo:
        runs.append(("demo", ["--preset", "demo", "--subjects", "12", "--jobs", "2"]))
    if paper:
        runs.append(("paper", ["--preset", "paper", "--subjects", "40", "--only", "ph01"]))
    print(f"{'run':<8}{'command':<58}{'wall s':>9}{'CPU s':>9}")
    for name, args in runs:
        with tempfile.TemporaryDirectory() as out:
            wall, cpu = run_cli(["--out", out, *args])
        print(f"{name:<8}{'synflair phantom ' + ' '.join(args):<58}{wall:9.1f}{cpu:9.1f}")


# ----------------------------------------------------------------------------------------
# Calibration fit


def _dictionary(t1_grid, b1_grid):
    """|longitudinal factor| of the 4 delays for every (T1, B1): shape (4, n_t1 * n_b1)."""
    t1, b1 = np.meshgrid(t1_grid, b1_grid, indexing="ij")
    curves = mdme_signal(
        t1.ravel()[None],
        1e9,
        1.0,
        0.0,
        np.asarray(MDME_PAPER.td)[:, None],
        tr=MDME_PAPER.tr,
        sat_angle=MDME_PAPER.sat_angle,
        exc_angle=MDME_PAPER.exc_angle,
        b1=b1.ravel()[None],
    )
    return np.abs(curves)


def fit_own(magnitudes: np.ndarray, chunk: int = 4096):
    """Single-compartment fit of MDME magnitudes, shape (n, 8) -> T1, T2 (ms), PD, B1."""
    te1, te2 = MDME_PAPER.te
    n_td = len(MDME_PAPER.td)
    m = magnitudes.reshape(-1, n_td, 2).astype(np.float64)
    s1, s2 = m[..., 0].sum(axis=1), m[..., 1].sum(axis=1)
    t2 = np.clip((te2 - te1) / np.log(np.maximum(s1, 1e-12) / np.maximum(s2, 1e-12)), 5, 3000)
    t2 = np.where(s2 >= s1, 3000.0, t2)
    amplitude = m[..., 0] + m[..., 1]  # (n, 4) = PD |L| (e^-TE1/T2 + e^-TE2/T2)
    t1_grid = np.geomspace(100.0, 8000.0, 240)
    b1_grid = np.linspace(0.6, 1.4, 33)
    table = _dictionary(t1_grid, b1_grid)  # (4, D)
    norms = (table**2).sum(axis=0)
    n_b1 = b1_grid.size
    t1 = np.empty(len(m))
    b1 = np.empty(len(m))
    scale = np.empty(len(m))
    log_t1 = np.log(t1_grid)
    for start in range(0, len(m), chunk):
        a = amplitude[start : start + chunk]
        score = (a @ table) ** 2 / norms  # maximise: least squares with the scale solved
        best = np.argmax(score, axis=1)
        i, j = np.divmod(best, n_b1)
        rows = np.arange(len(a))
        grid = score.reshape(len(a), t1_grid.size, n_b1)

        def parabola(center, low, high, values):
            denominator = low - 2 * center + high
            return np.where(np.abs(denominator) > 1e-30, 0.5 * (low - high) / denominator, 0.0)

        ii = np.clip(i, 1, t1_grid.size - 2)
        jj = np.clip(j, 1, n_b1 - 2)
        di = parabola(grid[rows, ii, j], grid[rows, ii - 1, j], grid[rows, ii + 1, j], None)
        dj = parabola(grid[rows, i, jj], grid[rows, i, jj - 1], grid[rows, i, jj + 1], None)
        di = np.where(i == ii, np.clip(di, -0.5, 0.5), 0.0)
        dj = np.where(j == jj, np.clip(dj, -0.5, 0.5), 0.0)
        t1[start : start + chunk] = np.exp(np.interp(i + di, np.arange(t1_grid.size), log_t1))
        b1[start : start + chunk] = np.interp(j + dj, np.arange(n_b1), b1_grid)
        curve = _dictionary_point(t1[start : start + chunk], b1[start : start + chunk])
        scale[start : start + chunk] = (a * curve).sum(axis=1) / np.maximum(
            (curve**2).sum(axis=1), 1e-12
        )
    pd = scale / (np.exp(-te1 / t2) + np.exp(-te2 / t2))
    return t1, t2, pd, b1


def _dictionary_point(t1, b1):
    return np.abs(
        mdme_signal(
            t1[:, None],
            1e9,
            1.0,
            0.0,
            np.asarray(MDME_PAPER.td)[None],
            tr=MDME_PAPER.tr,
            sat_angle=MDME_PAPER.sat_angle,
            exc_angle=MDME_PAPER.exc_angle,
            b1=b1[:, None],
        )
    )


def fit_quantify(magnitudes: np.ndarray):
    from synflair.quantify import MDMEModel

    fit = MDMEModel(MDME_PAPER).fit(magnitudes.astype(np.float32))
    return fit.t1, fit.t2, fit.pd, fit.b1


# ----------------------------------------------------------------------------------------
# Calibration


def calibration_preset(n_slices: int, center_z: float | None = None, **model):
    """The paper preset on ``n_slices`` contiguous slices (30: the paper's whole slab)."""
    from synflair.phantom.presets import get_preset

    paper = get_preset("paper", **model)
    g = paper.geometry
    center = g.center_mni if center_z is None else (*g.center_mni[:2], float(center_z))
    geometry = dataclasses.replace(g, n_slices=n_slices, center_mni=center)
    return dataclasses.replace(paper, name="paper", geometry=geometry)


def registered_flair(images, motion: np.ndarray) -> np.ndarray:
    """The moved conventional FLAIR resampled into MDME space with the true motion
    (trilinear, as a perfect rigid registration would)."""
    from scipy import ndimage

    a = images.affine
    index = np.linalg.inv(a) @ motion @ a
    return ndimage.affine_transform(images.flair, index, order=1, mode="nearest")


def psnr(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    rmse = float(np.sqrt(np.mean((a[region].astype(float) - b[region]) ** 2)))
    return 20 * np.log10(PEAK / rmse)


def evaluate(images, fit, motion: np.ndarray, figure: str | None = None) -> dict:
    """PSNR per region and artifact measures of one subject (and a figure if asked)."""
    from synflair.phantom.tissues import COMPARTMENTS, INTRACRANIAL

    fractions = images.fractions
    icv = fractions[: len(INTRACRANIAL)].sum(axis=0)
    mask = icv >= 0.5
    norm = np.where(mask, 1.0 / np.maximum(icv, 1e-6), 0.0)
    region = {
        c: (fractions[COMPARTMENTS.index(c)] * norm >= 0.9) & mask for c in ("GM", "WM", "CSF")
    }
    region["intracranial"] = mask
    magnitudes = np.abs(images.mdme).reshape(-1, 8)
    head = (fractions.sum(axis=0) >= 0.5).ravel() | mask.ravel()
    values = fit(magnitudes[head])
    t1, t2, pd = (np.zeros(magnitudes.shape[0]) for _ in range(3))
    t1[head], t2[head], pd[head] = values[0], values[1], values[2]
    synthetic = SYNTHETIC_FLAIR.signal(np.maximum(t1, 1), np.maximum(t2, 1), pd)
    synthetic = np.where(head, synthetic, 0).reshape(mask.shape)
    syn, _ = to_common_scale(synthetic, mask)
    truth, _ = to_common_scale(images.flair_noisefree, mask)
    registered, _ = to_common_scale(registered_flair(images, motion), mask)
    out = {}
    for name, r in region.items():
        out[f"psnr_{name}"] = psnr(syn, truth, r)
        out[f"psnrreg_{name}"] = psnr(syn, registered, r)
        out[f"conv_{name}"] = psnr(registered, truth, r)
        out[f"mean_syn_{name}"] = float(syn[r].mean())
        out[f"mean_conv_{name}"] = float(truth[r].mean())
    # Rims: voxels at the parenchyma-CSF boundary (CSF fraction 0.3-0.7 in the brain).
    csf = fractions[COMPARTMENTS.index("CSF")] * norm
    rim = mask & (csf > 0.3) & (csf < 0.7)
    out["rim_syn"] = float(syn[rim].mean())
    out["rim_conv"] = float(truth[rim].mean())
    # Granular dots: pure-CSF voxels brighter than half the intracranial mean.
    pure = region["CSF"]
    out["dots_syn"] = float(np.mean(syn[pure] > 1000))
    out["dots_conv"] = float(np.mean(truth[pure] > 1000))
    if figure:
        save_figure(figure, syn, truth, registered)
    return out


def save_figure(path: str, syn, truth, registered) -> None:
    """Middle slice: synthetic FLAIR, conventional (truth, registered), difference."""
    from matplotlib.figure import Figure

    k = syn.shape[2] // 2
    panels = [
        ("synthetic FLAIR (single-compartment fit)", syn, "gray", (0, 5000)),
        ("conventional FLAIR, noise-free truth", truth, "gray", (0, 5000)),
        ("conventional FLAIR, registered", registered, "gray", (0, 5000)),
        ("synthetic - truth", syn - truth, "RdBu_r", (-2500, 2500)),
    ]
    figure = Figure(figsize=(20, 6), layout="constrained")
    for ax, (title, image, cmap, (low, high)) in zip(figure.subplots(1, 4), panels, strict=True):
        shown = ax.imshow(image[..., k].T, cmap=cmap, vmin=low, vmax=high)
        ax.set_title(title)
        ax.set_axis_off()
        figure.colorbar(shown, ax=ax, shrink=0.8)
    figure.savefig(path, dpi=70)


def calibrate(n_subjects, n_slices, fit_name, seed, center_z=None, figure=None, **model):
    from synflair.phantom import cohort
    from synflair.phantom.anatomy import load_template
    from synflair.phantom.subject import draw_subject, simulate_subject

    fit = fit_own if fit_name == "own" else fit_quantify
    preset = calibration_preset(n_slices, center_z, **model)
    template = load_template()
    rows = []
    for sid in cohort.subject_ids(n_subjects):
        start = time.perf_counter()
        rng = np.random.default_rng(cohort.subject_seed(seed, sid))
        params = draw_subject(rng, preset, template)
        images = simulate_subject(params, preset, template)
        rows.append(evaluate(images, fit, params.motion_matrix(), figure if not rows else None))
        print(f"{sid}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    keys = rows[0].keys()
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    std = {k: float(np.std([r[k] for r in rows])) for k in keys}
    paper = {"GM": 27.16, "WM": 29.51, "CSF": 34.83, "intracranial": 29.79}
    print(f"subjects {n_subjects}, slices {n_slices}, fit {fit_name}, model {model or 'default'}")
    print(
        f"{'PSNR (dB)':<14}{'paper':>7}{'syn vs truth':>16}{'syn vs registered':>19}"
        f"{'reg vs truth':>14}{'syn mean':>10}{'conv mean':>10}"
    )
    for name, value in paper.items():
        print(
            f"{name:<14}{value:7.2f}"
            f"{mean[f'psnr_{name}']:10.2f} ±{std[f'psnr_{name}']:4.2f}"
            f"{mean[f'psnrreg_{name}']:13.2f} ±{std[f'psnrreg_{name}']:4.2f}"
            f"{mean[f'conv_{name}']:14.2f}"
            f"{mean[f'mean_syn_{name}']:10.0f}{mean[f'mean_conv_{name}']:10.0f}"
        )
    print(
        f"boundary rim (CSF 0.3-0.7) mean: synthetic {mean['rim_syn']:.0f}, "
        f"conventional {mean['rim_conv']:.0f}"
    )
    print(
        f"pure CSF voxels > 1000 (granular dots): synthetic {100 * mean['dots_syn']:.1f} %, "
        f"conventional {100 * mean['dots_conv']:.1f} %"
    )


# ----------------------------------------------------------------------------------------
# Lesion contrast


def lesion_contrast(preset_name: str, seed: int, ids: list[str], **model) -> list[dict]:
    """Lesion/NAWM ratios of phantom subjects (see the module docstring)."""
    from synflair.phantom import cohort
    from synflair.phantom.anatomy import load_template
    from synflair.phantom.contrast import lesion_ratio, nawm_mask
    from synflair.phantom.output import intracranial_probseg
    from synflair.phantom.presets import get_preset
    from synflair.phantom.subject import draw_subject, simulate_subject
    from synflair.quantify import FitSettings, MDMEModel, synthetic_flair, synthetic_t1w

    preset = get_preset(preset_name, **model)
    template = load_template()
    rows = []
    for subject_id in ids:
        rng = np.random.default_rng(cohort.subject_seed(seed, subject_id))
        params = draw_subject(rng, preset, template)
        images = simulate_subject(params, preset, template)
        mdme_space, _ = intracranial_probseg(images.fractions)
        flair_space, _ = intracranial_probseg(images.fractions_flair)
        lesion, lesion_flair = mdme_space["lesion"] >= 0.5, flair_space["lesion"] >= 0.5
        row = {
            "subject": subject_id,
            "lesions": len(params.lesions),
            "black_holes": sum(item.black_hole for item in params.lesions),
            "voxels": int(lesion_flair.sum()),
        }
        if lesion.any() and lesion_flair.any():
            nawm = nawm_mask(mdme_space["WM"], lesion)
            nawm_flair = nawm_mask(flair_space["WM"], lesion_flair)
            zooms = np.sqrt((images.affine[:3, :3] ** 2).sum(axis=0))
            fit = MDMEModel(MDME_PAPER, settings=FitSettings(b1_smoothing_mm=10.0)).fit(
                np.abs(images.mdme), voxel_size=zooms
            )
            synthetic = synthetic_flair(fit.t1, fit.t2, fit.pd, fit.valid)
            t1w = synthetic_t1w(fit.t1, fit.t2, fit.pd, fit.valid)
            gm = mdme_space["GM"] >= 0.9
            row |= {
                "flair_acquired": lesion_ratio(images.flair, lesion_flair, nawm_flair),
                "flair_noisefree": lesion_ratio(images.flair_noisefree, lesion, nawm),
                "synthetic_flair": lesion_ratio(synthetic, lesion, nawm),
                "synthetic_t1w": lesion_ratio(t1w, lesion, nawm),
                "t1w_gm_wm": float(np.median(t1w[gm]) / np.median(t1w[nawm])),
                "fit_t1_lesion_ms": float(np.median(fit.t1[lesion])),
            }
        rows.append(row)
        print(
            "  ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
            )
        )
    keys = ("flair_acquired", "flair_noisefree", "synthetic_flair", "synthetic_t1w", "t1w_gm_wm")
    for key in keys:
        values = [row[key] for row in rows if key in row]
        if values:
            print(f"{key}: {min(values):.2f}-{max(values):.2f} (mean {np.mean(values):.2f})")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("timing")
    t.add_argument("--demo", action="store_true")
    t.add_argument("--paper", action="store_true")
    c = sub.add_parser("calibrate")
    c.add_argument("--subjects", type=int, default=4)
    c.add_argument("--slices", type=int, default=30, help="contiguous slices (paper: 30)")
    c.add_argument("--center-z", type=float, default=None, help="slab centre, MNI z mm")
    c.add_argument("--seed", type=int, default=2019)
    c.add_argument("--fit", choices=("own", "quantify"), default="own")
    c.add_argument("--figure", default=None, metavar="PNG", help="save the first subject's slice")
    c.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="override model settings, e.g. mdme_noise=0.02",
    )
    lesions_parser = sub.add_parser("lesions")
    lesions_parser.add_argument("--preset", default="demo")
    lesions_parser.add_argument("--seed", type=int, default=2019)
    lesions_parser.add_argument("--only", nargs="+", default=["ph10", "ph11", "ph12"], metavar="ID")
    lesions_parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    model = {}
    for item in getattr(args, "set", []):
        key, value = item.split("=", 1)
        numbers = tuple(float(v) for v in value.split(","))
        model[key] = numbers if len(numbers) > 1 else numbers[0]
    if args.command == "timing":
        timing(args.demo, args.paper)
    elif args.command == "lesions":
        lesion_contrast(args.preset, args.seed, args.only, **model)
    else:
        calibrate(
            args.subjects, args.slices, args.fit, args.seed, args.center_z, args.figure, **model
        )


if __name__ == "__main__":
    main()
