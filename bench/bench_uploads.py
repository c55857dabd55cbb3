"""Benchmark: how fast and how lean each bad upload is refused (a 1.2 GB zip bomb, million-vertex
polygons, a traversal zip, a link, a raster bomb), each in a fresh process, against the floor of the same
process refusing an empty file.  Prints figures; asserts nothing.

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


if __name__ == "__main__":
    main()
