"""The crawler's garbage collection: start-up frozen and young objects collected less often while
a crawl runs, Python's own settings back once it ends."""

from __future__ import annotations

import gc

import pytest
from scrapy.exceptions import NotConfigured

from scraper.gctune import THRESHOLD, GcTuning
from tests.conftest import project_crawler


@pytest.fixture
def python_defaults():
    """The test starts from Python's own collector settings and leaves them so."""
    gc.unfreeze()
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)


def test_a_crawl_freezes_start_up_and_restores_python_s_settings(python_defaults):
    extension = GcTuning.from_crawler(project_crawler())
    extension.spider_opened()
    assert gc.get_threshold() == THRESHOLD and gc.get_freeze_count() > 1000
    extension.spider_opened()  # once only: a second signal changes nothing
    assert gc.get_threshold() == THRESHOLD
    extension.spider_closed()
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_it_is_a_setting():
    with pytest.raises(NotConfigured):
        GcTuning.from_crawler(project_crawler(CACI_GC_TUNED=False))
