"""Atomic output: a failed step leaves no half-written file.

Every writer in synflair goes through :func:`atomic_output`: it writes to a
temporary file in the destination directory and renames it into place only
when the write succeeded.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    Parameters
    ----------
    path : path-like
        The final destination. Its parent directory is created if needed.
    suffix : str, optional
        Suffix of the temporary file (default: the suffixes of ``path``, so
        that libraries choosing a format by extension, e.g. nibabel, work).

    Yields
    ------
    pathlib.Path
        Where to write. It is removed if the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) if suffix is None else suffix
    prefix = f".{path.name.split('.')[0]}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return Path(path)


def write_tsv(path: str | os.PathLike, frame) -> Path:
    """Write a pandas DataFrame as a tab-separated table without index, atomically."""
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, na_rep="n/a")
    return Path(path)
