"""The command line's progress: bars driven by the work on a terminal, nothing with --quiet or into a file;
and the global --user is who the history names."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from cli.main import EXIT_OK, main
from layers.stores.geopackage import GeoPackageStore
from tests.app.test_cli import city  # noqa: F401  (the fixture)
from tests.conftest import ROOT

ONEMAP = str(Path(sys.executable).parent / "onemap")


def _run_in_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its stdout and stderr; return its exit code and what it drew."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                            env={**os.environ, "COLUMNS": "160"})
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(60), b"".join(chunks).decode("utf-8", errors="replace")


def test_bars_follow_the_work_on_a_terminal(city):  # noqa: F811
    code, drawn = _run_in_a_terminal([ONEMAP, "--store", city, "plan", "--problem", "mclp", "--p", "4",
                                      "--cutoff", "500"])
    assert code == EXIT_OK, drawn
    for phase in ("preparing", "catchments of", "solving mclp"):
        assert phase in drawn, drawn[-2000:]
    shown = [int(v) for v in re.findall(r"solving mclp \(heuristic\)\s+(\d+)%", drawn)]
    assert len(set(shown)) > 3 and shown == sorted(shown) and shown[-1] == 100  # it moved with the solver
    assert "Choosing sites one by one" in drawn and "Reading layer Sports venues" in drawn


def test_no_bar_without_a_terminal_or_with_quiet(city, capsys):  # noqa: F811
    run = subprocess.run([ONEMAP, "--store", city, "coverage", "--layers", "venues"], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == EXIT_OK and "%|" not in run.stderr and "体育场馆" in run.stdout
    code, drawn = _run_in_a_terminal([ONEMAP, "--store", city, "--quiet", "coverage", "--layers", "venues"])
    assert code == EXIT_OK and "%|" not in drawn


def test_the_global_user_is_who_the_history_names(city, tmp_path):  # noqa: F811
    usage = tmp_path / "usage.csv"
    usage.write_text("场馆编号,日期,人次\nvenue-001,2026-10-01,12\n", encoding="utf-8")
    assert main(["--store", city, "--user", "bob", "--quiet", "records", str(usage), "--kind", "venue_usage"]) \
        == EXIT_OK
    with GeoPackageStore(city) as store:
        assert store.history("venue_usage")["changed_by"].tolist()[-1] == "bob"
