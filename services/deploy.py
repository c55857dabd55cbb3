"""The files an IT office installs to run the one map behind a reverse proxy: an nginx site (one port, TLS-ready;
the app with the websocket upgrade Streamlit needs, ``/ogc``, ``/booking``; the published maps and tiles are the
app's own routes) and a systemd unit that runs ``onemap serve``.  Written by ``onemap serve --write-config``."""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

#: The largest upload a browser may send through the proxy, in MB (the app's own bound, Streamlit's
#: ``server.maxUploadSize``, is the same; layers/limits.py bounds what is then read).
MAX_UPLOAD_MB = 150


@dataclass(frozen=True)
class Ports:
    """Where the three servers listen (loopback) and the proxy's one port."""

    app: int = 8501
    ogc: int = 5080
    booking: int = 5081
    listen: int = 80
    host: str = "127.0.0.1"


NGINX_SITE = """\
# 健身一张图 · Fitness One Map behind nginx: one port for the app, the data exchange server and the booking API.
# Install as /etc/nginx/sites-available/onemap (ln -s into sites-enabled), then `nginx -t && systemctl reload nginx`.
map $http_upgrade $onemap_connection {
    default upgrade;
    ''      close;
}

server {
    listen @LISTEN@;
    # TLS: uncomment with the city's certificate (and redirect port 80 here), then reload nginx.
    # listen 443 ssl;
    # ssl_certificate     /etc/ssl/certs/onemap.pem;
    # ssl_certificate_key /etc/ssl/private/onemap.key;
    # ssl_protocols       TLSv1.2 TLSv1.3;
    # add_header Strict-Transport-Security "max-age=31536000" always;
    server_name @SERVER_NAME@;

    client_max_body_size @MAX_BODY@m;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;

    # The data exchange server (OGC API - Features and Processes); its links are made from the public address.
    location /ogc/ {
        proxy_pass http://@HOST@:@OGC@/;
    }
    # The partner booking API (OpenAPI at /booking/openapi.json).
    location /booking/ {
        proxy_pass http://@HOST@:@BOOKING@/;
    }
    # The app's own front end (hashed, unchanging bundles: 4.6 MB for each new browser) read from disk by nginx,
    # compressed, and kept by the browser; the app's process no longer sends them.  A file nginx cannot read falls
    # back to the app.
    location /static/ {
        root @STREAMLIT_STATIC@;
        try_files $uri @app;
        types {
            application/javascript js;
            text/css css;
            font/woff2 woff2;
            image/png png;
            image/gif gif;
            image/svg+xml svg;
        }
        add_header Cache-Control "public, max-age=31536000, immutable";
        gzip on;
        gzip_types application/javascript text/css image/svg+xml;
    }
    # The vendored Leaflet and its plug-ins (/app/static) and the map component's own page and bundle: files of this
    # installation too, read from disk by nginx (names without a content hash: kept an hour, then asked again).
    location /app/static/ {
        alias @APP_STATIC@/;
        try_files $uri @app;
        add_header Cache-Control "public, max-age=3600";
        gzip on;
        gzip_types application/javascript text/css image/svg+xml;
    }
    location /component/streamlit_folium.st_folium/ {
        alias @FOLIUM_BUILD@/;
        try_files $uri @app;
        add_header Cache-Control "public, max-age=3600";
        gzip on;
        gzip_types application/javascript text/css;
    }
    location @app {
        proxy_pass http://@HOST@:@APP@;
    }
    # The app: its pages over a websocket, the published maps (/maps) and tiles (/tiles), the field-report form.
    location / {
        proxy_pass http://@HOST@:@APP@;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $onemap_connection;
        proxy_read_timeout 86400s;
        proxy_buffering off;
    }
}
"""

SYSTEMD_UNIT = """\
# 健身一张图 · Fitness One Map: the app, the data exchange server and the booking API (onemap serve).
# Install as /etc/systemd/system/onemap.service; settings in /etc/onemap/onemap.env (ONEMAP_*, DATABASE_URL) or
# the file ONEMAP_SETTINGS_FILE names; then `systemctl daemon-reload && systemctl enable --now onemap`.
[Unit]
Description=Fitness One Map (app, data exchange server, booking API)
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
Type=simple
User=@USER@
WorkingDirectory=@WORKDIR@
EnvironmentFile=-/etc/onemap/onemap.env
ExecStart=@COMMAND@
Restart=on-failure
RestartSec=2
KillMode=mixed
TimeoutStopSec=30
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full

[Install]
WantedBy=multi-user.target
"""


def _fill(template: str, values: dict[str, object]) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", str(value))
    return template


def streamlit_static() -> Path:
    """The folder of this installation's Streamlit front end (its ``static/`` is what browsers load)."""
    return Path(importlib.util.find_spec("streamlit").submodule_search_locations[0]) / "static"


def app_static() -> Path:
    """The app's own static folder (``/app/static``: the vendored Leaflet and its plug-ins)."""
    return Path(importlib.util.find_spec("ui").submodule_search_locations[0]) / "static"


def folium_build() -> Path:
    """The map component's built front end (``/component/streamlit_folium.st_folium/``)."""
    return Path(importlib.util.find_spec("streamlit_folium").submodule_search_locations[0]) / "frontend" / "build"


def nginx_site(ports: Ports, server_name: str = "_") -> str:
    """The nginx site for ``ports``."""
    return _fill(NGINX_SITE, {"LISTEN": ports.listen, "SERVER_NAME": server_name, "MAX_BODY": MAX_UPLOAD_MB,
                              "HOST": ports.host, "OGC": ports.ogc, "BOOKING": ports.booking, "APP": ports.app,
                              "STREAMLIT_STATIC": streamlit_static(), "APP_STATIC": app_static(),
                              "FOLIUM_BUILD": folium_build()})


def serve_command(ports: Ports, public_url: str, api_workers: int) -> list[str]:
    """The ``onemap serve`` command line the unit runs (this installation's own ``onemap``)."""
    onemap = Path(sys.executable).with_name("onemap")
    return [str(onemap), "serve", "--host", ports.host, "--app-port", str(ports.app), "--ogc-port",
            str(ports.ogc), "--booking-port", str(ports.booking), "--api-workers", str(api_workers),
            "--public-url", public_url]


def systemd_unit(ports: Ports, public_url: str, api_workers: int, *, user: str = "onemap",
                 workdir: str = "/var/lib/onemap") -> str:
    """The systemd unit that runs ``onemap serve``."""
    return _fill(SYSTEMD_UNIT, {"USER": user, "WORKDIR": workdir,
                                "COMMAND": shlex.join(serve_command(ports, public_url, api_workers))})


def standalone_nginx_conf(folder: str | os.PathLike[str], site: str | os.PathLike[str]) -> Path:
    """A main ``nginx.conf`` around ``site`` with its pid, logs and temporary files in ``folder``, for running
    nginx beside the app without installing the site (``nginx -c <it> -p <folder>``: the tests, the
    benchmark, a trial on a workstation)."""
    out = Path(folder)
    for sub in ("body", "proxy"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers that may read private folders
    conf = out / "nginx.conf"
    conf.write_text(f"""{user}daemon off;
worker_processes 1;
pid {out}/nginx.pid;
error_log {out}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {out}/body;
    proxy_temp_path {out}/proxy;
    include {site};
}}
""")
    return conf


def write_config(folder: str | os.PathLike[str], ports: Ports, *, public_url: str, server_name: str = "_",
                 api_workers: int = 2, user: str = "onemap", workdir: str = "/var/lib/onemap") -> list[Path]:
    """Write ``onemap-nginx.conf`` and ``onemap.service`` into ``folder``; returns their paths."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    site, unit = out / "onemap-nginx.conf", out / "onemap.service"
    site.write_text(nginx_site(ports, server_name), encoding="utf-8")
    unit.write_text(systemd_unit(ports, public_url, api_workers, user=user, workdir=workdir), encoding="utf-8")
    return [site, unit]
