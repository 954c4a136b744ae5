"""``python -m synflair`` is the same as the ``synflair`` command."""

import sys

from synflair.cli import main

sys.exit(main())
