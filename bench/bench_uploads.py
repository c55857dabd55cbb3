"""Benchmark: how fast and how lean each bad upload is refused (a 1.2 GB zip bomb, million-vertex
polygons, a traversal zip, a link, a raster bomb, a 90 MB CSV of 15 million rows, an XLSX of three million
rows, an XLSX claiming 16,384 columns), each in a fresh process, against the floor of the same process
refusing an empty file; then two hostile partner services for the pull (a server dripping one byte every
half second against a 3 s budget, an endless page against an 8 MB cap).  Prints figures; asserts nothing.

    make bench-uploads        # (python -m bench.bench_uploads from the project folder)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.security.bad_files import build_bad_files, refuse_in_a_process


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = build_bad_files(folder / "files")
        empty = folder / "空.geojson"
        empty.write_bytes(b"")
        floor = refuse_in_a_process(empty, "floor", folder / "uploads", folder / "store.gpkg")
        print(f"{'floor (an empty file)':<22} {floor['seconds']:6.2f} s  peak {floor['peak_mb']:6.0f} MB  "
              f"{floor['error']}")
        for kind, path in files.items():
            got = refuse_in_a_process(path, kind, folder / "uploads", folder / "store.gpkg")
            print(f"{kind:<22} {got['seconds']:6.2f} s  peak {got['peak_mb']:6.0f} MB  "
                  f"({got['peak_mb'] - floor['peak_mb']:+.0f} MB over the floor; {path.stat().st_size / 2**20:.1f} MB "
                  f"file)  {got['error']}: {got['message'][:90]}")
        left = list((folder / "uploads").glob("*"))
        print(f"left in the upload folder afterwards: {len(left)}")
    hostile_services()


def hostile_services() -> None:
    """The pull against a slow and an endless partner service: time to the refusal and memory held."""
    import time
    import tracemalloc

    from geo.errors import OneMapError
    from layers.remote import Deadline, FetchBounds, get_json
    from tests.security.test_sync_pull import Partner

    partner = Partner()
    try:
        cases = {
            "slow (1 B / 0.5 s)": ((200, {}, [b"{"] + [b" "] * 1000, 0.5),
                                   FetchBounds(allowed=(partner.url,), read_timeout=2.0), 3.0),
            "endless page": ((200, {}, [b"[" + b"0," * 32_767 + b"0]"] * 20_000, 0.0),
                             FetchBounds(allowed=(partner.url,), max_bytes=8 * 1024 * 1024), 60.0),
        }
        for name, (answer, bounds, budget) in cases.items():
            partner.answer = answer
            tracemalloc.start()
            started = time.perf_counter()
            try:
                get_json(partner.url + "/x", bounds, Deadline(budget, partner.url))
                outcome = "accepted"
            except OneMapError as exc:
                outcome = str(exc)[:90]
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"pull, {name:<18} {seconds:6.2f} s (budget {budget:g} s)  peak {peak:6.1f} MB held  {outcome}")
    finally:
        partner.close()


if __name__ == "__main__":
    main()
