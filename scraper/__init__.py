"""Scrapy project that harvests the CACI Analyst's Field Reports into SQLite."""

__version__ = "0.1.0"
