"""pygeoapi's configuration, made from the layer catalogue and the store (never a hand-kept YAML).

Every published layer stored at start-up becomes a collection: its Chinese and English
titles from :data:`layers.catalogue.CATALOGUE`, its extent from the
stored features, the CRS it can be asked for (CRS84, EPSG:4326, CGCS2000 EPSG:4490 and the
city's CGCS2000 3-degree Gauss–Krüger zone) and only its published fields
(:func:`published_fields`). PostGIS is read through pygeoapi's PostgreSQL provider as the
store's viewer role; the GeoPackage through :class:`services.gpkg_provider.OneMapGPKGProvider`.

The HTML pages use templates rewritten to load Leaflet and the page style from the server
itself (:func:`offline_templates`), so they render on an intranet with no internet.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from config.settings import settings
from geo.crs import gauss_kruger_3deg_crs
from geo.errors import OneMapError
from layers.catalogue import CATALOGUE
from layers.stores import Store
from services.ogc_locale import compiled_locale

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
#: System fields served beside a layer's own (the id is the feature's ``id``).
SERVED_SYSTEM_FIELDS = ("department", "updated_at")
#: Fields no other department's system needs: kept in, never served.
INTERNAL_FIELDS = {"aeds": ("last_inspection",)}
#: Layers never served (a raster-like grid of people is served by its own statistics, not as features).
NEVER_SERVED = ("population",)
#: A 1-pixel light grey PNG: the HTML map pages' base layer, so they ask no tile server outside.
BLANK_TILE = ("data:image/png;base64,"
              "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP49OkdAAWsAtM0CPGMAAAAAElFTkSuQmCC")


def unpublished() -> set[str]:
    """What a department marked internal: the ``unpublished`` setting, ``layer`` or ``layer.field`` each."""
    return set(settings().unpublished)


def published_fields(name: str) -> list[str]:
    """The fields of ``name`` other departments' systems may read: its own fields less the internal ones, and
    the owning department and update time (not the source, versions or anything marked internal)."""
    hidden = unpublished()
    own = [f for f in CATALOGUE[name].field_names if f not in INTERNAL_FIELDS.get(name, ())
           and f"{name}.{f}" not in hidden]
    return list(SERVED_SYSTEM_FIELDS) + own


def published_layers(store: Store) -> list[str]:
    """The stored vector layers that are served, in catalogue order."""
    hidden = unpublished()
    stored = {i.name for i in store.layers.list() if i.kind == "vector"}
    return [n for n in CATALOGUE if n in stored and n not in hidden and n not in NEVER_SERVED]


def crs_list(bounds: tuple[float, float, float, float]) -> list[str]:
    """The CRS a collection can be asked for: CRS84, WGS 84, CGCS2000 and the Gauss–Krüger zone of its centre."""
    out = [CRS84, EPSG.format(4326), EPSG.format(4490)]
    try:
        out.append(EPSG.format(gauss_kruger_3deg_crs((bounds[0] + bounds[2]) / 2).to_epsg()))
    except OneMapError:  # a city outside China's zones: no Gauss–Krüger zone to offer
        pass
    return out


def _on_postgis(store: Store) -> bool:
    from layers.stores.postgis import PostGISStore

    return isinstance(store, PostGISStore)


def _postgres_data(store) -> dict:
    url = make_url(store.url)
    data = {"dbname": url.database, "search_path": [store.schema, "public"]}
    if url.username:
        data["user"] = url.username
    if url.password:
        data["password"] = url.password
    host = url.host or url.query.get("host")
    if isinstance(host, tuple):
        host = host[0]
    data["host"] = host or "localhost"
    port = url.port or url.query.get("port")
    data["port"] = int(port[0] if isinstance(port, tuple) else port) if port else 5432
    return data


def _provider(store, name: str, bounds) -> dict:
    common = {"type": "feature", "id_field": "feature_id", "time_field": "updated_at", "title_field": "name"
              if "name" in CATALOGUE[name].field_names else None, "properties": published_fields(name),
              "storage_crs": CRS84, "crs": crs_list(bounds)}
    common = {k: v for k, v in common.items() if v is not None}
    if _on_postgis(store):
        from layers.stores.postgis.roles import role_name

        options = {"options": f"-c role={role_name(store.schema, 'viewer')}"} if not store.db_role else \
            {"options": f"-c role={store.db_role}"}
        return {**common, "name": "services.pg_provider.OneMapPostgreSQLProvider", "data": _postgres_data(store),
                "table": name, "geom_field": "geom",
                "options": options}
    return {**common, "name": "services.gpkg_provider.OneMapGPKGProvider", "data": str(store.path), "table": name}


def _processes(store: Store) -> dict:
    """The analyses as processes, each reading the server's store (on PostGIS as the same role)."""
    from services.processes import PROCESSES

    if _on_postgis(store):
        where = {"store": store.url, "schema": store.schema, **({"role": store.db_role} if store.db_role else {})}
    else:
        where = {"store": str(store.path)}
    return {pid: {"type": "process", "processor": {"name": dotted, **where}} for pid, dotted in PROCESSES.items()}


def build_config(store: Store, *, url: str, folder: Path, host: str = "127.0.0.1", port: int = 5080) -> dict:
    """pygeoapi's configuration for ``store`` served at ``url``, with its templates and static files and its
    job database under ``folder``."""
    templates, static = offline_templates(folder)
    (folder / "jobs").mkdir(parents=True, exist_ok=True)
    resources = {}
    for name in published_layers(store):
        spec = CATALOGUE[name]
        frame = store.layers.read(name)
        bounds = tuple(float(v) for v in frame.total_bounds) if len(frame) else (-180.0, -90.0, 180.0, 90.0)
        resources[name] = {
            "type": "collection",
            "title": {"zh": spec.label_zh, "en": spec.label_en},
            "description": {"zh": f"{spec.label_zh}（{len(frame)} 个要素）",
                            "en": f"{spec.label_en} ({len(frame)} features)"},
            "keywords": {"zh": [spec.label_zh, "健身一张图"], "en": [spec.label_en, "fitness one map"]},
            "links": [],
            "extents": {"spatial": {"bbox": list(bounds), "crs": CRS84}},
            "limits": {"default_items": DEFAULT_LIMIT, "max_items": MAX_LIMIT, "on_exceed": "throttle"},
            "providers": [_provider(store, name, bounds)],
        }
    resources.update(_processes(store))
    return {
        "server": {
            "bind": {"host": host, "port": port}, "url": url, "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8", "gzip": False, "languages": ["zh", "en"], "cors": True,
            "pretty_print": False, "limits": {"default_items": DEFAULT_LIMIT, "max_items": MAX_LIMIT,
                                               "on_exceed": "throttle"},
            "map": {"url": BLANK_TILE, "attribution": "健身一张图"},
            "templates": {"path": str(templates), "static": str(static)},
            "locale_dir": str(compiled_locale(folder)),  # the page chrome in Chinese (services/ogc_locale.py)
            "manager": {"name": "TinyDB", "connection": str(folder / "jobs.db"), "output_dir": str(folder / "jobs")},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": {"zh": "健身一张图 · 数据交换", "en": "Fitness One Map · data exchange"},
                "description": {"zh": "健身联盟各成员单位的健身资源图层（只读）。",
                                "en": "The fitness alliance's resource layers (read-only)."},
                "keywords": {"zh": ["全民健身", "体卫融合", "一张图"], "en": ["fitness", "one map"]},
                "keywords_type": "theme", "terms_of_service": "", "url": url},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "健身联盟", "url": url},
            "contact": {"name": "健身联盟办公室", "position": "", "address": "", "city": "", "stateorprovince": "",
                        "postalcode": "", "country": "China", "phone": "", "fax": "", "email": "", "url": url,
                        "hours": "", "instructions": "", "role": "pointOfContact"},
        },
        "resources": resources,
    }


#: CDN files the pygeoapi templates load → the copy served from ``/static``.
LOCAL = {
    r"https://unpkg\.com/bootstrap@[\d.]+/dist/css/bootstrap\.min\.css": "vendor/bootstrap/bootstrap.min.css",
    r"https://unpkg\.com/leaflet@[\d.]+/dist/leaflet\.css": "vendor/leaflet/leaflet.css",
    r"https://unpkg\.com/leaflet@[\d.]+/dist/leaflet\.js": "vendor/leaflet/leaflet.js",
    r"https://cdnjs\.cloudflare\.com/ajax/libs/leaflet/[\d.]+/leaflet\.js": "vendor/leaflet/leaflet.js",
    r"https://unpkg\.com/leaflet\.markercluster/dist/leaflet\.markercluster-src\.js":
        "vendor/markercluster/leaflet.markercluster.js",
    r"https://unpkg\.com/leaflet\.markercluster/dist/MarkerCluster\.css": "vendor/markercluster/MarkerCluster.css",
    r"https://unpkg\.com/leaflet\.markercluster/dist/MarkerCluster\.Default\.css":
        "vendor/markercluster/MarkerCluster.Default.css",
}
#: Tags loading outside files the pages can do without (web fonts, old-IE shims, the interactive API
#: viewers, charts of coverages we do not serve): removed.
_OUTSIDE_TAG = re.compile(r"<(script|link)\b[^>]*(src|href)=\"(https?:)?//[^\"]*\"[^>]*>(\s*</script>)?", re.I)


#: Every data value reaching a page is escaped here, once: JSON in a <script> cannot close it (``<`` as
#: ``\u003c``), and the item list's pop-up sets names and ids as text. (file, pygeoapi's text, ours); a
#: pygeoapi upgrade that changes one of these texts stops the server rather than losing the escaping.
SAFE_PATCHES = (
    ("collections/items/index.html", "var map = L.map('items-map')",
     "function onemapText(v) { var d = document.createElement('div'); d.textContent = v == null ? '' : String(v);"
     " return d.innerHTML.replace(/\"/g, '&quot;'); }\n    var map = L.map('items-map')"),
    ("collections/items/index.html", "feature['properties']['{{ data['title_field'] }}']",
     "onemapText(feature['properties']['{{ data['title_field'] }}'])"),
    ("collections/items/index.html", "{% else %} feature.id {% endif %}",
     "{% else %} onemapText(feature.id) {% endif %}"),
    ("collections/items/index.html", "+ feature.id + '?f=html'", "+ encodeURIComponent(feature.id) + '?f=html'"),
)
_SCRIPT_JSON = ("| to_json | safe", "| to_json | replace('<', '\\\\u003c') | safe")
_LOADS_OUTSIDE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=\"((?:https?:)?//[^\"]*)\"", re.I)


def offline_templates(folder: Path) -> tuple[Path, Path]:
    """pygeoapi's templates with every CDN file pointed at a local copy (Leaflet, MarkerCluster) or removed,
    and the static folder serving those copies; both under ``folder``.

    Raises
    ------
    OneMapError
        When a rewritten template still loads a file from outside (a pygeoapi upgrade added one).
    """
    import pygeoapi

    source = Path(pygeoapi.__file__).parent
    templates, static = folder / "templates", folder / "static"
    for target in (templates, static):
        if target.exists():
            shutil.rmtree(target)
    shutil.copytree(source / "templates", templates)
    shutil.copytree(source / "static", static)
    shutil.copytree(Path(__file__).resolve().parent.parent / "ui" / "static" / "vendor", static / "vendor")
    for page in templates.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for pattern, local in LOCAL.items():
            text = re.sub(pattern, "{{ config['server']['url'] }}/static/" + local, text)
        text = _OUTSIDE_TAG.sub("", text).replace(*_SCRIPT_JSON)
        for name, old, new in SAFE_PATCHES:
            if page == templates / name:
                if old not in text:
                    raise OneMapError(f"{name} no longer holds {old!r}: its escaping cannot be applied.")
                text = text.replace(old, new)
        outside = _LOADS_OUTSIDE.search(text)
        if outside:
            raise OneMapError(f"{page.name} still loads {outside.group(1)} from outside.")
        page.write_text(text, encoding="utf-8")
    return templates, static


__all__ = ["build_config", "offline_templates", "published_fields", "published_layers", "crs_list", "DEFAULT_LIMIT",
           "MAX_LIMIT"]
