"""The project's layers: imports point down only, no cycles, the spider never touches storage.

Every module of scraper/, pipelines/ and db/ is read (not imported) and each of its imports of a
project module, at the top or inside a function, is checked against the layer table below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The folders, lowest first: a folder imports only from itself and the folders before it.
FOLDERS: list[tuple[str, str]] = [
    ("sample", "the sample site and its server (the demo's and the tests'), apart from the crawler"),
    ("analyst", "what the site is: the report model, text, URL and section rules, the K2 page objects"),
    ("db", "storage"),
    ("pipelines", "cleaning stages, item pipelines, worker processes"),
    ("scraper", "the Scrapy project, the command line and the Datasette plugin"),
]
# Within the folders, lowest first: a module may import modules of its own layer or of a lower one.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("the sample site", ("sample",)),
    ("model and pure rules", ("analyst", "analyst.model", "analyst.text", "analyst.sections", "analyst.urls")),
    ("page parsing", ("analyst.pages",)),
    ("storage", ("db",)),
    ("cleaning stages and item pipelines", ("pipelines",)),
    ("Scrapy components", ("scraper", "scraper.settings", "scraper.spiders", "scraper.middlewares",
                           "scraper.extensions", "scraper.monitor", "scraper.drift", "scraper.gctune", "scraper.state",
                           "scraper.lock", "scraper.cache", "scraper.archive", "scraper.commands", "scraper.preflight",
                           "scraper.progress", "scraper.compat", "scraper.exits", "scraper.run")),
    ("entry points and Datasette", ("scraper.__main__", "scraper.cli", "scraper.cron", "scraper.demo", "scraper.reclean",
                                    "scraper.export", "scraper.datasheet",
                                    "scraper.doctor", "scraper.web")),
]
PACKAGES = tuple(name for name, _ in FOLDERS)


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


def folder_of(module: str) -> int:
    return PACKAGES.index(module.split(".")[0])


@pytest.mark.parametrize("folder", PACKAGES)
def test_folders_import_only_the_folders_below(folder):
    """The tree shows the layers: no folder imports a folder above it (db imported scraper's
    model, pipelines scraper's settings, so the folders ran in a circle)."""
    upward = sorted({f"{module} -> {i}" for module in MODULES if module.split(".")[0] == folder
                     for i in GRAPH[module] if folder_of(i) > folder_of(module)})
    assert not upward, f"{folder}/ ({FOLDERS[PACKAGES.index(folder)][1]}) imports from above: {upward}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_300_lines(module):
    assert len(MODULES[module].read_text().splitlines()) <= 300, module


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
            # The stat names (pipelines.stats) are all it may take from below the Scrapy project.
            assert not [i for i in imports if i == "db" or i.startswith(("db.", "pipelines")) and
                        i not in ("pipelines", "pipelines.stats")], module


def test_the_bottom_layer_imports_no_third_party_crawler_or_storage():
    for module in LAYERS[1][1] + LAYERS[2][1]:
        source = MODULES[module].read_text() if module in MODULES else ""
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
    result = subprocess.run([sys.executable, "-c", "import scraper.settings"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "another package shadows this project's own (db -> " in result.stderr
    ours = subprocess.run([sys.executable, "-c", "import scraper.settings"], cwd=ROOT, capture_output=True, text=True,
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


BENCH_SCRIPTS = sorted((ROOT / "bench").glob("*.py"))


@pytest.mark.parametrize("script", BENCH_SCRIPTS, ids=[p.name for p in BENCH_SCRIPTS])
def test_every_name_a_benchmark_imports_from_the_project_exists(script):
    """Benchmarks run by hand, not by the suite: a name moved away (bench/extraction.py still took
    ListingEntry from analyst.pages after the model moved) broke one without any test failing."""
    import importlib.util

    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in (*PACKAGES, "tests", "bench"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(f"{node.module}.{alias.name}"), (
                    f"{script.name}: {node.module}.{alias.name}")
