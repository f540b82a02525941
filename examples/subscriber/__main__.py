"""`python -m examples.subscriber`: run the live map (see cli.py, or --help)."""

import sys

from .cli import main

sys.exit(main())
