"""The phantom QC as a pass/fail grid: a row per subject, a column per check and its tolerance.

Each cell is the check's verdict against the stated tolerance (``target``
column of ``synflair.phantom_qc.phantom_checks``); its number is in the
cell's ``title`` (hover) and in the table of numbers below the grid.
Checks without a tolerance are reported, not judged ("info").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synflair.report.html import escape, table_html
from synflair.report.labels import format_number

GRID_STYLE = (
    ".qc td.pass{background:#d9f2d9}.qc td.fail{background:#f8d0d0;font-weight:bold}"
    ".qc td.info{background:#f4f4f4;color:#555}.qc th{font-weight:normal;font-size:0.8em}"
    ".qc td{text-align:center}.qc td:first-child{text-align:left;white-space:nowrap}"
    ".scroll{overflow-x:auto}.qc th.v{vertical-align:bottom;padding:4px 2px}"
    ".qc th.v div{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;"
    "text-align:left;margin:0 auto}"
)


def _columns(truth: pd.DataFrame) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(truth["check"], truth["region"], strict=True)))


def _tolerance(rows: pd.DataFrame) -> str:
    targets = {str(t) for t in rows["target"] if isinstance(t, str) and t}
    units = {str(u) for u in rows["unit"] if isinstance(u, str) and u}
    if not targets:
        return "no tolerance (reported)"
    unit = f" {units.pop()}" if len(units) == 1 else ""
    return " / ".join(sorted(targets)) + unit


def _value_text(check: str, value: float) -> str:
    """The number, or n/a with its reason."""
    if np.isfinite(value):
        return format_number(value)
    if "false positive" in check:
        return "n/a: no lesion detected"
    if "true positive" in check:
        return "n/a: no lesion in the reference"
    if "Dice" in check:
        return "n/a: both maps empty"
    return "n/a: not computed"


def qc_grid(truth: pd.DataFrame, extra: dict[str, dict[str, tuple[bool, str]]] | None = None):
    """HTML of the grid and of the numbers below it.

    Parameters
    ----------
    truth : pandas.DataFrame
        Rows of ``synflair.phantom_qc.phantom_checks`` for all subjects.
    extra : dict, optional
        Further judged columns: ``{column header: {subject: (passed, detail)}}``
        (e.g. the lesion QC of the test subjects).
    """
    extra = extra or {}
    columns = _columns(truth)
    subjects = list(dict.fromkeys(truth["subject"].astype(str)))
    head = ["<th>subject</th>"]
    for check, region in columns:
        rows = truth[(truth["check"] == check) & (truth["region"] == region)]
        head.append(
            f"<th class='v'><div>{escape(check)}, <b>{escape(region)}</b><br>"
            f"{escape(_tolerance(rows))}</div></th>"
        )
    head += [f"<th class='v'><div>{escape(name)}</div></th>" for name in extra]
    body, failures = [], 0
    for subject in subjects:
        cells = [f"<td>sub-{escape(subject)}</td>"]
        mine = truth[truth["subject"].astype(str) == subject]
        for check, region in columns:
            found = mine[(mine["check"] == check) & (mine["region"] == region)]
            if found.empty:
                cells.append("<td class='info' title='not checked'>—</td>")
                continue
            row = found.iloc[0]
            value = _value_text(check, float(row["value"]))
            unit = f" {row['unit']}" if isinstance(row["unit"], str) and row["unit"] else ""
            target = row["target"] if isinstance(row["target"], str) and row["target"] else ""
            passed = row["passed"]
            if isinstance(passed, str):
                passed = {"true": True, "false": False}.get(passed.lower())
            if passed is None or pd.isna(passed) or not target:
                cls, mark = "info", value.split(":")[0]  # "n/a"; the reason on hover and below
            elif bool(passed):
                cls, mark = "pass", "✓"
            else:
                cls, mark, failures = "fail", "✗", failures + 1
            title = f"{check}, {region}: {value}{unit}" + (
                f" (tolerance {target})" if target else ""
            )
            cells.append(f"<td class='{cls}' title='{escape(title)}'>{escape(mark)}</td>")
        for checks in extra.values():
            if subject not in checks:
                cells.append("<td class='info' title='not a test subject'>—</td>")
                continue
            passed, detail = checks[subject]
            failures += not passed
            cls, mark = ("pass", "✓") if passed else ("fail", "✗")
            cells.append(f"<td class='{cls}' title='{escape(detail)}'>{mark}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    summary = (
        f"<p><b>{failures} QC failure{'s' * (failures != 1)}</b> in {len(subjects)} subjects "
        "(✓ within the tolerance in the column header, ✗ outside it; a number: reported "
        "without a tolerance). Hover a cell for its value.</p>"
    )
    grid = (
        f"<style>{GRID_STYLE}</style>{summary}<div class='scroll'><table class='qc'><thead><tr>"
        f"{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    shown = truth.assign(
        value=[
            _value_text(c, float(v)) for c, v in zip(truth["check"], truth["value"], strict=True)
        ]
    )
    numbers = shown.pivot_table(
        index="subject", columns=["check", "region"], values="value", aggfunc="first", sort=False
    )
    numbers.columns = [f"{c} ({r})" for c, r in numbers.columns]
    numbers = numbers.reset_index().rename(columns={"subject": "subject"})
    numbers = numbers.T.reset_index()
    numbers.columns = ["check (region)", *[f"sub-{s}" for s in numbers.iloc[0, 1:]]]
    numbers = numbers.iloc[1:]
    return grid, failures, table_html(numbers, caption="The numbers of the grid")
