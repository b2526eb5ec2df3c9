"""The project's layers: imports point down only, no cycles, the spider never touches storage.

Every module of scraper/, pipelines/ and db/ is read (not imported) and each of its imports of a
project module, at the top or inside a function, is checked against the layer table below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Lowest first: a module may import modules of its own layer or of a lower one.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("model and pure rules", ("scraper", "scraper.model", "scraper.text", "scraper.sections", "scraper.urls",
                              "scraper.settings")),
    ("page parsing", ("scraper.pages",)),
    ("cleaning stages and storage", ("pipelines.workers", "pipelines.blocks", "pipelines.byline", "pipelines.intro",
                                     "pipelines.structure", "pipelines.plugins", "pipelines.render",
                                     "pipelines.report", "pipelines.generic", "pipelines.extract", "pipelines",
                                     "db")),
    ("Scrapy components", ("scraper.spiders", "scraper.middlewares", "scraper.extensions", "scraper.monitor",
                           "scraper.drift", "scraper.gctune", "scraper.state", "scraper.lock", "scraper.cache", "scraper.archive", "scraper.commands", "scraper.preflight", "pipelines.cleaning",
                           "pipelines.storage", "scraper.devserver")),
    ("entry points and Datasette", ("scraper.__main__", "scraper.cli", "scraper.cron", "scraper.demo", "scraper.reclean",
                                    "scraper.doctor", "scraper.web")),
]
PACKAGES = ("scraper", "pipelines", "db")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of the longest table entry that names the module or a package holding it."""
    best, best_len = None, -1
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best_len:
                best, best_len = index, len(name)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] in PACKAGES}
    return found


MODULES = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}
GRAPH = {name: {i for i in project_imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    mine = layer_of(module)
    upward = [(i, LAYERS[layer_of(i)][0]) for i in GRAPH[module] if layer_of(i) > mine]
    assert not upward, f"{module} ({LAYERS[mine][0]}) imports from above: {upward}"


def test_no_import_cycles():
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


def test_the_spider_only_routes_requests():
    """Issue 12: crawl state comes from a component; spiders import neither db nor cleaning."""
    for module, imports in GRAPH.items():
        if module.startswith("scraper.spiders"):
            assert not [i for i in imports if i == "db" or i.startswith(("db.", "pipelines"))], module


def test_the_bottom_layer_imports_no_third_party_crawler_or_storage():
    for module in LAYERS[0][1]:
        source = MODULES[module].read_text()
        assert "import scrapy" not in source and "sqlite" not in source, module


def test_a_shadowing_package_is_refused_with_a_clear_message(tmp_path):
    """Issue 12: PyPI has a `db` package; if one comes first on the path, the project says so."""
    import os
    import subprocess
    import sys

    fake = tmp_path / "db"
    fake.mkdir()
    (fake / "__init__.py").write_text("NOT_OURS = True\n")
    env = os.environ | {"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    result = subprocess.run([sys.executable, "-c", "import scraper.model"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "another package shadows this project's own (db -> " in result.stderr
    ours = subprocess.run([sys.executable, "-c", "import scraper.model"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert ours.returncode == 0, ours.stderr


@pytest.mark.parametrize(("module", "absent"), [
    # A crawl's cleaning worker: no Scrapy, and no database (db's package brings sqlite_utils).
    ("pipelines.workers", ("scrapy", "sqlite_utils", "db")),
    # The writer process: no Scrapy, and none of the cleaning stages.
    ("pipelines.writer", ("scrapy", "pipelines.workers", "pipelines.extract")),
])
def test_worker_processes_import_only_what_they_run(module, absent):
    """What a worker process imports is CPU the crawl's start shares its cores with, and the
    writer's start is time the event loop waits for its first capture ids."""
    import subprocess
    import sys

    code = f"import sys, {module}; print(sorted(m for m in {absent!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
