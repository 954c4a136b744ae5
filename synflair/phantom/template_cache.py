"""A file cache of the phantom's template anatomy, shared by the subjects of a cohort.

Building the template from nilearn's MNI152 maps (:func:`synflair.phantom.anatomy.
build_template`: morphology and distance transforms at 1 mm) took 10-13 s of a
demo subject's 30-45 s, and every subject built the same one. The workflow builds
it once (rule ``phantom_template``) and every ``synflair phantom --template FILE``
reads it.

The file records a key: a hash of the anatomy settings, of the source of
:mod:`synflair.phantom.anatomy` and of the MNI maps' names and sizes. A file
written by another version or with other settings, or one that cannot be read,
is not used: the template is built again (and the file rewritten), with a
warning, so a stale cache can never give a different phantom.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from synflair.atomic import atomic_output
from synflair.errors import SynflairError
from synflair.phantom import anatomy
from synflair.phantom.anatomy import AnatomySettings, SurfaceBand, Template

__all__ = ["cached_template", "read_template", "template_key", "write_template"]

log = logging.getLogger(__name__)

_FORMAT = "synflair-phantom-template-1"
_BAND = "band_"


def template_key(settings: AnatomySettings | None = None) -> str:
    """The hash that a cache file must carry to be used with these settings (default:
    :class:`AnatomySettings`)."""
    settings = AnatomySettings() if settings is None else settings
    digest = hashlib.sha256(_FORMAT.encode())
    digest.update(repr(settings).encode())
    digest.update(Path(anatomy.__file__).read_bytes())
    for name, path in sorted(anatomy.mni_paths().items()):
        digest.update(f"{name}:{Path(path).name}:{Path(path).stat().st_size}".encode())
    return digest.hexdigest()


def write_template(
    template: Template, path: str | os.PathLike, settings: AnatomySettings | None = None
) -> Path:
    """Write ``template`` to ``path`` (an uncompressed ``.npz``, atomically)."""
    arrays = {"key": np.array(template_key(settings))}
    for field in fields(Template):
        value = getattr(template, field.name)
        if isinstance(value, SurfaceBand):
            for part in fields(SurfaceBand):
                arrays[_BAND + part.name] = getattr(value, part.name)
        else:
            arrays[field.name] = value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return path


def read_template(path: str | os.PathLike, settings: AnatomySettings | None = None) -> Template:
    """Read a cache file written by :func:`write_template`.

    Raises
    ------
    ValueError
        If the file was written by another version or other settings, or is not
        a template cache; the message names the file.
    """
    unreadable = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an .npz")
    except unreadable as error:
        raise ValueError(f"{path}: not a readable template cache ({error})") from error
    with data:
        if "key" not in data.files or str(data["key"]) != template_key(settings):
            raise ValueError(
                f"{path}: written by another synflair version or other anatomy settings"
            )
        try:
            band = SurfaceBand(**{p.name: data[_BAND + p.name] for p in fields(SurfaceBand)})
            values = {f.name: band if f.name == "band" else data[f.name] for f in fields(Template)}
        except unreadable as error:
            raise ValueError(f"{path}: not a readable template cache ({error})") from error
    return Template(**values)


def cached_template(
    path: str | os.PathLike | None, settings: AnatomySettings | None = None
) -> Template:
    """The template, read from ``path`` when it holds a valid one, else built (and written there).

    Parameters
    ----------
    path : path-like or None
        The cache file; None builds the template without a file.
    settings : AnatomySettings, optional

    Raises
    ------
    SynflairError
        If the cache cannot be written at ``path`` (before building, where the
        folder cannot be made).
    """
    settings = AnatomySettings() if settings is None else settings
    if path is None:
        return anatomy.load_template(settings)
    path = Path(path)
    if path.is_file():
        try:
            return read_template(path, settings)
        except ValueError as error:
            log.warning("%s; building the template again", error)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # refused before the build, if at all
    except OSError as error:
        raise _unwritable(path, error) from error
    start = time.perf_counter()
    template = anatomy.load_template(settings)
    try:
        write_template(template, path, settings)
    except OSError as error:
        raise _unwritable(path, error) from error
    log.info("template built and written to %s in %.1f s", path, time.perf_counter() - start)
    return template


def _unwritable(path: Path, error: OSError) -> SynflairError:
    return SynflairError(f"template cache {path}: cannot write there ({error.strerror or error})")
