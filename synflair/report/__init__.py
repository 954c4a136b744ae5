"""The self-contained HTML results report (figures embedded, no external files)."""

from synflair.report.build import ReportInputs, build_report

__all__ = ["ReportInputs", "build_report"]
