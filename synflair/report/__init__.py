"""The self-contained HTML results report (figures embedded, no external files).

:func:`build_report` and :class:`ReportInputs` are served lazily from
:mod:`synflair.report.build`, so that the workflow can read
:func:`synflair.report.methods.report_config` without importing matplotlib.
"""

__all__ = ["ReportInputs", "build_report"]


def __getattr__(name: str):
    if name in __all__:
        from synflair.report import build

        return getattr(build, name)
    raise AttributeError(f"module 'synflair.report' has no attribute {name!r}")
