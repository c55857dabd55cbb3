"""``onemap serve``: the app, the data exchange server and the booking API in production mode, each on a loopback
port for the reverse proxy in front (``--write-config`` writes its nginx site and a systemd unit)."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import signal
import subprocess
import sys
import time
import tomllib

from cli.common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE

log = logging.getLogger(__name__)


def add_parsers(sub) -> None:
    """The serve command's subparser."""
    p = sub.add_parser("serve", help="run the app, the data exchange server and the booking API for a reverse proxy",
                       description="Run the app (Streamlit), the data exchange server (OGC API) and the partner "
                                   "booking API (several worker processes) on loopback ports, in production mode, "
                                   "until stopped; with --write-config, write the nginx site and systemd unit "
                                   "that put them behind one port instead.")
    p.add_argument("--host", default="127.0.0.1", help="address the three servers listen on (default loopback)")
    p.add_argument("--app-port", type=int, default=8501, help="the app (default 8501)")
    p.add_argument("--ogc-port", type=int, default=5080, help="the data exchange server (default 5080)")
    p.add_argument("--booking-port", type=int, default=5081, help="the booking API (default 5081)")
    p.add_argument("--api-workers", type=int, default=2, help="booking API worker processes (default 2)")
    p.add_argument("--public-url", default=None,
                   help="the address people and partners reach the proxy at, e.g. https://onemap.example.gov.cn "
                        "(default: ONEMAP_PUBLIC_URL, else http://localhost)")
    p.add_argument("--write-config", metavar="DIR",
                   help="write onemap-nginx.conf and onemap.service into DIR and stop")
    p.add_argument("--listen", type=int, default=80, help="with --write-config: the proxy's port (default 80)")
    p.add_argument("--server-name", default="_", help="with --write-config: nginx server_name (default any)")
    p.set_defaults(func=cmd_serve)
    c = sub.add_parser("check-settings", help="read and check the installation's settings (environment and "
                                              "ONEMAP_SETTINGS_FILE) and print them, secrets masked")
    c.set_defaults(func=cmd_check_settings)


def cmd_check_settings(args: argparse.Namespace) -> int:
    """Print every setting as it will be used (secrets masked); a wrong one is named, with exit code 2."""
    from config.settings import SettingsError, load_settings

    try:
        current = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    for name, value in current.model_dump().items():
        if name in ("database_url", "secret_key") and value is not None:
            value = _masked(current.database) if name == "database_url" else "********"
        print(f"{name} = {value!r}")
    return EXIT_OK


def _masked(url: str | None) -> str | None:
    from layers.stores.postgis.database import masked

    return masked(url) if url else url


def _public_url(args: argparse.Namespace) -> str:
    from config.settings import settings

    return (args.public_url or settings().public_url or "http://localhost").rstrip("/")


def streamlit_flags() -> list[str]:
    """The app's Streamlit settings (``services/streamlit_config.toml``) as command-line flags, so an installed
    wheel runs with them wherever it is started from."""
    from services.app_routes import STREAMLIT_CONFIG

    with open(STREAMLIT_CONFIG, "rb") as f:
        config = tomllib.load(f)
    flags = [f"--{section}.{key}={str(value).lower() if isinstance(value, bool) else value}"
             for section, values in config.items() for key, value in values.items()]
    return flags + ["--server.runOnSave=false", "--global.developmentMode=false"]


def commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The three servers' command lines."""
    # the server's file, found without importing it (importing it would make the app here)
    server = importlib.util.find_spec("services.app_server").origin
    url = _public_url(args)
    return {
        "app": [sys.executable, "-m", "streamlit", "run", server, "--server.address", args.host,
                "--server.port", str(args.app_port), *streamlit_flags()],
        "ogc": [sys.executable, "-m", "services.ogc_api", "--host", args.host, "--port", str(args.ogc_port),
                "--url", f"{url}/ogc", "--no-booking"],
        "booking": [sys.executable, "-m", "uvicorn", "services.booking_server:create_app", "--factory",
                    "--host", args.host, "--port", str(args.booking_port), "--workers", str(args.api_workers),
                    "--log-level", "warning", "--proxy-headers", "--no-server-header"],
    }


def cmd_serve(args: argparse.Namespace) -> int:
    """Write the proxy's files, or run the three servers until one stops or a signal comes."""
    from config.settings import SettingsError, load_settings
    from services.deploy import Ports, write_config

    try:
        load_settings()  # a wrong setting is named now, not when a server first reads it
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    ports = Ports(app=args.app_port, ogc=args.ogc_port, booking=args.booking_port, listen=args.listen,
                  host=args.host)
    if args.write_config:
        for path in write_config(args.write_config, ports, public_url=_public_url(args),
                                 server_name=args.server_name, api_workers=args.api_workers):
            print(path)
        return EXIT_OK
    from layers.stores import open_store

    open_store(None).close()  # the configured store opens, or the command ends here with exit code 4
    procs = {name: subprocess.Popen(cmd) for name, cmd in commands(args).items()}
    stopping = []

    def stop(signum, _frame) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"app on {args.host}:{args.app_port}, data exchange server on {args.host}:{args.ogc_port}, booking API "
          f"on {args.host}:{args.booking_port} ({args.api_workers} workers); public address {_public_url(args)}",
          flush=True)
    ended = None
    while not stopping and ended is None:
        time.sleep(0.5)
        ended = next((name for name, p in procs.items() if p.poll() is not None), None)
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    if ended is not None:
        log.error("serve: the %s server stopped (exit code %s); stopping the others", ended, procs[ended].returncode)
        return EXIT_INTERNAL
    return EXIT_OK
