"""The wheel built from pyproject.toml is the whole program: installed into a new venv outside the checkout it runs
``onemap serve --help``, writes an offline HTML map and serves the data exchange server's pages with their
Leaflet; and it declares every package the program imports.

The new venv takes the third-party packages from the test's own environment (a ``.pth`` line; the machine has no
internet to download them again), so what it proves is that everything of ours is in the wheel and that the
wheel declares everything of theirs it needs."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path

import grimp
import pytest

from tests.conftest import ROOT, _free_port, stop, wait_healthy

PACKAGES = ("geo", "layers", "office", "demo", "ui", "cli", "services", "webmap", "exports", "i18n", "config")
#: What a build needs from the checkout (tracked files; published maps and caches are not the program).
_LEAVE_OUT = shutil.ignore_patterns(".venv", ".git", "__pycache__", "tests", "data", "bench", "docs", "notebooks",
                                    "maps", "*.egg-info", "build", ".hypothesis", ".pytest_cache")


@pytest.fixture(scope="module")
def installed(tmp_path_factory, demo_gpkg):
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_LEAVE_OUT, symlinks=True)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((work / "dist").glob("fitness_one_map-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    yield venv, wheel, work, demo_gpkg


def _run(venv: Path, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(cwd), "ONEMAP_INSTANCE_DIR": str(cwd / "instance")}
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_it_runs_from_the_wheel_alone(installed):
    venv, _wheel, work, _demo = installed
    where = _run(venv, "python", "-c", "import geo, services, ui; print(geo.__file__, ui.__file__)", cwd=work)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout and str(venv) in where.stdout  # ours from the wheel, not the checkout
    helped = _run(venv, "onemap", "serve", "--help", cwd=work)
    assert helped.returncode == 0 and "--write-config" in helped.stdout, helped.stderr
    static = next((venv / "lib").glob("python3*/site-packages")) / "ui" / "static" / "vendor" / "leaflet"
    assert (static / "leaflet.js").exists()
    assert next((venv / "lib").glob("python3*/site-packages/services/streamlit_config.toml"))
    assert next((venv / "lib").glob("python3*/site-packages/ui/views/one_map_page.py"), None) or \
        list((venv / "lib").glob("python3*/site-packages/ui/views/*.py"))


def test_an_offline_html_map_from_the_wheel(installed):
    venv, _wheel, work, demo = installed
    out = work / "city.html"
    done = _run(venv, "onemap", "--store", str(demo), "export", "--layers", "venues,boundaries", "--html",
                "--out", str(out), cwd=work)
    assert done.returncode == 0, done.stderr[-2000:]
    html = out.read_text(encoding="utf-8")
    assert "L.map(" in html or "L.map (" in html or "leaflet" in html.lower()
    assert not re.search(r"<script[^>]+src=\"https?://", html)  # Leaflet inlined from the wheel, nothing fetched


def test_the_data_exchange_pages_from_the_wheel(installed):
    venv, _wheel, work, demo = installed
    port = _free_port()
    log = open(work / "ogc.log", "w")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(work), "ONEMAP_INSTANCE_DIR": str(work / "inst")}
    proc = subprocess.Popen([str(venv / "bin" / "python"), "-m", "services.ogc_api", "--store", str(demo), "--port",
                             str(port)], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, path="/conformance?f=json")
        with urllib.request.urlopen(f"{url}/?f=html", timeout=30) as r:
            page = r.read().decode()
        assert r.status == 200
        scripts = re.findall(r"(?:src|href)=\"([^\"]*vendor[^\"]*)\"", page)
        assert scripts, "the landing page names no vendored file"
        for ref in scripts:
            target = ref if ref.startswith("http") else url + "/" + ref.lstrip("/")
            with urllib.request.urlopen(target, timeout=30) as r:
                assert r.status == 200 and r.read(), target
    finally:
        stop(proc)
        log.close()


def test_the_wheel_declares_what_the_program_imports(installed):
    _venv, wheel, _work, _demo = installed
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [line.split(":", 1)[1].strip() for line in z.read(meta).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
    declared = {re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requires}
    graph = grimp.build_graph(*PACKAGES, include_external_packages=True)
    imported = {m for m in graph.modules if m.split(".")[0] not in PACKAGES and "." not in m}
    owners = importlib.metadata.packages_distributions()
    missing = {}
    for name in sorted(imported - set(sys.stdlib_module_names)):
        dists = {d.lower().replace("_", "-") for d in owners.get(name, [])}
        if dists and not dists & declared:
            missing[name] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    runtime = {re.split(r"[ =<>\[]", line, maxsplit=1)[0].lower().replace("_", "-")
               for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0].isalnum()}
    assert runtime <= declared, f"pinned to run but not declared: {sorted(runtime - declared)}"
