"""The demo's targets on several phantom cohorts, each cohort and all of them pooled (issue 12).

One demo cohort has 6 test subjects, and a lesion Dice of a few dozen voxels moves by
0.2-0.8 from one subject to the next, so whether one cohort meets "DL-FLAIR lesion Dice
at least the synthetic FLAIR's minus 0.05" says little about the recipe. This bench
runs the whole workflow (phantom, quantification, registration, training, inference,
lesions, metrics, statistics) once per cohort seed, each in its own folder, and prints:

* per cohort, the issue's targets, met or not, on the statistics table of its test
  subjects' metrics, computed with the project's own statistics
  (:func:`synflair.stats.analysis.comparisons_table`,
  :func:`synflair.stats.table.summary_table`: the workflow's ``results/stats/table.tsv``);
* the same pooled over every cohort's test subjects (named ``s<seed>-<id>``).

::

    python bench/bench_cohorts.py --out /tmp/cohorts --seeds 1 2 2019 --cores 2

``--preset`` chooses the training recipe (default ``config/train/demo.yaml``) and ``--set
KEY=VALUE`` (repeatable, dotted keys, YAML values, e.g. ``--set
registration.interpolation=spline``) any other config value, so two settings can be compared
on the same cohorts (every step is rebuilt per ``--out``). A cohort whose
``results/stats/table.tsv`` exists is not run again (delete its folder to rerun it).
Writes ``OUT/cohorts.md`` (the printed tables), ``OUT/targets.tsv`` and ``OUT/pooled.tsv``.
A finished run of the workflow can be reused by linking it as ``OUT/seed-<seed>``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from synflair.stats.analysis import DEFAULT_STATS, comparisons_table, read_metrics
from synflair.stats.table import format_table, summary_table

REPO = Path(__file__).resolve().parents[1]
TABLE = Path("results/stats/table.tsv")


def overlay_of(settings: list[str]) -> dict:
    """``["a.b=1", ...]`` as a nested dict (values parsed as YAML)."""
    overlay: dict = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {setting!r}: expected KEY=VALUE, e.g. registration.dof=6")
        *parents, last = key.split(".")
        node = overlay
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = yaml.safe_load(value)
    return overlay


def run_cohort(folder: Path, seed: int, preset: Path, cores: int, settings: dict) -> float:
    """Run the workflow up to the statistics table for one cohort seed; its wall seconds.

    The folder gets a copy of the repository's ``config/config.yaml`` (the workflow reads it
    relative to its working folder) and ``cohort.yaml``: ``settings`` (nested config values)
    with the seed and the preset.
    """
    if (folder / TABLE).is_file():
        return math.nan
    (folder / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "config.yaml", folder / "config" / "config.yaml")
    overlay = {**settings}
    overlay["phantom"] = {**overlay.get("phantom", {}), "seed": int(seed)}
    overlay["training"] = {**overlay.get("training", {}), "preset": str(preset)}
    (folder / "cohort.yaml").write_text(yaml.safe_dump(overlay))
    command = [
        sys.executable, "-m", "snakemake", str(TABLE),
        "--snakefile", str(REPO / "Snakefile"), "--directory", str(folder),
        "--cores", str(cores),
        "--configfile", str(folder / "config" / "config.yaml"), str(folder / "cohort.yaml"),
    ]  # fmt: skip
    start = time.perf_counter()
    with open(folder / "snakemake.log", "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        raise SystemExit(f"seed {seed}: snakemake failed (exit {done.returncode}); see "
                         f"{folder / 'snakemake.log'}")  # fmt: skip
    return time.perf_counter() - start


def cohort_metrics(folder: Path, seed: int) -> pd.DataFrame:
    """The test subjects' metrics of one cohort, subjects renamed ``s<seed>-<id>``."""
    paths = sorted((folder / "results" / "metrics").glob("sub-*/sub-*_metrics.tsv"))
    metrics = read_metrics(paths)
    metrics["subject"] = f"s{seed}-" + metrics["subject"]
    return metrics


def _row(summary: pd.DataFrame, region: str, metric: str) -> pd.Series:
    hit = summary[(summary["region"] == region) & (summary["metric"] == metric)]
    if hit.empty:
        raise SystemExit(f"no {region} {metric} row in the statistics")
    return hit.iloc[0]


def targets(summary: pd.DataFrame) -> list[dict]:
    """The issue's targets on one summary table (:func:`summary_table`'s columns)."""
    out = []

    def add(name, value, met):
        out.append({"target": name, "value": value, "met": bool(met)})

    psnr = _row(summary, "intracranial", "psnr")
    nrmse = _row(summary, "intracranial", "nrmse")
    add("intracranial PSNR >= +15 %", f"{psnr.percent_change:+.1f} %", psnr.percent_change >= 15)
    add("intracranial NRMSE <= -25 %", f"{nrmse.percent_change:+.1f} %",
        nrmse.percent_change <= -25)  # fmt: skip
    for region in ("GM", "WM", "CSF"):
        p, n = _row(summary, region, "psnr"), _row(summary, region, "nrmse")
        add(f"{region} better (PSNR, NRMSE)",
            f"{p.percent_change:+.1f} %, {n.percent_change:+.1f} %",
            p.percent_change > 0 and n.percent_change < 0)  # fmt: skip
    dice = _row(summary, "lesions", "dice_conventional")
    add("lesion Dice vs conv. >= synthetic - 0.05",
        f"DL {dice.compare_mean:.3f} vs synthetic {dice.baseline_mean:.3f} (n {dice.n})",
        dice.compare_mean >= dice.baseline_mean - 0.05)  # fmt: skip
    contrast = _row(summary, "lesions", "lesion_contrast_conventional")
    add("lesion contrast within 15 % of conv.", f"{contrast.compare_mean:.3f}",
        abs(contrast.compare_mean - 1) <= 0.15)  # fmt: skip
    return out


def scored(name: str, metrics: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """The summary table of ``metrics`` and its target rows, labelled ``cohort = name``."""
    summary = summary_table(metrics, comparisons_table(metrics), DEFAULT_STATS)
    return summary, [{"cohort": name, **target} for target in targets(summary)]


def markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="one folder per cohort in it")
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="phantom seeds")
    parser.add_argument("--preset", type=Path, default=REPO / "config/train/demo.yaml",
                        help="training preset (default config/train/demo.yaml)")  # fmt: skip
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value for every cohort (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    settings = overlay_of(args.set)
    preset = args.preset.resolve()
    if not preset.is_file():
        parser.error(f"--preset {args.preset}: no such file")

    rows, frames, lines = [], [], []
    for seed in args.seeds:
        folder = (args.out / f"seed-{seed}").resolve()
        seconds = run_cohort(folder, seed, preset, args.cores, settings)
        metrics = cohort_metrics(folder, seed)
        frames.append(metrics)
        _, cohort_rows = scored(f"seed {seed}", metrics)
        rows += cohort_rows
        wall = "(existing run)" if math.isnan(seconds) else f"{seconds:.0f} s"
        lines += [f"## Cohort seed {seed}: {wall}\n", markdown(pd.DataFrame(cohort_rows)), ""]
    pooled = pd.concat(frames, ignore_index=True)
    summary, pooled_rows = scored("pooled", pooled)
    rows += pooled_rows
    lines.append(f"## Pooled: {len(args.seeds)} cohorts, "
                 f"{pooled['subject'].nunique()} test subjects\n")  # fmt: skip
    lines += [markdown(pd.DataFrame(pooled_rows)), ""]
    lines.append(markdown(format_table(summary, DEFAULT_STATS)))
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cohorts.md").write_text(text)
    pd.DataFrame(rows).to_csv(args.out / "targets.tsv", sep="\t", index=False)
    summary.to_csv(args.out / "pooled.tsv", sep="\t", index=False)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
