"""Minimal, dependency-free HTML assembly for a self-contained report."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;border-bottom:2px solid #444}h2{font-size:1.25em;margin-top:2em;
border-bottom:1px solid #bbb}h3{font-size:1.05em}
table{border-collapse:collapse;margin:0.8em 0;font-size:0.88em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figcaption{font-size:0.88em;color:#444}img{max-width:100%}
.note{background:#f8f8e8;border-left:4px solid #cc9;padding:0.5em 1em;font-size:0.92em}
.small{font-size:0.85em;color:#555}
table.headline td:nth-child(2),table.headline th{text-align:left}
table.headline td{white-space:nowrap}table.headline td.na{white-space:normal}
td.t{text-align:left}td.na{text-align:left;color:#8a4b00;font-size:0.9em}
ul.verdict li{margin:0.35em 0}ul.verdict{font-size:1.05em}
"""


def escape(text) -> str:
    """HTML-escape ``text``."""
    return html.escape(str(text))


def png_data_uri(figure) -> str:
    """Render a matplotlib figure to an embedded PNG ``data:`` URI and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_html(figure, caption: str) -> str:
    """An embedded figure with a caption."""
    return (
        f'<figure><img src="{png_data_uri(figure)}" alt="{escape(caption[:80])}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _looks_numeric(text: str) -> bool:
    head = text.split(" ")[0].replace("%", "").replace("+", "").replace("−", "-")
    try:
        float(head)
    except ValueError:
        return text == "n/a"
    return True


def table_html(frame: pd.DataFrame, *, caption: str | None = None, floatfmt: str = "{:.4g}") -> str:
    """A DataFrame as an HTML table (values escaped, floats formatted)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            if isinstance(value, float):
                text = "n/a" if pd.isna(value) else floatfmt.format(value)
            else:
                text = str(value)
            numeric = isinstance(value, (int, float)) or _looks_numeric(text)
            cells.append(
                f"<td>{escape(text)}</td>" if numeric else f"<td class='t'>{escape(text)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page(title: str, body: str) -> str:
    """A complete HTML document."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )
