"""File-level API of the report stage: the workflow's outputs in, ``report.html`` out.

Two entry points share :func:`report_file`:

- the workflow's ``report_html`` rule (``workflow/scripts/report.py``) names every
  input itself (:class:`~synflair.report.build.ReportInputs`, :class:`RunRecords`)
  and passes the part of the configuration the report reads
  (:func:`synflair.report.methods.report_config`);
- ``synflair report`` (:mod:`synflair.report.cli`) rebuilds the report from a
  results folder with :func:`report_from_results`: the inputs are found where the
  workflow writes them (:func:`synflair.report.layout.discover`); the config YAML is
  read and checked against the workflow's schema by
  :func:`synflair.report.configfile.read_report_config`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from synflair.errors import SynflairError
from synflair.report.build import ReportInputs, build_report
from synflair.report.layout import discover
from synflair.report.methods import report_config

__all__ = [
    "RunRecords",
    "report_file",
    "report_from_results",
    "representative_subjects",
]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class RunRecords:
    """The JSON records of what actually ran (device, backends with ``auto`` resolved).

    Attributes
    ----------
    training : path-like or None
        The stage-2 model's ``model.json`` (key ``device``).
    registration : path-like or None
        A registration's ``*_xfm.json`` (key ``backend``).
    segmentation : path-like or None
        A segmentation's ``*_dseg.json`` (key ``Backend``).
    """

    training: PathLike | None = None
    registration: PathLike | None = None
    segmentation: PathLike | None = None

    def ran_on(self) -> dict[str, str]:
        """``{"training": device, "registration": backend, "segmentation": backend}``;
        ``""`` where a record is not given (the methods say it was not recorded)."""
        keys = {"training": "device", "registration": "backend", "segmentation": "Backend"}
        return {what: _recorded(getattr(self, what), key) for what, key in keys.items()}


def _recorded(path: PathLike | None, key: str) -> str:
    if path is None:
        return ""
    try:
        record = json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise SynflairError(f"{path}: no such file (a record of what ran)") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SynflairError(f"{path}: not a readable JSON record ({error})") from error
    if not isinstance(record, dict):
        raise SynflairError(f"{path}: expected a JSON object with the key {key!r}")
    return str(record.get(key, ""))


def representative_subjects(config: Mapping) -> list[str] | None:
    """Config key ``report.representative`` as subject labels without ``sub-`` (None: unset)."""
    chosen = config.get("report", {}).get("representative")
    if isinstance(chosen, str):
        chosen = [chosen]
    return [label.removeprefix("sub-") for label in chosen or []] or None


def report_file(
    inputs: ReportInputs,
    config: Mapping,
    out: PathLike,
    *,
    n_train: int | None = None,
    records: RunRecords | None = None,
) -> Path:
    """Write the HTML report of ``inputs`` to ``out`` (atomically).

    Parameters
    ----------
    inputs : ReportInputs
    config : mapping
        The workflow configuration; only :data:`synflair.report.methods.CONFIG_KEYS` are read.
    out : path-like
    n_train : int, optional
        Number of training subjects (methods paragraph).
    records : RunRecords, optional
        What ran, replacing the configured ``auto`` device and backends in the methods.

    Returns
    -------
    pathlib.Path
    """
    config = report_config(dict(config))
    return build_report(
        inputs,
        config,
        out,
        representative=representative_subjects(config),
        n_train=n_train,
        ran_on=(records or RunRecords()).ran_on(),
    )


def report_from_results(
    results: PathLike,
    config: Mapping,
    out: PathLike,
    *,
    n_train: int | None = None,
    phantom: PathLike | None = None,
) -> Path:
    """Rebuild the report from a results folder laid out as the workflow writes it.

    Parameters
    ----------
    results : path-like
        The workflow's ``results`` folder.
    config : mapping
        The workflow configuration
        (:func:`synflair.report.configfile.read_report_config`).
    out : path-like
        Output HTML file.
    n_train : int, optional
        Number of training subjects (methods paragraph).
    phantom : path-like, optional
        The phantom cohort folder (default: ``resources/phantom`` beside ``results``).
    """
    inputs = discover(results, phantom)
    results = Path(results)
    first = f"sub-{inputs.subjects[0].subject}"
    found = (
        results / "train" / "stage-2" / "model.json",
        results / "registration" / first / f"{first}_from-FLAIR_to-synthetic_xfm.json",
        results / "segmentation" / first / f"{first}_dseg.json",
    )
    records = RunRecords(*(path if path.is_file() else None for path in found))
    return report_file(inputs, config, out, n_train=n_train, records=records)
