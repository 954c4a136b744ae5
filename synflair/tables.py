"""Reading tab-separated tables: one reader, one set of refusals.

Every TSV the package reads (metrics, statistics and report tables, the training
and validation manifests, subject sheets, BIDS ``participants.tsv``) goes through
:func:`read_tsv`, so a missing file, a file that is not a TSV, missing columns and
a table without rows are refused with the same one-line
:class:`~synflair.errors.SynflairError` that names the file and says what was
expected. Writing is :func:`synflair.atomic.write_tsv`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from synflair.errors import SynflairError

__all__ = ["read_tsv"]


def read_tsv(
    path: str | os.PathLike,
    required_columns: Sequence[str] = (),
    *,
    what: str = "a TSV table",
    dtype: type | Mapping[str, type] | None = str,
    keep_default_na: bool = False,
    require_rows: bool = False,
) -> pd.DataFrame:
    """Read a tab-separated table and check its columns.

    Parameters
    ----------
    path : path-like
        The TSV file (header line, then one row per line).
    required_columns : sequence of str
        Columns the table must have (others are allowed).
    what : str
        What the file should be, for the messages, e.g. ``"the training manifest"``.
    dtype : type, mapping or None
        Passed to :func:`pandas.read_csv`; the default reads every cell as text.
    keep_default_na : bool
        Passed to :func:`pandas.read_csv`; the default keeps ``"n/a"`` and empty
        cells as text (``""``) instead of NaN.
    require_rows : bool
        Refuse a table with a header and no rows.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    SynflairError
        ``"<path>: no such file; expected <what>"``, ``"<path>: not a readable TSV
        (<reason>); expected <what>"``, ``"<path>: missing column(s) a, b; expected
        <what> with the columns ... (found ...)"`` or ``"<path>: no rows; expected
        <what> with at least one row"``.
    """
    path = Path(path)
    if not path.exists():
        raise SynflairError(f"{path}: no such file; expected {what}")
    if not path.is_file():
        raise SynflairError(f"{path}: not a file; expected {what}")
    try:
        frame = pd.read_csv(path, sep="\t", dtype=dtype, keep_default_na=keep_default_na)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SynflairError(f"{path}: not a readable TSV ({reason}); expected {what}") from error
    missing = [column for column in required_columns if column not in frame.columns]
    if missing:
        raise SynflairError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {what} with the "
            f"columns {', '.join(required_columns)} (found {', '.join(map(str, frame.columns))})"
        )
    if require_rows and frame.empty:
        raise SynflairError(f"{path}: no rows; expected {what} with at least one row")
    return frame
