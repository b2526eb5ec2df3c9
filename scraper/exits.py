"""Exit codes, each written once: what every command (`scrapy crawl`, cron, demo, doctor, extract,
reclean, serve) ends with, so cron and scripts can tell the cases apart."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # the run failed: drift, failure rate, an incomplete listing walk, damaged records
EXIT_USAGE = 2  # a bad argument or setting, or nothing to work on; nothing was created
EXIT_UNREACHABLE = 3  # the site, or its start page, cannot be reached
EXIT_DATABASE = 4  # storage: not this project's database, or a disk that cannot be written
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the database's lock; try again later
