"""Reading a partner service over HTTP, bounded: only listed services, a pinned address, timeouts, a byte cap.

A pull (``onemap sync``, the Data page) makes this server fetch what another department
publishes. Without bounds that is a server-side request forgery: any address, loopback ports
included, echoed back; redirects to anywhere; an endless page or a one-byte-a-second server
holding the process. Every request here:

- goes only to a service in the ``sync_allowed`` setting (its scheme, host and port exactly), and
  follows a redirect only to another listed service;
- connects to the address the host name resolved to when it was checked (no second lookup a
  rebinding DNS could answer differently), refusing loopback, link-local, multicast and
  unspecified addresses unless that very address is the one listed;
- has a connect timeout, a read timeout per wait, and a total deadline enforced by a watchdog
  that closes the socket (so a server dripping one byte at a time is cut off on time);
- reads at most ``max_bytes`` — counted while streaming, before anything is parsed.

Every refusal is a coded error (:class:`layers.errors.InputFileError` or
:class:`layers.errors.UploadLimitError`) naming the address and what would be accepted.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from config.settings import settings
from layers.errors import InputFileError, UploadLimitError

log = logging.getLogger(__name__)
#: Redirects followed (each to a listed service) before giving up.
MAX_REDIRECTS = 3
_CHUNK = 65_536


@dataclass(frozen=True)
class FetchBounds:
    """The bounds of one pull (see the module docstring)."""

    allowed: tuple[str, ...]
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_bytes: int = 150 * 1024 * 1024
    seconds: float = 120.0

    @classmethod
    def configured(cls) -> "FetchBounds":
        """The bounds of this server's settings (``sync_*``)."""
        s = settings()
        return cls(allowed=s.sync_allowed, connect_timeout=s.sync_connect_timeout,
                   read_timeout=s.sync_read_timeout, max_bytes=int(s.sync_max_mb * 1024 * 1024),
                   seconds=s.sync_max_seconds)


class Deadline:
    """The total time of a pull: :meth:`left` before each step, and a watchdog over each read."""

    def __init__(self, seconds: float, url: str) -> None:
        self.seconds = seconds
        self.url = url
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; a coded refusal once none are."""
        left = self.ends - time.monotonic()
        if left <= 0:
            raise UploadLimitError.coded("sync.deadline", url=self.url, seconds=f"{self.seconds:g}")
        return left

    def passed(self) -> bool:
        """Whether the time is up (a read whose timeout was cut to :meth:`left` ended on the deadline)."""
        return time.monotonic() >= self.ends


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased (as the allow-list is written)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _refuse_address(url: str, allowed: tuple[str, ...]) -> None:
    raise InputFileError.coded("sync.not_allowed", url=origin(url), allowed=", ".join(allowed) or "—")


def resolve(url: str, allowed: tuple[str, ...]) -> tuple[str, int, str]:
    """(address to connect to, port, host name) for ``url``, or a coded refusal: not listed, or a private
    kind of address that the list does not name itself."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or origin(url) not in allowed:
        _refuse_address(url, allowed)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputFileError.coded("sync.unreachable", url=origin(url), reason=type(exc).__name__) from None
    literal = _literal(parts.hostname)
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        special = ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved
        if special and ip != literal:  # only an address listed as itself may be of these kinds
            raise InputFileError.coded("sync.private_address", url=origin(url), address=str(ip))
        return str(ip), port, parts.hostname
    raise InputFileError.coded("sync.unreachable", url=origin(url), reason="no address")


def _literal(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to a fixed address, sending the host name in ``Host``."""

    def __init__(self, address: str, port: int, host: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        """Connect to the pinned address."""
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """An HTTPS connection to a fixed address, the certificate checked against the host name."""

    def __init__(self, address: str, port: int, host: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        """Connect to the pinned address and wrap it in TLS for the host name."""
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def get_json(url: str, bounds: FetchBounds, deadline: Deadline, *, budget: list[int] | None = None):
    """The JSON document at ``url``, fetched within ``bounds`` (``budget``: bytes left for the whole pull,
    decreased by what this read took).

    Raises
    ------
    InputFileError
        Not a listed service, a private address, a redirect off the list, no answer, an HTTP error or not
        JSON.
    UploadLimitError
        More bytes than allowed, or past the deadline.
    """
    for _ in range(MAX_REDIRECTS + 1):
        status, headers, body = _get_once(url, bounds, deadline, budget)
        if status in (301, 302, 303, 307, 308):
            target = urljoin(url, headers.get("location", ""))
            if origin(target) not in bounds.allowed:
                raise InputFileError.coded("sync.redirect", url=origin(url), target=origin(target))
            url = target
            continue
        if status != 200:
            raise InputFileError.coded("sync.unreachable", url=origin(url), reason=f"HTTP {status}")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise InputFileError.coded("sync.not_json", url=origin(url)) from None
    raise InputFileError.coded("sync.redirect", url=origin(url), target=f"{MAX_REDIRECTS}+ redirects")


def _get_once(url: str, bounds: FetchBounds, deadline: Deadline, budget: list[int] | None):
    address, port, host = resolve(url, bounds.allowed)
    parts = urlsplit(url)
    kind = _PinnedTLS if parts.scheme == "https" else _Pinned
    conn = kind(address, port, host, timeout=min(bounds.connect_timeout, deadline.left()))
    expired = threading.Event()

    held: list[socket.socket] = []

    def cut() -> None:  # the watchdog: a read past the deadline ends now, not at the next timeout
        expired.set()
        for sock in [*held, conn.sock]:
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(deadline.left(), cut)
    watchdog.daemon = True
    watchdog.start()
    cap = bounds.max_bytes if budget is None else min(bounds.max_bytes, budget[0])
    try:
        path = parts.path or "/"
        conn.request("GET", path + (f"?{parts.query}" if parts.query else ""),
                     headers={"Accept": "application/geo+json, application/json", "Accept-Encoding": "identity",
                              "User-Agent": "fitness-one-map-sync"})
        sock = conn.sock  # http.client lets go of it once the answer says it will close
        held.append(sock)
        sock.settimeout(min(bounds.read_timeout, deadline.left()))
        response = conn.getresponse()
        declared = response.getheader("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise UploadLimitError.coded("sync.page_too_big", url=origin(url), mb=f"{cap / 1048576:g}")
        chunks, size = [], 0
        while True:
            sock.settimeout(min(bounds.read_timeout, deadline.left()))
            chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise UploadLimitError.coded("sync.page_too_big", url=origin(url), mb=f"{cap / 1048576:g}")
            chunks.append(chunk)
        if expired.is_set():  # the watchdog closed it: what was read is cut short
            raise UploadLimitError.coded("sync.deadline", url=origin(url), seconds=f"{deadline.seconds:g}")
        if budget is not None:
            budget[0] -= size
        return response.status, {k.lower(): v for k, v in response.getheaders()}, b"".join(chunks)
    except (OSError, http.client.HTTPException) as exc:
        # the watchdog fired, or a read timed out on the deadline before the watchdog's thread ran (a loaded
        # machine): both are the deadline, not an unreachable partner
        if expired.is_set() or deadline.passed():
            raise UploadLimitError.coded("sync.deadline", url=origin(url), seconds=f"{deadline.seconds:g}") from None
        log.warning("pull from %s failed: %r", origin(url), exc)
        raise InputFileError.coded("sync.unreachable", url=origin(url), reason=type(exc).__name__) from None
    finally:
        watchdog.cancel()
        conn.close()


__all__ = ["FetchBounds", "Deadline", "get_json", "resolve", "origin", "MAX_REDIRECTS"]
