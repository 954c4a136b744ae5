"""The CSF-suppression stage (config ``preprocess``, CLI ``synflair preprocess``).

:mod:`~synflair.preprocess.api` holds the rule and the file-level function;
:mod:`~synflair.preprocess.cli` is ``synflair preprocess``.
"""

from synflair.preprocess import api
from synflair.preprocess.api import (
    FORMS as FORMS,
)
from synflair.preprocess.api import (
    IR_THRESHOLD as IR_THRESHOLD,
)
from synflair.preprocess.api import (
    T2_THRESHOLD as T2_THRESHOLD,
)
from synflair.preprocess.api import (
    CSFSuppression as CSFSuppression,
)
from synflair.preprocess.api import (
    criterion_value as criterion_value,
)
from synflair.preprocess.api import (
    csf_suppress as csf_suppress,
)
from synflair.preprocess.api import (
    csf_suppress_file as csf_suppress_file,
)

__all__ = api.__all__
