"""`python -m scraper ...`: the command line (scraper/cli.py)."""

import sys

from scraper.cli import main

sys.exit(main())
