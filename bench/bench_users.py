"""Benchmark: ten planners at once — N people, each in its own browser, open 覆盖分析 together, choose their own
life circle and unit level and run it, then open 选址规划 and solve a plan (each its own number of sites); for
N = 1, 3, 6, 10, through ``onemap serve`` behind nginx over PostGIS (the demo city), with the browsers on the same
two cores.

Printed per N: time until each person sees the page's figures and drawn map (median / max, and the ratio to one
person alone), beside the floor — N people opening a bare Streamlit page that holds only the same published map
(``bench/floor_app.py``, behind nginx as the app is), what N browsers on these two cores cost with no app at
all; the run after their change; the planning page and the plan's 求解 until its result shows; the app
process's CPU seconds per person in each step (a visit whose analysis is cached: every combination of inputs is
computed once before the rounds, as on a server that has run a while); the app's memory after the round.
Asserts nothing.

    make bench-users
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_booking import _cpu_seconds, _port
from bench.bench_serve import CHROMIUM, MAP, _rss_mb, _wait, served
from geo.definitions import LIFE_CIRCLES
from i18n import t
from i18n.definitions import circle_label
from services.deploy import Ports, nginx_site, standalone_nginx_conf

ROOT = Path(__file__).resolve().parents[1]
USERS = (1, 3, 6, 10)
LEVELS = ("street", "district", "community")
WAIT = 300_000  # ms: a browser waits as long as the server needs


def _inputs(k: int) -> tuple[float, str, int]:
    """Person ``k``'s life circle (metres), unit level and number of new sites."""
    return LIFE_CIRCLES[k % 3].metres, LEVELS[(k // 3) % 3], 3 + k % 4


def _ready(page, metres: float | None = None) -> None:
    """The coverage page's figures and its map drawn (for ``metres``' circle, when given)."""
    if metres is None:
        page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=WAIT)
    else:
        minutes = f"{next(c.minutes for c in LIFE_CIRCLES if c.metres == metres)}分钟"
        page.locator("[data-testid='stMetricLabel']", has_text=minutes).first.wait_for(timeout=WAIT)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT)
    page.locator(MAP).first.scroll_into_view_if_needed(timeout=WAIT)  # as a person scrolls to the map
    frame = page.frame_locator(MAP).first
    frame.locator(".leaflet-container").wait_for(timeout=WAIT)
    if metres is not None:
        frame.get_by_text(t("legend_covered_share", "zh", m=f"{metres:,.0f}")).first.wait_for(timeout=WAIT)


def _choose(page, metres: float, level: str) -> None:
    page.get_by_text(circle_label(metres), exact=True).first.click()
    page.locator("[data-testid='stSelectbox']", has_text=t("unit_level", "zh")).first.click()
    page.get_by_role("option", name=t(f"level_{level}", "zh"), exact=True).click()


def _solve_ready(page) -> None:
    page.get_by_role("button", name=t("solve", "zh"), exact=True).wait_for(timeout=WAIT)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT)


def _set_sites(page, p: int) -> None:
    box = page.locator("[data-testid='stNumberInput'] input").first
    box.fill(str(p))
    box.press("Tab")


def _timed(pages, start: float, wait) -> list[float]:
    out = []
    for k, page in enumerate(pages):
        wait(k, page)
        out.append(time.perf_counter() - start)
    return out


def floor_round(browser, url: str, n: int) -> list[float]:
    """``n`` people open the bare page holding the same map at once; seconds until each sees it drawn."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    start = time.perf_counter()
    for page in pages:
        page.goto(url, wait_until="commit")
    times = _timed(pages, start, lambda k, page: page.frame_locator(MAP).first.locator(".leaflet-container")
                   .wait_for(timeout=WAIT))
    for c in contexts:
        c.close()
    return times


def _floor(browser, base: str, env: dict[str, str], work: Path):
    """The bare page's server behind its own nginx (as the app is): holding the coverage map the app published
    for its default inputs.  Returns the processes and the address."""
    page = browser.new_page()
    page.goto(f"{base}/coverage")
    _ready(page)
    key = page.locator(MAP).first.get_attribute("src").split("/maps/")[1].split(".html")[0]
    page.close()
    app, listen = _port(), _port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "bench/floor_app.py", "--server.port",
                             str(app)], cwd=ROOT, env={**env, "ONEMAP_BENCH_MAP_KEY": key},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    site = work / "floor-nginx.conf"
    site.write_text(nginx_site(Ports(app=app, listen=listen)))
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", str(standalone_nginx_conf(work, site)), "-p", str(work)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{listen}"
    _wait(url + "/_stcore/health")
    return (proc, nginx), url


def _step(pages, app_pid: int, act, wait) -> tuple[list[float], float]:
    """Everyone acts (``act(page)``) together; seconds until each is done (``wait(k, page)``) and the app's CPU
    seconds per person."""
    cpu0, start = _cpu_seconds(app_pid), time.perf_counter()
    for page in pages:
        act(page)
    times = _timed(pages, start, wait)
    return times, (_cpu_seconds(app_pid) - cpu0) / len(pages)


def round_of(browser, base: str, app_pid: int, n: int) -> dict[str, object]:
    """One round of ``n`` people; seconds and CPU per person of each step."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    out: dict[str, object] = {}
    cpu: dict[str, float] = {}
    out["open"], cpu["open"] = _step(pages, app_pid, lambda page: page.goto(f"{base}/coverage", wait_until="commit"),
                                     lambda k, page: _ready(page))
    for k, page in enumerate(pages):
        metres, level, _p = _inputs(k)
        _choose(page, metres, level)
    out["change"], cpu["change"] = _step(pages, app_pid,
                                         lambda page: page.get_by_role("button", name=t("run", "zh")).click(),
                                         lambda k, page: _ready(page, _inputs(k)[0]))
    out["planning_open"], cpu["planning_open"] = _step(
        pages, app_pid, lambda page: page.goto(f"{base}/planning", wait_until="commit"),
        lambda k, page: _solve_ready(page))
    for k, page in enumerate(pages):
        _set_sites(page, _inputs(k)[2])
        _solve_ready(page)
    out["solve"], cpu["solve"] = _step(
        pages, app_pid, lambda page: page.get_by_role("button", name=t("solve", "zh"), exact=True).click(),
        lambda k, page: page.locator("[data-testid='stAlertContentSuccess']").first.wait_for(timeout=WAIT))
    for c in contexts:
        c.close()
    return {**out, "cpu": cpu}


def main() -> None:
    """The rounds on one server, after one warm-up round that asks for every combination of inputs."""
    from playwright.sync_api import sync_playwright

    with served() as (base, app_pid, _serve_pid, _store, _key, env), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        t0 = time.perf_counter()
        round_of(browser, base, app_pid, 3 * len(LEVELS))  # every circle × level computed and published once
        print(f"warm-up (every circle × level once): {time.perf_counter() - t0:.0f} s")
        floor_procs, floor_url = _floor(browser, base, env, Path(tempfile.mkdtemp(prefix="onemap-floor-")))
        floor_round(browser, floor_url, 1)  # its first page run done, as the app's
        alone: dict[str, float] = {}
        print(f"{'people':>6} {'floor s':>8} {'coverage open s (×1)':>21} {'× floor':>8} {'max':>6} "
              f"{'after change s':>15} "
              f"{'planning open s':>16} {'solve s (×1)':>13} {'CPU s/person: open':>19} {'change':>7} "
              f"{'planning':>9} {'solve':>6} {'RSS MB':>7}")
        for n in USERS:
            floor = statistics.median(floor_round(browser, floor_url, n))
            r = round_of(browser, base, app_pid, n)
            med = {k: statistics.median(r[k]) for k in ("open", "change", "planning_open", "solve")}
            alone = alone or med
            cpu = r["cpu"]
            print(f"{n:>6} {floor:>8.2f} {med['open']:>12.2f} ({med['open'] / alone['open']:>4.1f}×) "
                  f"{med['open'] / floor:>7.1f}× {max(r['open']):>6.2f} "
                  f"{med['change']:>15.2f} {med['planning_open']:>16.2f} {med['solve']:>6.2f} "
                  f"({med['solve'] / alone['solve']:>4.1f}×) {cpu['open']:>19.2f} {cpu['change']:>7.2f} "
                  f"{cpu['planning_open']:>9.2f} {cpu['solve']:>6.2f} {_rss_mb(app_pid):>7.0f}")
        browser.close()
        for proc in floor_procs:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # a browser thread ending with the run is not news
    main()
