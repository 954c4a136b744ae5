"""Generate the phantom cohort into a folder, one complete subject folder at a time.

Each subject is generated into a temporary sibling folder
(``DIR/.sub-<id>.<host>-<pid>.<random>.tmp``, :func:`synflair.atomic.atomic_directory`)
and renamed to ``DIR/sub-<id>`` only when complete, so an interrupted or failed
run leaves no partial subject folder, and a rerun removes the leftovers of a
killed one; an existing subject folder is replaced. ``DIR/subjects.tsv`` is
written last and lists only the subjects on disk.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from synflair.atomic import atomic_directory, write_tsv
from synflair.errors import SynflairError
from synflair.phantom import cohort
from synflair.phantom.presets import PRESETS, PhantomPreset, get_preset
from synflair.progress import Progress

__all__ = ["check_output_dir", "generate_cohort", "generate_subject"]

log = logging.getLogger(__name__)


def check_output_dir(out: str | os.PathLike) -> Path:
    """Create ``out`` if needed and check that files can be written in it.

    Raises
    ------
    SynflairError
        Naming the folder and the reason.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".synflair-write-test.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise SynflairError(
            f"--out {out}: cannot write there ({error.strerror or error})"
        ) from error
    return out


def generate_subject(
    out: str | os.PathLike,
    subject_id: str,
    seed: int,
    preset: str | PhantomPreset,
    template: str | os.PathLike | None = None,
) -> Path:
    """Simulate one subject and write ``out/sub-<id>`` (atomically, as a whole folder).

    Parameters
    ----------
    out : path-like
        Cohort folder (must exist).
    subject_id : str
        E.g. ``"ph01"``.
    seed : int
        Cohort seed.
    preset : str or PhantomPreset
    template : path-like, optional
        The template cache file (:func:`synflair.phantom.template_cache.cached_template`);
        None builds the template in this process.

    Returns
    -------
    pathlib.Path
        The subject folder.
    """
    from synflair.phantom.output import write_subject
    from synflair.phantom.subject import draw_subject, simulate_subject
    from synflair.phantom.template_cache import cached_template

    preset = get_preset(preset) if isinstance(preset, str) else preset
    start = time.perf_counter()
    template = cached_template(template)
    rng = np.random.default_rng(cohort.subject_seed(seed, subject_id))
    params = draw_subject(rng, preset, template)
    images = simulate_subject(params, preset, template)
    final = Path(out) / f"sub-{subject_id}"
    with atomic_directory(final) as tmp:
        write_subject(
            tmp, subject_id, images, params, preset, cohort.uid_seed(seed, preset.name, subject_id)
        )
    log.info(
        "sub-%s: %d lesions, %.1f s", subject_id, len(params.lesions), time.perf_counter() - start
    )
    return final


def _validate(n_subjects, seed, preset, only, jobs) -> tuple[PhantomPreset, list[str]]:
    if isinstance(n_subjects, bool) or not isinstance(n_subjects, int) or n_subjects < 1:
        raise SynflairError(f"--subjects must be a positive integer, not {n_subjects!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SynflairError(f"--seed must be a non-negative integer, not {seed!r}")
    if preset not in PRESETS:
        raise SynflairError(f"--preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SynflairError(f"--jobs must be a positive integer, not {jobs!r}")
    ids = cohort.subject_ids(n_subjects)
    if only:
        wanted = [s[4:] if s.startswith("sub-") else s for s in only]
        unknown = [s for s in wanted if s not in ids]
        if unknown:
            raise SynflairError(
                f"--only {' '.join(unknown)}: not in the cohort of {n_subjects} subjects "
                f"({ids[0]} .. {ids[-1]})"
            )
        ids = [s for s in ids if s in set(wanted)]
    return get_preset(preset), ids


def generate_cohort(
    out: str | os.PathLike,
    n_subjects: int,
    seed: int,
    preset: str,
    only: list[str] | None = None,
    jobs: int = 1,
    template: str | os.PathLike | None = None,
) -> list[Path]:
    """Write ``out/subjects.tsv`` and the subject folders of the cohort (or of ``only``).

    Parameters
    ----------
    out : path-like
        Cohort folder; created.
    n_subjects : int
        Cohort size (sets the ids and the train/test split).
    seed : int
        Cohort seed.
    preset : str
        ``"paper"``, ``"demo"`` or ``"ci"``.
    only : list of str, optional
        Generate just these subjects (``ph01`` or ``sub-ph01``); each is identical
        to the same subject of a full run.
    jobs : int
        Worker processes.
    template : path-like, optional
        The template cache file: read when it holds this version's template, else
        built once and written there (see :mod:`synflair.phantom.template_cache`).

    Returns
    -------
    list of pathlib.Path
        The subject folders written.

    Raises
    ------
    SynflairError
        For bad arguments or an unwritable ``out``, before anything is written.
    """
    preset_obj, ids = _validate(n_subjects, seed, preset, only, jobs)
    out = check_output_dir(out)
    if template is not None:
        from synflair.phantom.template_cache import cached_template

        cached_template(template)  # built and written once, before any worker reads it
    # a line per subject done, with the rate and the ETA (and a bar on a terminal)
    progress = Progress(len(ids), "phantom subjects", every=1, unit="subject", logger=log)
    with progress:
        if jobs == 1 or len(ids) == 1:
            folders = []
            for sid in ids:
                folders.append(generate_subject(out, sid, seed, preset_obj, template))
                progress.update()
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=min(jobs, len(ids))) as pool:
                futures = [
                    pool.submit(generate_subject, out, sid, seed, preset_obj, template)
                    for sid in ids
                ]
                for future in as_completed(futures):
                    future.result()
                    progress.update()
                folders = [future.result() for future in futures]
    write_subject_table(out, cohort.subject_splits(n_subjects))
    return folders


def write_subject_table(out: Path, splits: dict[str, str]) -> Path:
    """Write ``out/subjects.tsv``: the cohort's subjects whose folders exist, with their split.

    Written after the subjects, so that it never lists a subject that is not on
    disk. Concurrent ``--only`` runs into one folder (the workflow's phantom jobs)
    serialize on a lock of the folder, so the last writer lists every subject.
    """
    import fcntl

    import pandas as pd

    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        present = [sid for sid in splits if (out / f"sub-{sid}").is_dir()]
        table = pd.DataFrame({"subject": present, "split": [splits[s] for s in present]})
        return write_tsv(out / "subjects.tsv", table)
    finally:
        os.close(fd)  # releases the lock
