"""Refresh docs/documents/: the print map, the district report and the nearby sheet of the demo city, each in
Chinese and in English, as PNG pictures to look at (the PDFs themselves are written beside them).

Run with ``.venv/bin/python scripts/docs_documents.py`` after ``make demo-data``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PIL import Image

from exports.nearby_sheet import write_nearby_sheet
from exports.print_map import print_map
from exports.report import district_report, write_report_pdf
from geo.facilities import TimeSlot
from geo.nearby import NearbyFinder
from layers.stores.factory import open_store
from ui.analysis import get_engine, run_coverage

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "documents"
MAP_LAYERS = ("land_use", "walk_network", "boundaries", "greenways", "venues", "school_facilities",
              "health_stations", "metro_stations")


def _small(src: Path, target: Path) -> None:
    Image.open(src).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main() -> None:
    """Write each document in both languages and keep a picture of its first pages."""
    OUT.mkdir(parents=True, exist_ok=True)
    with open_store(str(ROOT / "data" / "demo_city.gpkg")) as store, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        layers = {n: store.layers.read(n) for n in MAP_LAYERS}
        bounds = layers["boundaries"]
        result = run_coverage(store, method="network", thresholds=(300.0, 500.0, 1000.0), slot=None)
        engine = get_engine(store)
        finder = NearbyFinder(engine, {k: store.layers.read(k) for k in ("venues", "school_facilities", "greenways")})
        nearby = finder.query(finder.origin_of_station("health-001"), minutes=15, slot=TimeSlot.parse("Sat 09:00"))
        for lang in ("zh", "en"):
            title = "青溪区 体育场馆与健身资源分布" if lang == "zh" else \
                "Qingxi District: sports venues and fitness resources"
            print_map(layers, work / f"print_map_{lang}.png", title=title, dpi=110, lang=lang,
                      unit_labels=bounds[bounds["level"] == "street"])
            _small(work / f"print_map_{lang}.png", OUT / f"print_map_{lang}.png")
            report = district_report(result, bounds, venues=store.layers.read("venues"), lang=lang,
                                     school_facilities=store.layers.read("school_facilities"))
            write_report_pdf(report, OUT / f"district_report_{lang}.pdf", previews=work)
            for k in (1, 3, 4):
                _small(work / f"district_report_{lang}-{k}.png", OUT / f"district_report_{lang}_{k}.png")
            write_nearby_sheet(nearby, work / f"nearby_sheet_{lang}.png", streets=store.layers.read("walk_network"),
                               issuer=nearby.origin.label, lang=lang)
            _small(work / f"nearby_sheet_{lang}.png", OUT / f"nearby_sheet_{lang}.png")
    print(f"written: {', '.join(sorted(p.name for p in OUT.iterdir()))}")


if __name__ == "__main__":
    main()
