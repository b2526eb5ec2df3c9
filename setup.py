"""Only for scrapyd-deploy, which builds its egg with `python setup.py bdist_egg`: the project,
its package data and its `scrapy` settings entry point are all declared in pyproject.toml."""

from setuptools import setup

setup()
