"""The direction of imports (pyproject's import-linter contracts) holds, and the check sees the imports made inside
functions, which is where arrows back up used to hide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("geo", "layers", "office", "demo", "ui", "cli", "services", "webmap", "exports", "i18n", "config")


def test_the_contracts_hold():
    run = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout


def test_function_level_imports_are_seen():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=True)
    # alembic's command module is imported inside migrate() only
    assert "alembic" in graph.find_modules_directly_imported_by("layers.stores.postgis.schema")
    # the command line imports its commands' modules inside the functions that run them
    assert graph.find_modules_directly_imported_by("cli.province_commands") & {"geo.partition"}


def test_nothing_below_imports_the_words_or_the_office():
    graph = grimp.build_graph(*PACKAGES)
    for low in ("geo", "config", "layers"):
        for module in graph.find_children(low) | graph.find_descendants(low):
            above = {m.split(".")[0] for m in graph.find_modules_directly_imported_by(module)}
            assert not above & {"i18n", "office", "demo", "ui", "cli", "services", "exports", "webmap"}, module


def test_every_name_imported_from_our_modules_exists():
    """A module moved or a function renamed leaves no import of the old name behind (the pages are scripts that
    Streamlit runs later, so a stale import would only fail on the page)."""
    import ast
    import importlib

    import i18n  # noqa: F401  (as every entry point)

    missing = []
    for path in sorted(ROOT.rglob("*.py")):
        if ".venv" in path.parts or "artifacts" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                    and node.module.split(".")[0] in (*PACKAGES, "tests", "bench")):
                continue
            if node.module == "services.app_server":  # makes the app when imported
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                if alias.name != "*" and not hasattr(module, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        missing.append(f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}")
    assert not missing, missing
