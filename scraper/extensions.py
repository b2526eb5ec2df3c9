"""Crawl-wide helpers: short reasons for failed requests and one-line network error logs."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed

# Scrapy (2.19, as pinned) raises its own download exceptions; Twisted's can still surface.
NETWORK_ERRORS = (net.DNSLookupError, net.ConnectError, net.TimeoutError, net.ConnectionLost,
                  net.ConnectionDone, ResponseFailed, TimeoutError, ConnectionError,
                  scrapy_errors.CannotResolveHostError, scrapy_errors.DownloadConnectionRefusedError,
                  scrapy_errors.DownloadTimeoutError, scrapy_errors.DownloadFailedError,
                  scrapy_errors.ResponseDataLossError)


def _exception(failure: Failure | BaseException) -> BaseException:
    return failure.value if isinstance(failure, Failure) else failure


def describe_failure(failure: Failure | BaseException) -> str:
    """A short reason for a failed request: "HTTP 404", "DNSLookupError: ...", ..."""
    exc = _exception(failure)
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        return str(exc) or "request ignored"
    text = str(exc).strip() or exc.__class__.__doc__ or ""
    return f"{type(exc).__name__}: {' '.join(text.split())}"


def is_unreachable(failure: Failure | BaseException) -> bool:
    """Whether the failure means the site itself is down or out of reach (not one bad page)."""
    exc = _exception(failure)
    if isinstance(exc, HttpError):
        return exc.response.status >= 500
    return isinstance(exc, NETWORK_ERRORS)


class _OneLineNetworkErrors(logging.Filter):
    """Drops the traceback from log records about network errors: the message says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], NETWORK_ERRORS):
            record.msg = f"{record.msg} (network error, traceback omitted)"
            record.exc_info = None
            record.exc_text = None
        return True


class QuietNetworkErrors:
    """Keeps an offline or unreachable site from filling the log with tracebacks."""

    LOGGERS = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.core.scraper",
               "scrapy.downloadermiddlewares.retry")

    def __init__(self) -> None:
        self._filter = _OneLineNetworkErrors()
        for name in self.LOGGERS:
            logging.getLogger(name).addFilter(self._filter)

    @classmethod
    def from_crawler(cls, crawler: Any) -> QuietNetworkErrors:
        return cls()
