"""下载地图（PNG） / Download the map as a PNG: the analysis on a page, drawn as the print map
(:func:`exports.print_map.print_map`) at print resolution, made only when the button is pressed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import geopandas as gpd
import streamlit as st

from exports.print_map import print_map
from i18n import t
from layers.limits import upload_workspace

log = logging.getLogger(__name__)
#: Print resolution: an A4 landscape page is 3,508 × 2,480 pixels.
PRINT_DPI = 300


def print_png(frames: Mapping[str, gpd.GeoDataFrame], *, title: str, lang: str,
              unit_labels: gpd.GeoDataFrame | None = None, paper: str = "A4", dpi: int = PRINT_DPI) -> bytes:
    """``frames`` (layer name → frame, as :func:`print_map` draws them) as PNG bytes at ``dpi``."""
    with upload_workspace(prefix="map-png-") as folder:
        out = print_map(frames, folder / "map.png", title=title, paper=paper, dpi=dpi, lang=lang,
                        unit_labels=unit_labels)
        return out.read_bytes()


def png_button(make: Callable[[], bytes], *, lang: str, key: str, file_name: str) -> None:
    """A button that downloads the PNG ``make`` draws (called on the press, in its own thread)."""
    def made() -> bytes:
        try:
            return make()
        except Exception:
            log.exception("the map PNG %s could not be drawn", file_name)
            raise

    st.download_button(t("map_png", lang), data=made, file_name=file_name, mime="image/png", key=key,
                       on_click="ignore", help=t("map_png_help", lang, dpi=PRINT_DPI), icon=":material/download:")


def street_labels(boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The street polygons whose names a print map writes (the boundaries' ``street`` level)."""
    if boundaries is None or "level" not in boundaries.columns:
        return None
    return boundaries[boundaries["level"] == "street"]


def titled(what: str, figure: str, lang: str) -> str:
    """A print map's title: the page and the figure it shows (``覆盖分析：体育场馆 10分钟（500米）``)."""
    return f"{what}: {figure}" if lang == "en" else f"{what}：{figure}"
