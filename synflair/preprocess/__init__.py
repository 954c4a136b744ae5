"""The CSF-suppression stage (config ``preprocess``, CLI ``synflair preprocess``).

:mod:`~synflair.preprocess.api` holds the rule and the file-level function;
:mod:`~synflair.preprocess.cli` is ``synflair preprocess``.
"""

from synflair.preprocess.api import (
    FORMS,
    IR_THRESHOLD,
    T2_THRESHOLD,
    CSFSuppression,
    criterion_value,
    csf_suppress,
    csf_suppress_file,
)

__all__ = [
    "FORMS",
    "IR_THRESHOLD",
    "T2_THRESHOLD",
    "CSFSuppression",
    "criterion_value",
    "csf_suppress",
    "csf_suppress_file",
]
