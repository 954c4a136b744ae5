"""Atomic output: a failed or killed step leaves no half-written file.

Every writer in synflair goes through this module.

- :func:`atomic_output` writes one file to a hidden temporary sibling and renames
  it into place only when the write succeeded.
- :func:`atomic_outputs` does the same for a set of files that belong together
  (a command's outputs): all are written first, then all are renamed, so a kill
  leaves either the previous set or none of the new one.
- :func:`atomic_directory` does it for a folder.

Temporary names carry the host and process id
(``.<stem>.<host>-<pid>.<random><suffix>``), so that a later run can tell a
leftover of a killed process (same host, process gone) from a write in progress,
and removes it (:func:`remove_stale`). Final files and folders get the
permissions that the user's umask gives (``0666 & ~umask``, ``0777 & ~umask``),
as files written with ``open()`` would, so that a lab's group can read results
on shared storage.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_directory",
    "atomic_output",
    "atomic_outputs",
    "remove_stale",
    "write_json",
    "write_tsv",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0]) or "host"


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def _tag() -> str:
    return f"{_host()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(path: str | os.PathLike) -> list[Path]:
    """Remove leftovers of killed writers of ``path`` (temporary siblings of this host).

    A temporary sibling ``.<stem>.<host>-<pid>.*`` is removed when ``<host>`` is
    this machine and process ``<pid>`` no longer runs. Writes in progress, and
    temporaries of other hosts sharing the folder, are left alone.

    Parameters
    ----------
    path : path-like
        A final output path.

    Returns
    -------
    list of pathlib.Path
        What was removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(_stem(path))}\.{re.escape(_host())}-(\d+)\.")
    removed = []
    for entry in path.parent.iterdir():
        match = pattern.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _publish(tmp: Path, path: Path) -> None:
    mode = (0o777 if tmp.is_dir() else 0o666) & ~_umask()
    os.chmod(tmp, mode)
    os.replace(tmp, path)


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
    with atomic_outputs({"file": path}, suffixes={"file": suffix}) as tmp:
        yield tmp["file"]


@contextlib.contextmanager
def atomic_outputs(
    paths: Mapping[str, str | os.PathLike], *, suffixes: Mapping[str, str | None] | None = None
) -> Iterator[dict[str, Path]]:
    """Write a set of files that belong together: all appear, or none.

    Parameters
    ----------
    paths : mapping of str to path-like
        Final destinations by key.
    suffixes : mapping of str to str, optional
        Suffixes of the temporary files by key (default: each path's suffixes).

    Yields
    ------
    dict of str to pathlib.Path
        Temporary paths by key. When the block succeeds, every one must have been
        written; they are then renamed into place one after another. When it
        raises, they are all removed and no final path is touched.
    """
    suffixes = dict(suffixes or {})
    tmp: dict[str, Path] = {}
    try:
        for key, final in paths.items():
            final = Path(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            remove_stale(final)
            suffix = suffixes.get(key)
            suffix = "".join(final.suffixes) if suffix is None else suffix
            fd, name = tempfile.mkstemp(
                prefix=f".{_stem(final)}.{_tag()}.", suffix=suffix, dir=final.parent
            )
            os.close(fd)
            tmp[key] = Path(name)
        yield dict(tmp)
        missing = [str(paths[key]) for key, p in tmp.items() if not p.exists()]
        if missing:
            raise FileNotFoundError(f"not written: {', '.join(missing)}")
        for key, p in tmp.items():
            _publish(p, Path(paths[key]))
    finally:
        for p in tmp.values():
            if p.exists():
                p.unlink()


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; it replaces ``path`` on success.

    An existing folder at ``path`` is moved aside first and removed once the new
    one is in place. If the block raises, the temporary folder is removed and
    ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    prefix = f".{_stem(path)}.{_tag()}."
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        _publish(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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
