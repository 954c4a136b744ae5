"""Run keys: where a resumable training run keeps its checkpoints.

A training job that is killed (SLURM preemption, a crash) and resubmitted must
resume from its last checkpoint, while a job rerun because its inputs or
settings changed must start afresh. :func:`run_key` hashes what defines a run,
namely the settings and the identity (content and modification time) of the
input files, so the two cases get different checkpoint directories.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def run_key(files: list[str | os.PathLike], settings: dict, *, length: int = 12) -> str:
    """Hex digest identifying a run by its input files and settings.

    Parameters
    ----------
    files : list of path-like
        Files whose content and modification time define the run (e.g. the
        training manifest and the preset YAML).
    settings : dict
        JSON-serializable settings.
    length : int
        Number of hex digits returned.

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in files:
        path = Path(name)
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
        digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()[:length]
