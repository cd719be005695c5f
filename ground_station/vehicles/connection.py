"""Connection URLs and byte transports (UDP listen/send, TCP client, serial).

Accepted URLs:

- ``udpin://HOST:PORT``, ``udp://HOST:PORT`` or ``udp://:PORT``: listen on a UDP port (the
  vehicle or a router sends to us); replies go to every peer heard (many vehicles may share
  one port).
- ``udpout://HOST:PORT``: send to a UDP address (we speak first).
- ``tcp://HOST:PORT``: connect to a TCP server (SITL's ``tcp:5760``, mavlink-router); when the
  other end goes away the connection is re-opened with exponential backoff.
- ``serial:///dev/ttyUSB0:57600``, ``serial:///dev/ttyUSB0?baud=57600``, ``serial://COM3:57600``:
  a serial port (pyserial), 57600 baud unless given; re-opened with backoff when unplugged.

Transports move bytes only: :meth:`Transport.recv` waits at most ``timeout_s`` and returns
``b""`` when nothing came, :meth:`Transport.send` never raises for a peer that is away (the
bytes are dropped, as a radio would). They are used by one reader thread and any number of
senders; sends are serialised by the caller.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from ground_station.vehicles.errors import BadVehicleUrlError

log = logging.getLogger(__name__)

Scheme = Literal["udpin", "udpout", "tcp", "serial"]

ACCEPTED_FORMS = (
    "udpin://HOST:PORT",
    "udp://:PORT",
    "udpout://HOST:PORT",
    "tcp://HOST:PORT",
    "serial:///dev/ttyUSB0:57600",
)
DEFAULT_BAUD = 57600
_MAX_UDP_PEERS = 32
_DATAGRAM_BYTES = 65535


@dataclass(frozen=True, kw_only=True, slots=True)
class VehicleUrl:
    """A parsed connection URL; ``device``/``baud`` for serial, ``host``/``port`` otherwise."""

    scheme: Scheme
    host: str = ""
    port: int = 0
    device: str = ""
    baud: int = 0
    text: str = ""

    def __str__(self) -> str:
        return self.text


def _bad(url: str, why: str) -> BadVehicleUrlError:
    return BadVehicleUrlError(f"bad vehicle URL {url!r}: {why}; expected one of {', '.join(ACCEPTED_FORMS)}")


def _port(url: str, text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise _bad(url, f"port must be a number, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise _bad(url, f"port must be 1-65535, got {port}")
    return port


def parse_vehicle_url(url: str) -> VehicleUrl:
    """Parse and validate a connection URL (forms in the module docstring)."""
    if not isinstance(url, str) or "://" not in url:
        raise _bad(str(url), "no scheme")
    scheme_text, rest = url.split("://", 1)
    scheme_text = scheme_text.lower()
    if scheme_text == "serial":
        return _parse_serial(url, rest)
    if scheme_text not in ("udp", "udpin", "udpout", "tcp"):
        raise _bad(url, f"unknown scheme {scheme_text!r}")
    parts = urlsplit(f"//{rest}")
    if parts.path not in ("", "/") or parts.query:
        raise _bad(url, "expected HOST:PORT and nothing after it")
    try:
        port_text = parts.netloc.rsplit(":", 1)[1] if ":" in parts.netloc else ""
    except IndexError:  # pragma: no cover - rsplit always gives 2 parts after the check
        port_text = ""
    if not port_text:
        raise _bad(url, "missing port")
    port = _port(url, port_text)
    host = parts.hostname or ""
    if scheme_text in ("udp", "udpin"):
        return VehicleUrl(scheme="udpin", host=host or "0.0.0.0", port=port, text=url)
    if not host:
        raise _bad(url, f"{scheme_text} needs a host")
    if scheme_text == "udpout":
        return VehicleUrl(scheme="udpout", host=host, port=port, text=url)
    return VehicleUrl(scheme="tcp", host=host, port=port, text=url)


def _parse_serial(url: str, rest: str) -> VehicleUrl:
    device, _, query = rest.partition("?")
    baud = DEFAULT_BAUD
    if query:
        values = parse_qs(query).get("baud")
        if not values:
            raise _bad(url, f"unknown serial option {query!r} (only baud=N)")
        baud = _baud(url, values[0])
    elif ":" in device and device.rsplit(":", 1)[1].isdigit():
        device, baud_text = device.rsplit(":", 1)
        baud = _baud(url, baud_text)
    if not device:
        raise _bad(url, "missing serial device")
    return VehicleUrl(scheme="serial", device=device, baud=baud, text=url)


def _baud(url: str, text: str) -> int:
    try:
        baud = int(text)
    except ValueError:
        raise _bad(url, f"baud must be a number, got {text!r}") from None
    if baud <= 0:
        raise _bad(url, f"baud must be positive, got {baud}")
    return baud


class Transport:
    """Bytes in and out; see the module docstring for the contract."""

    #: True when each recv returns whole datagrams (UDP): packets never span two of them.
    datagrams = False

    def recv(self, timeout_s: float) -> bytes:
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def connected(self) -> bool:
        return True


class UdpInTransport(Transport):
    """Listen on a UDP port; send to every peer heard (most recent first)."""

    datagrams = True

    def __init__(self, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self._peers: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._peers_lock = threading.Lock()

    @property
    def local_port(self) -> int:
        return int(self._sock.getsockname()[1])

    def recv(self, timeout_s: float) -> bytes:
        self._sock.settimeout(max(timeout_s, 1e-3))
        try:
            data, addr = self._sock.recvfrom(_DATAGRAM_BYTES)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:  # e.g. ICMP port unreachable reported on Linux
            log.debug("udp recv: %s", exc)
            return b""
        with self._peers_lock:
            self._peers[addr] = None
            self._peers.move_to_end(addr, last=False)
            while len(self._peers) > _MAX_UDP_PEERS:
                self._peers.popitem()
        return data

    def send(self, data: bytes) -> None:
        with self._peers_lock:
            peers = list(self._peers)
        for addr in peers:
            try:
                self._sock.sendto(data, addr)
            except OSError as exc:
                log.debug("udp send to %s: %s", addr, exc)

    def close(self) -> None:
        self._sock.close()


class UdpOutTransport(Transport):
    """Send to one UDP address from an ephemeral port; receive what comes back."""

    datagrams = True

    def __init__(self, host: str, port: int) -> None:
        self._addr = (host, port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("", 0))

    def recv(self, timeout_s: float) -> bytes:
        self._sock.settimeout(max(timeout_s, 1e-3))
        try:
            data, _ = self._sock.recvfrom(_DATAGRAM_BYTES)
        except (TimeoutError, BlockingIOError):
            return b""
        except OSError as exc:
            log.debug("udp recv: %s", exc)
            time.sleep(min(timeout_s, 0.05))
            return b""
        return data

    def send(self, data: bytes) -> None:
        try:
            self._sock.sendto(data, self._addr)
        except OSError as exc:
            log.debug("udp send to %s: %s", self._addr, exc)

    def close(self) -> None:
        self._sock.close()


class _ReconnectingTransport(Transport):
    """A stream transport re-opened with exponential backoff whenever it breaks."""

    def __init__(self, *, label: str, backoff_initial_s: float = 0.25, backoff_max_s: float = 4.0) -> None:
        self._label = label
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_initial_s
        self._next_attempt = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self._handle: Any = None
        self.reconnects = 0
        self._ever_connected = False

    def _open(self) -> Any:
        raise NotImplementedError

    def _read(self, handle: Any, timeout_s: float) -> bytes:
        raise NotImplementedError

    def _write(self, handle: Any, data: bytes) -> None:
        raise NotImplementedError

    def _close_handle(self, handle: Any) -> None:
        raise NotImplementedError

    @property
    def connected(self) -> bool:
        return self._handle is not None

    def _ensure_open(self) -> Any:
        with self._lock:
            if self._handle is not None or self._closed:
                return self._handle
            now = time.monotonic()
            if now < self._next_attempt:
                return None
            try:
                self._handle = self._open()
            except OSError as exc:
                self._next_attempt = now + self._backoff_s
                log.info("%s: cannot connect (%s); retrying in %.2f s", self._label, exc, self._backoff_s)
                self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)
                return None
            self._backoff_s = self._backoff_initial_s
            if self._ever_connected:
                self.reconnects += 1
                log.info("%s: reconnected", self._label)
            else:
                log.info("%s: connected", self._label)
            self._ever_connected = True
            return self._handle

    def _drop(self, handle: Any, why: str) -> None:
        with self._lock:
            if self._handle is not handle or handle is None:
                return
            self._handle = None
            self._next_attempt = time.monotonic() + self._backoff_s
        log.warning("%s: connection lost (%s); reconnecting", self._label, why)
        with contextlib.suppress(OSError):
            self._close_handle(handle)

    def recv(self, timeout_s: float) -> bytes:
        handle = self._ensure_open()
        if handle is None:
            time.sleep(max(0.0, min(timeout_s, self._next_attempt - time.monotonic(), 0.05)) or 0.01)
            return b""
        try:
            data = self._read(handle, timeout_s)
        except (TimeoutError, BlockingIOError):
            return b""
        except (OSError, EOFError) as exc:
            self._drop(handle, str(exc) or type(exc).__name__)
            return b""
        return data

    def send(self, data: bytes) -> None:
        handle = self._handle
        if handle is None:
            return
        try:
            self._write(handle, data)
        except OSError as exc:
            self._drop(handle, str(exc))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                self._close_handle(handle)


class TcpTransport(_ReconnectingTransport):
    """TCP client to ``host:port``, reconnecting with backoff."""

    def __init__(self, host: str, port: int, *, connect_timeout_s: float = 1.0, **backoff: float) -> None:
        super().__init__(label=f"tcp://{host}:{port}", **backoff)
        self._addr = (host, port)
        self._connect_timeout_s = connect_timeout_s

    def _open(self) -> socket.socket:
        sock = socket.create_connection(self._addr, timeout=self._connect_timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _read(self, handle: socket.socket, timeout_s: float) -> bytes:
        handle.settimeout(max(timeout_s, 1e-3))
        data = handle.recv(_DATAGRAM_BYTES)
        if not data:
            raise EOFError("closed by the vehicle end")
        return data

    def _write(self, handle: socket.socket, data: bytes) -> None:
        handle.settimeout(1.0)
        handle.sendall(data)

    def _close_handle(self, handle: socket.socket) -> None:
        handle.close()


class SerialTransport(_ReconnectingTransport):
    """A serial port through pyserial, re-opened with backoff when it disappears."""

    def __init__(self, device: str, baud: int, **backoff: float) -> None:
        super().__init__(label=f"serial {device}@{baud}", **backoff)
        self._device = device
        self._baud = baud

    def _open(self) -> Any:
        import serial  # pyserial; imported only when a serial link is opened

        try:
            return serial.serial_for_url(self._device, baudrate=self._baud, timeout=0.05)
        except serial.SerialException as exc:
            raise OSError(str(exc)) from exc

    def _read(self, handle: Any, timeout_s: float) -> bytes:
        import serial

        try:
            handle.timeout = max(timeout_s, 1e-3)
            waiting = handle.in_waiting
            return bytes(handle.read(max(1, waiting)))
        except serial.SerialException as exc:
            raise OSError(str(exc)) from exc

    def _write(self, handle: Any, data: bytes) -> None:
        import serial

        try:
            handle.write(data)
        except serial.SerialException as exc:
            raise OSError(str(exc)) from exc

    def _close_handle(self, handle: Any) -> None:
        handle.close()


def open_transport(
    url: VehicleUrl, *, backoff_initial_s: float = 0.25, backoff_max_s: float = 4.0
) -> Transport:
    """Open the transport a URL names (UDP binds/creates its socket now; TCP and serial connect
    lazily from the reader thread, so a vehicle that is not up yet is not an error)."""
    if url.scheme == "udpin":
        return UdpInTransport(url.host, url.port)
    if url.scheme == "udpout":
        return UdpOutTransport(url.host, url.port)
    backoff = {"backoff_initial_s": backoff_initial_s, "backoff_max_s": backoff_max_s}
    if url.scheme == "tcp":
        return TcpTransport(url.host, url.port, **backoff)
    return SerialTransport(url.device, url.baud, **backoff)
