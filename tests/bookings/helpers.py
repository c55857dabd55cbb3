"""A small booking city for tests: the demo's venues and one court of 20 places, open every day."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pandas as pd

#: The court every concurrency test books.
COURT = "court-20"
CAPACITY = 20


def tomorrow_at(hour: int) -> datetime:
    """Tomorrow at ``hour``:00, local time."""
    return (datetime.now() + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


def set_up_court(store, demo_city, *, capacity: int = CAPACITY) -> None:
    """Write the demo venues and a bookable court at venue-004 (06:00–22:00, 60-minute slots)."""
    store.layers.write("venues", demo_city.layers["venues"], user="test")
    rows = pd.DataFrame([{"resource_id": COURT, "place_layer": "venues", "place_id": "venue-004", "unit": "1号场",
                          "capacity": capacity, "slot_minutes": 60, "hours": "Mo-Su 06:00-22:00", "who_may_book": "everyone",
                          "area_code": None, "days_ahead": 7, "max_active": 2, "cancel_hours": 2, "source": "test"}])
    store.records.write("bookable", rows, user="test", source="test", department="sports")


def open_same_store(spec: tuple):
    """Open the store a worker process shares with the test (a GeoPackage path, or a PostGIS URL and schema)."""
    if spec[0] == "gpkg":
        from layers.stores.geopackage import GeoPackageStore

        return GeoPackageStore(spec[1], lock_timeout=60)
    from layers.stores.postgis import PostGISStore

    return PostGISStore(spec[1], schema=spec[2], migrate_schema=False)


def store_spec(store) -> tuple:
    """What :func:`open_same_store` needs to open ``store`` in another process."""
    if hasattr(store, "path"):
        return ("gpkg", str(store.path))
    return ("postgis", store.url, store.schema)


def burst_worker(spec: tuple, first: int, n: int, starts_at: str, go, ready) -> list[str]:
    """In a worker process: ``n`` threads each book one place at once (after ``go``); their outcomes."""
    from office.bookings import BookingDesk

    store = open_same_store(spec)
    desk = BookingDesk(store)
    barrier = threading.Barrier(n)

    def one(k: int) -> str:
        barrier.wait()
        try:
            return desk.book(COURT, starts_at, f"139{first + k:08d}").outcome
        except Exception as exc:  # the test counts errors: any is a failure
            return f"error: {type(exc).__name__}: {exc}"

    ready.set()
    go.wait()
    with ThreadPoolExecutor(max_workers=n) as pool:
        out = list(pool.map(one, range(n)))
    store.close()
    return out


def pdf_bitmaps(pdf_path) -> list:
    """The images of a PDF's first page as PIL images, decoded here: pypdf mis-reads 1-bit images stored with
    the PNG predictor (as matplotlib writes two-colour images such as QR codes)."""
    import zlib

    import numpy as np
    from PIL import Image
    from pypdf import PdfReader

    out = []
    for ref in PdfReader(pdf_path).pages[0]["/Resources"]["/XObject"].values():
        obj = ref.get_object()
        if obj.get("/Subtype") != "/Image" or obj.get("/BitsPerComponent") != 1:
            continue
        w, h = int(obj["/Width"]), int(obj["/Height"])
        stride = (w + 7) // 8
        raw = zlib.decompress(obj._data)
        rows, prev = [], bytearray(stride)
        for r in range(h):  # PNG filters per row; for bit depths below 8 the byte to the left is the neighbour
            kind, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
            for i in range(stride):
                a, b, c = (line[i - 1] if i else 0), prev[i], (prev[i - 1] if i else 0)
                if kind == 1:
                    line[i] = (line[i] + a) & 255
                elif kind == 2:
                    line[i] = (line[i] + b) & 255
                elif kind == 3:
                    line[i] = (line[i] + ((a + b) >> 1)) & 255
                elif kind == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rows.append(bytes(line))
            prev = line
        bits = np.unpackbits(np.frombuffer(b"".join(rows), np.uint8).reshape(h, stride), axis=1)[:, :w]
        palette = bytes(obj["/ColorSpace"][3]) if isinstance(obj["/ColorSpace"], list) else b"\x00\x00\x00\xff\xff\xff"
        dark_is_one = palette[3] < palette[0]
        out.append(Image.fromarray(np.where((bits == 1) == dark_is_one, 0, 255).astype(np.uint8)))
    return out
