"""``python -m broker``: the same as the ``kaido`` command."""

import sys

from .cli import main

sys.exit(main())
