"""The coverage page's partitioned run: the same coverage cut into tiles or units and run on a Dask cluster,
a progress bar as partitions finish, and the figures set beside the page's own single run.

The cluster comes from configuration only — ``ONEMAP_DASK_SCHEDULER`` (a running scheduler) or a
local cluster of worker processes on this server — never from an address typed in the page: the
server would connect wherever it is told. The inputs are written to ``ONEMAP_DASK_INPUTS`` (a
folder every worker mounts) or to a temporary folder for local workers.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from config.settings import settings
from geo.coverage import CoverageResult
from geo.errors import OneMapError
from i18n import t
from i18n.values import value_label
from layers.stores import Store
from ui import show, state
from ui.tables import show_table

log = logging.getLogger(__name__)
PARTITIONS = ("tiles", "district", "street", "community")
#: One partitioned run at a time on this server: each starts worker processes on every core (or fills the
#: shared cluster), and the pages of the other departments share those cores.
RUN_LOCK = threading.Lock()


def _where(lang: str) -> str:
    address = settings().dask_scheduler
    return t("province_scheduler", lang, address=address) if address else \
        t("province_local", lang, n=os.cpu_count() or 1)


def _run(store: Store, thresholds: Sequence[float], by: str, n_tiles: int, boundaries, lang: str) -> dict:
    """Write the inputs, start (or reach) the cluster, run the partitions with a progress bar."""
    from distributed import as_completed

    from geo.partition import make_plan, tiles, unit_parts, write_inputs
    from geo.province import close_cluster, cluster, run_province

    bar = st.progress(0.0, text=t("province_preparing", lang))
    shared = settings().dask_inputs
    folder = str(shared) if shared else tempfile.mkdtemp(prefix="onemap-province-")
    try:
        source = write_inputs(store, folder)
        plan = make_plan(source, thresholds)
        parts = tiles(plan, n_tiles, n_tiles) if by == "tiles" else unit_parts(plan, boundaries, level=by)
        t0 = time.perf_counter()
        client = cluster(settings().dask_scheduler)
        try:
            workers = len(client.scheduler_info()["workers"])

            def watch(futures: list) -> None:
                for k, _ in enumerate(as_completed(futures), start=1):
                    bar.progress(k / len(futures), text=t("province_progress", lang, k=k, n=len(futures),
                                                          workers=workers))

            result = run_province(source, thresholds, plan=plan, parts=parts, client=client, on_future=watch)
        finally:
            close_cluster(client)
        bar.progress(1.0, text=t("province_done", lang, n=len(parts), s=f"{time.perf_counter() - t0:.1f}"))
        return {"summary": result.summary(), "parts": len(parts), "workers": workers,
                "seconds": time.perf_counter() - t0, "by": by}
    finally:
        if not shared:
            shutil.rmtree(folder, ignore_errors=True)


def province_section(store: Store, page_result: CoverageResult, *, comparable: bool, boundaries, lang: str) -> None:
    """The expander: partitions, run, progress, and the partitioned figures beside the page's (``comparable``:
    the page ran the network method at no time slot, as the partitioned run does)."""
    with st.expander(t("province_title", lang)):
        st.caption(t("province_intro", lang, where=_where(lang)))
        levels = [p for p in PARTITIONS if p == "tiles" or (
            boundaries is not None and p in set(boundaries.get("level", pd.Series(dtype=str))))]
        with st.form("province_form"):
            c1, c2 = st.columns(2)
            by = c1.selectbox(t("province_by", lang), levels, key=state.PROVINCE_BY,
                              format_func=lambda k: t("province_by_tiles", lang) if k == "tiles"
                              else t(f"level_{k}", lang))
            n_tiles = c2.number_input(t("province_tiles", lang), min_value=1, max_value=12, value=2, step=1,
                                      key=state.PROVINCE_TILES)
            go = st.form_submit_button(t("province_run", lang))
        if go:
            thresholds = [float(v) for v in sorted({th for ths in page_result.thresholds.values() for th in ths})]
            if not RUN_LOCK.acquire(blocking=False):
                show.warning(t("province_busy", lang))
                return
            try:
                st.session_state[state.PROVINCE_RESULT] = _run(store, thresholds, by, int(n_tiles), boundaries, lang)
            except OneMapError as exc:
                show.failure(exc, lang, prefix=t("analysis_error", lang))
                return
            except (OSError, TimeoutError) as exc:  # the cluster could not be reached or started
                log.exception("partitioned run failed: %s", exc)
                show.error(t("province_cluster_error", lang, where=_where(lang)))
                return
            finally:
                RUN_LOCK.release()
        done = st.session_state.get(state.PROVINCE_RESULT)
        if done is None:
            return
        summary = done["summary"]
        mine = page_result.summary().set_index(["layer", "threshold_m"])["covered"]
        theirs = summary.set_index(["layer", "threshold_m"])["covered"]
        if comparable:
            same = mine.reindex(theirs.index).equals(theirs)
            (show.success if same else show.warning)(t("province_same" if same else "province_differs", lang))
        else:
            st.caption(t("province_not_comparable", lang))
        st.caption(t("province_ran", lang, n=done["parts"], workers=done["workers"], s=f"{done['seconds']:.1f}",
                     by=t("province_by_tiles", lang) if done["by"] == "tiles" else t(f"level_{done['by']}", lang)))
        table = summary.copy()
        table["layer"] = [value_label("layer", k, lang) for k in table["layer"]]
        show_table(table, {"layer": (t("facility_layers", lang), "text"),
                           "threshold_m": (t("province_walk", lang), "metres"),
                           "residents": (t("residents", lang), "count"), "covered": (t("covered", lang), "count"),
                           "rate": (t("rate", lang), "bar")}, lang, key="coverage.province_table")


__all__ = ["province_section", "RUN_LOCK"]
