"""Coverage of a whole province on a Dask cluster: the partitions of :mod:`geo.partition` run as tasks on
dask.distributed workers (a ``LocalCluster`` on this machine by default, or a running scheduler named by
address), each reading its own inputs; the results are gathered into one coverage result equal, cell for
cell, to a single-machine run.

    from geo.province import cluster, run_province
    with cluster() as client:                           # or cluster("tcp://10.0.0.5:8786")
        result = run_province(source, [300, 500, 1000], tiles=(4, 4), client=client)

A worker lost in the middle of a run (its process killed) is replaced by its nanny and the
scheduler runs its partitions again; a partition is a pure function of its inputs, so the
result is the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from geo.coverage import CoverageResult
from geo.inputs import FACILITY_LAYERS
from geo.partition import Part, Plan, Source, assemble, make_plan, raster_grid, run_part, tiles

#: Memory a local worker may use before Dask pauses and then restarts it.
DEFAULT_WORKER_MEMORY = "4GB"


def cluster(scheduler: str | None = None, *, n_workers: int | None = None,
            memory_limit: str = DEFAULT_WORKER_MEMORY):
    """A Dask client: of the scheduler at ``scheduler`` (the callers pass the ``dask_scheduler`` setting), else of
    a new ``LocalCluster`` with one single-threaded worker process per core, each held to ``memory_limit``."""
    from distributed import Client, LocalCluster

    address = (scheduler or "").strip() or None
    if address:
        return Client(address, timeout="30s")
    workers = n_workers or max(1, os.cpu_count() or 1)
    local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                         dashboard_address=None)
    client = Client(local)
    client._onemap_cluster = local  # closed with the client (see close_cluster)
    return client


def close_cluster(client) -> None:
    """Close a client from :func:`cluster` and the local cluster it started."""
    local = getattr(client, "_onemap_cluster", None)
    client.close()
    if local is not None:
        local.close()


def run_province(source: Source, thresholds: Sequence[float], *, tiles_xy: tuple[int, int] = (4, 4),
                 layers: Sequence[str] = FACILITY_LAYERS, client=None, plan: Plan | None = None,
                 parts: Sequence[Part] | None = None, on_future: Callable[[list], None] | None = None
                 ) -> CoverageResult:
    """Coverage at ``thresholds`` of every populated cell of ``source``, run as ``tiles_xy`` partitions on
    ``client`` (in this process without one). ``on_future`` sees the submitted futures (a progress bar)."""
    plan = plan or make_plan(source, thresholds, layers=layers)
    parts = list(parts or tiles(plan, *tiles_xy))
    if client is None:
        done = [run_part(source, plan, p) for p in parts]
    else:
        futures = client.map(run_part, [source] * len(parts), [plan] * len(parts), parts,
                             key=[f"onemap-part-{p.key}-{abs(hash((plan, p))):x}" for p in parts], retries=2)
        if on_future is not None:
            on_future(futures)
        done = client.gather(futures)
    return assemble(done, plan, raster_grid(source))


__all__ = ["cluster", "close_cluster", "run_province", "DEFAULT_WORKER_MEMORY"]
