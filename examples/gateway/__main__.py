"""`python -m examples.gateway`: run the gateway (see gateway.py, or --help)."""

import sys

from .gateway import main

sys.exit(main())
