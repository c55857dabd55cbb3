"""A single self-contained HTML map: every script, style and image inlined, no network needed.

The map is the app's own (:func:`webmap.folium_map.build_map`); the Leaflet files the app serves
from ``static/vendor`` are written into the page, and the images their CSS points at
become data URIs, so the file opens from a USB stick on a machine with no internet.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
import tempfile
from pathlib import Path

import geopandas as gpd

from geo.errors import OneMapError
from webmap.assets import STATIC_DIR, STATIC_URL
from webmap.escape import html_text
from webmap.folium_map import build_map

_SCRIPT = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"/>')
_CSS_URL = re.compile(r'url\((?P<q>["\']?)(?P<path>[^)"\']+)(?P=q)\)')


def _local_file(url: str) -> Path:
    if not url.startswith(STATIC_URL):
        raise OneMapError(f"The map refers to {url}, which is not one of the app's own files; "
                          "it cannot be written into an offline page.")
    path = (STATIC_DIR / url[len(STATIC_URL):]).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        raise OneMapError(f"The map asset {url} is missing from {STATIC_DIR}.")
    return path


def _inline_css(css: str, folder: Path) -> str:
    def data_uri(match: re.Match) -> str:
        ref = match.group("path")
        if ref.startswith(("data:", "#")):
            return match.group(0)
        file = (folder / ref).resolve()
        if not file.is_file():
            return match.group(0)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return f'url("data:{mime};base64,{base64.b64encode(file.read_bytes()).decode("ascii")}")'

    return _CSS_URL.sub(data_uri, css)


def inline_assets(html: str) -> str:
    """Replace the page's links to the app's static files by their contents."""
    def script(match: re.Match) -> str:
        code = _local_file(match.group("url")).read_text(encoding="utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def link(match: re.Match) -> str:
        path = _local_file(match.group("url"))
        return "<style>" + _inline_css(path.read_text(encoding="utf-8"), path.parent) + "</style>"

    external = len(re.findall(r"<script[^>]*\ssrc=", html)) + len(re.findall(r"<link[^>]*\shref=", html))
    known = len(_SCRIPT.findall(html)) + len(_LINK.findall(html))
    if external != known:
        raise OneMapError(f"The page links {external - known} file(s) in a form this writer does not inline; "
                          "the offline page would try to fetch them.")
    return _LINK.sub(link, _SCRIPT.sub(script, html))


def write_offline_html(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike[str], *,
                       title: str, lang: str = "zh", population_tif: bytes | None = None) -> Path:
    """Write the one-map of ``layers`` as one HTML file that works with no network."""
    m = build_map(layers, lang=lang, population_tif=population_tif, height="100%", title=title)
    root = m.get_root()
    html = inline_assets(root.render())
    html = html.replace("<head>", f'<head>\n<meta charset="utf-8"/>\n<title>{html_text(title)}</title>', 1)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".html", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    os.replace(name, target)
    return target
