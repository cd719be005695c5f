"""One MAVLink 2 link (UDP, TCP or serial) to any number of vehicles.

A :class:`VehicleLink` owns one transport and one reader thread. The thread parses bytes
(bad CRCs and garbage are counted and skipped), keeps a :class:`~ground_station.vehicles.state.StateTracker`
per vehicle system id, sends our HEARTBEAT (sysid 255, compid 190, MAV_TYPE_GCS) at 1 Hz,
asks each new vehicle for its telemetry streams and home, watches heartbeat ages, answers
terrain requests when a terrain server is attached, and hands protocol messages to whoever
waits for them (:meth:`VehicleLink.subscribe`). The blocking API (mission transfers,
commands) runs in the caller's thread; the ``*_async`` wrappers run it in a worker thread so
an asyncio event loop never blocks; :meth:`VehicleLink.events_async` delivers events into
an event loop with ``loop.call_soon_threadsafe``.

    with VehicleLink.open("udpin://0.0.0.0:14550") as link:
        vehicle = link.wait_vehicle(timeout_s=10)
        vehicle.upload_mission(mission)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.vehicles.connection import Transport, open_transport, parse_vehicle_url
from ground_station.vehicles.errors import LinkLostError, SigningKeyError, VehicleNotFoundError
from ground_station.vehicles.state import HealthThresholds, LinkHealth, VehicleState

if TYPE_CHECKING:
    from geo.terrain import Terrain
    from ground_station.vehicles.mission_protocol import MissionTimeouts
    from ground_station.vehicles.terrain_server import TerrainServer
    from ground_station.vehicles.vehicle import Vehicle

log = logging.getLogger(__name__)

GCS_SYSTEM_ID = 255
GCS_COMPONENT_ID = mavlink.MAV_COMP_ID_MISSIONPLANNER  # 190

#: Messages asked for on connect, with SET_MESSAGE_INTERVAL (ArduPilot streams nothing until asked).
STREAM_MESSAGES = (
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT,
    mavlink.MAVLINK_MSG_ID_ATTITUDE,
    mavlink.MAVLINK_MSG_ID_SYS_STATUS,
    mavlink.MAVLINK_MSG_ID_BATTERY_STATUS,
    mavlink.MAVLINK_MSG_ID_VFR_HUD,
    mavlink.MAVLINK_MSG_ID_GPS_RAW_INT,
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT,
)
_TICK_S = 0.05
_HOME_REQUEST_PERIOD_S = 2.0
_NOT_VEHICLE_TYPES = frozenset(
    {
        mavlink.MAV_TYPE_GCS,
        mavlink.MAV_TYPE_ONBOARD_CONTROLLER,
        mavlink.MAV_TYPE_GIMBAL,
        mavlink.MAV_TYPE_CAMERA,
    }
)


@dataclass(frozen=True, kw_only=True)
class SigningConfig:
    """MAVLink 2 signing: a 32-byte secret; ``require_signed`` rejects unsigned incoming packets."""

    key: bytes = field(repr=False)
    link_id: int = 0
    require_signed: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.key, bytes | bytearray) or len(self.key) != 32:
            got = len(self.key) if isinstance(self.key, bytes | bytearray) else type(self.key).__name__
            raise SigningKeyError(f"expected a 32-byte signing key, got {got}")
        if not 0 <= self.link_id <= 255:
            raise SigningKeyError(f"expected a signing link id 0-255, got {self.link_id}")

    @classmethod
    def from_passphrase(cls, passphrase: str, **kw: Any) -> SigningConfig:
        """The key MAVProxy/Mission Planner derive from a passphrase (SHA-256 of it)."""
        import hashlib

        return cls(key=hashlib.sha256(passphrase.encode()).digest(), **kw)


@dataclass(frozen=True, kw_only=True, slots=True)
class VehicleEvent:
    """Something happened to a vehicle. ``kind``: ``vehicle_seen``, ``state`` (throttled),
    ``health`` (ok/degraded/lost changed), ``statustext``, ``item_reached``,
    ``mission_progress`` (a transfer moved: ``seq`` of ``total``)."""

    kind: str
    system_id: int
    state: VehicleState | None = None
    text: str = ""
    seq: int | None = None
    total: int | None = None


EventListener = Callable[[VehicleEvent], None]


class Listeners:
    """Event listeners, safe across threads: :meth:`add` returns the remover; :meth:`emit` calls
    each (a failing listener is logged and the others still run)."""

    def __init__(self) -> None:
        self._items: list[EventListener] = []
        self._lock = threading.Lock()

    def add(self, listener: EventListener) -> Callable[[], None]:
        with self._lock:
            self._items.append(listener)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._items.remove(listener)

        return remove

    def emit(self, event: VehicleEvent) -> None:
        with self._lock:
            listeners = list(self._items)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener %r failed on %s", listener, event.kind)


class MessageSubscription:
    """Messages of some types from one system id, queued for a waiting thread."""

    def __init__(self, link: VehicleLink, system_id: int | None, types: Collection[str]) -> None:
        self._link = link
        self.system_id = system_id
        self.types = frozenset(types)
        self._queue: queue.Queue[Any] = queue.Queue()

    def matches(self, system_id: int, kind: str) -> bool:
        return kind in self.types and (self.system_id is None or system_id == self.system_id)

    def put(self, msg: Any) -> None:
        self._queue.put(msg)

    def get(self, timeout_s: float) -> Any:
        """The next message, or None after ``timeout_s``; raises LinkLostError once the link closed."""
        if self._link.closed:
            raise LinkLostError(f"link {self._link.url} is closed")
        try:
            return self._queue.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            if self._link.closed:
                raise LinkLostError(f"link {self._link.url} is closed") from None
            return None

    def drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()

    def close(self) -> None:
        self._link._unsubscribe(self)

    def __enter__(self) -> MessageSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEventStream:
    """Vehicle events delivered into an asyncio loop; ``async for event in stream``."""

    def __init__(self, link: VehicleLink | Any, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[VehicleEvent] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self._remove = link.add_listener(self._from_thread)

    def _from_thread(self, event: VehicleEvent) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed
            self._loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: VehicleEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> VehicleEvent:
        return await self._queue.get()

    def close(self) -> None:
        self._remove()

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> VehicleEvent:
        return await self._queue.get()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class _Writer:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def write(self, data: bytes | bytearray) -> None:
        self._transport.send(bytes(data))


def _configure_signing(mav: Any, signing: SigningConfig | None) -> None:
    if signing is None:
        return
    mav.signing.secret_key = bytes(signing.key)
    mav.signing.link_id = signing.link_id
    mav.signing.sign_outgoing = True
    # pymavlink's timestamp unit: 10 us since 2015-01-01
    mav.signing.timestamp = max(mav.signing.timestamp, int((time.time() - 1420070400) * 100_000))
    if not signing.require_signed:
        mav.signing.allow_unsigned_callback = lambda _mav, _msg_id: True


class VehicleLink:
    """A MAVLink 2 link; see the module docstring. Use :meth:`open` in a ``with`` block."""

    def __init__(
        self,
        transport: Transport,
        *,
        url: str = "",
        signing: SigningConfig | None = None,
        thresholds: HealthThresholds | None = None,
        heartbeat_period_s: float = 1.0,
        stream_rate_hz: float = 4.0,
        request_streams: bool = True,
        mission_timeouts: MissionTimeouts | None = None,
        event_interval_s: float = 0.2,
        gcs_system_id: int = GCS_SYSTEM_ID,
        gcs_component_id: int = GCS_COMPONENT_ID,
    ) -> None:
        from ground_station.vehicles.mission_protocol import MissionTimeouts

        self.url = url
        self.transport = transport
        self.gcs_system_id = gcs_system_id
        self.gcs_component_id = gcs_component_id
        self.thresholds = thresholds or HealthThresholds()
        self.mission_timeouts = mission_timeouts or MissionTimeouts()
        self.heartbeat_period_s = heartbeat_period_s
        self.stream_rate_hz = stream_rate_hz
        self.auto_request_streams = request_streams
        self.event_interval_s = event_interval_s
        self.signing = signing
        self._tx = mavlink.MAVLink(_Writer(transport), srcSystem=gcs_system_id, srcComponent=gcs_component_id)
        self._rx = mavlink.MAVLink(None, srcSystem=gcs_system_id, srcComponent=gcs_component_id)
        self._rx.robust_parsing = True
        _configure_signing(self._tx, signing)
        _configure_signing(self._rx, signing)
        self._send_lock = threading.Lock()
        self._vehicles: dict[int, Vehicle] = {}
        self._vehicles_changed = threading.Condition()
        self._subs: list[MessageSubscription] = []
        self._subs_lock = threading.Lock()
        self._listeners = Listeners()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.terrain_server: TerrainServer | None = None
        self.bad_packets = 0
        self.handler_errors = 0
        self.packets_received = 0

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> VehicleLink:
        """Open the link a URL names and start its reader thread (see
        :mod:`ground_station.vehicles.connection` for the URL forms)."""
        parsed = parse_vehicle_url(url)
        backoff = {k: kwargs.pop(k) for k in ("backoff_initial_s", "backoff_max_s") if k in kwargs}
        transport = open_transport(parsed, **backoff)
        link = cls(transport, url=url, **kwargs)
        link.start()
        return link

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"mavlink {self.url}", daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.transport.close()
        with self._vehicles_changed:
            self._vehicles_changed.notify_all()

    def __enter__(self) -> VehicleLink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------

    def send(self, msg: Any) -> None:
        """Send one message (thread-safe); raises LinkLostError once the link is closed."""
        if self._closed:
            raise LinkLostError(f"link {self.url} is closed")
        with self._send_lock:
            self._tx.send(msg)

    def send_command_long(
        self,
        system_id: int,
        component_id: int,
        command: int,
        params: tuple[float, ...],
        confirmation: int = 0,
    ) -> None:
        p = (*params, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)[:7]
        self.send(mavlink.MAVLink_command_long_message(system_id, component_id, command, confirmation, *p))

    # -- vehicles ---------------------------------------------------------------------------

    def vehicles(self) -> dict[int, Vehicle]:
        with self._vehicles_changed:
            return dict(self._vehicles)

    def vehicle(self, system_id: int) -> Vehicle:
        with self._vehicles_changed:
            vehicle = self._vehicles.get(system_id)
        if vehicle is None:
            raise VehicleNotFoundError(
                f"no vehicle with system id {system_id} on {self.url}; "
                f"heard: {sorted(self._vehicles) or 'none'}"
            )
        return vehicle

    def wait_vehicle(self, system_id: int | None = None, *, timeout_s: float = 10.0) -> Vehicle:
        """The vehicle with ``system_id`` (or the first one heard), once its heartbeat arrives."""
        deadline = time.monotonic() + timeout_s
        with self._vehicles_changed:
            while True:
                if self._closed:
                    raise LinkLostError(f"link {self.url} is closed")
                if system_id is None and self._vehicles:
                    return next(iter(self._vehicles.values()))
                if system_id is not None and system_id in self._vehicles:
                    return self._vehicles[system_id]
                left = deadline - time.monotonic()
                if left <= 0:
                    which = "any vehicle" if system_id is None else f"system id {system_id}"
                    raise VehicleNotFoundError(
                        f"no heartbeat from {which} on {self.url} within {timeout_s:g} s"
                    )
                self._vehicles_changed.wait(left)

    # -- subscriptions and events -------------------------------------------------------------

    def subscribe(self, system_id: int | None, types: Collection[str]) -> MessageSubscription:
        sub = MessageSubscription(self, system_id, types)
        with self._subs_lock:
            self._subs.append(sub)
        return sub

    def _unsubscribe(self, sub: MessageSubscription) -> None:
        with self._subs_lock, contextlib.suppress(ValueError):
            self._subs.remove(sub)

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(event)`` from the reader thread (keep it quick); returns the remover."""
        return self._listeners.add(listener)

    def events_async(
        self, loop: asyncio.AbstractEventLoop | None = None, *, maxsize: int = 1000
    ) -> AsyncEventStream:
        """An async iterator of events for an asyncio loop (the running one by default)."""
        return AsyncEventStream(self, loop or asyncio.get_running_loop(), maxsize)

    def emit(self, event: VehicleEvent) -> None:
        self._listeners.emit(event)

    # -- terrain ------------------------------------------------------------------------------

    def serve_terrain(self, terrain: Terrain, *, rate_hz: float = 50.0) -> TerrainServer:
        """Answer the vehicles' TERRAIN_REQUESTs from ``terrain`` (replacing any earlier server)."""
        from ground_station.vehicles.terrain_server import TerrainServer

        self.terrain_server = TerrainServer(self, terrain, rate_hz=rate_hz)
        return self.terrain_server

    # -- reader thread --------------------------------------------------------------------------

    def _run(self) -> None:
        next_heartbeat = 0.0
        next_housekeeping = 0.0
        while not self._stop.is_set():
            try:
                data = self.transport.recv(_TICK_S)
            except Exception:
                log.exception("%s: transport read failed", self.url)
                time.sleep(_TICK_S)
                data = b""
            now = time.monotonic()
            if data:
                self._feed(data, now)
            if self._stop.is_set():
                break
            try:
                if now >= next_heartbeat:
                    next_heartbeat = now + self.heartbeat_period_s
                    self._send_heartbeat()
                if now >= next_housekeeping:
                    next_housekeeping = now + _TICK_S
                    self._housekeeping(now)
            except LinkLostError:
                break
            except Exception:
                self.handler_errors += 1
                log.exception("%s: periodic work failed", self.url)

    def _feed(self, data: bytes, now: float) -> None:
        try:
            msgs = self._rx.parse_buffer(data) or []
        except Exception as exc:  # robust parsing should not raise; never let it kill the thread
            self.bad_packets += 1
            log.debug("%s: unparseable bytes (%s)", self.url, exc)
            self._reset_parser()
            return
        if self.transport.datagrams and self._rx.buf_len() > 0:
            # a UDP datagram holds whole packets: a partial one left over is garbage, and kept
            # it would swallow the start of the next datagram
            self.bad_packets += 1
            self._reset_parser()
        for msg in msgs:
            try:
                self._dispatch(msg, now)
            except LinkLostError:
                return  # closed while handling
            except Exception:
                self.handler_errors += 1
                log.exception("%s: handling %s failed", self.url, msg.get_type())

    def _reset_parser(self) -> None:
        self._rx.buf = bytearray()
        self._rx.buf_index = 0
        self._rx.expected_length = mavlink.HEADER_LEN_V1 + 2

    def _send_heartbeat(self) -> None:
        self.send(
            mavlink.MAVLink_heartbeat_message(
                mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, mavlink.MAV_STATE_ACTIVE, 3
            )
        )

    def _dispatch(self, msg: Any, now: float) -> None:
        kind = msg.get_type()
        if kind == "BAD_DATA":
            self.bad_packets += 1
            log.debug("%s: skipped bad data: %s", self.url, getattr(msg, "reason", ""))
            return
        self.packets_received += 1
        system_id = msg.get_srcSystem()
        if system_id == self.gcs_system_id and msg.get_srcComponent() == self.gcs_component_id:
            return  # our own packets, echoed by a router
        vehicle = self._vehicles.get(system_id)
        if vehicle is None and kind == "HEARTBEAT" and self._is_vehicle_heartbeat(msg):
            vehicle = self._add_vehicle(system_id)
        if vehicle is not None and (kind != "HEARTBEAT" or self._is_vehicle_heartbeat(msg)):
            vehicle._on_message(msg, now)
        with self._subs_lock:
            subs = [s for s in self._subs if s.matches(system_id, kind)]
        for sub in subs:
            sub.put(msg)
        if kind == "TERRAIN_REQUEST" and self.terrain_server is not None:
            self.terrain_server.handle_request(system_id, msg, now)

    @staticmethod
    def _is_vehicle_heartbeat(msg: Any) -> bool:
        return msg.autopilot != mavlink.MAV_AUTOPILOT_INVALID and msg.type not in _NOT_VEHICLE_TYPES

    def _add_vehicle(self, system_id: int) -> Vehicle:
        from ground_station.vehicles.vehicle import Vehicle

        vehicle = Vehicle(self, system_id)
        with self._vehicles_changed:
            self._vehicles[system_id] = vehicle
            self._vehicles_changed.notify_all()
        log.info("%s: vehicle %d seen", self.url, system_id)
        return vehicle

    def _housekeeping(self, now: float) -> None:
        for vehicle in list(self._vehicles.values()):
            vehicle._housekeeping(now)
        if self.terrain_server is not None:
            self.terrain_server.tick(now)

    def request_streams(self, system_id: int, component_id: int) -> None:
        """Ask a vehicle for the telemetry the state needs (both the old and the new way)."""
        self.send(
            mavlink.MAVLink_request_data_stream_message(
                system_id, component_id, mavlink.MAV_DATA_STREAM_ALL, max(1, round(self.stream_rate_hz)), 1
            )
        )
        interval_us = 1e6 / self.stream_rate_hz
        for msg_id in STREAM_MESSAGES:
            self.send_command_long(
                system_id, component_id, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, (float(msg_id), interval_us)
            )
        self.request_home(system_id, component_id)

    def request_home(self, system_id: int, component_id: int) -> None:
        self.send_command_long(
            system_id,
            component_id,
            mavlink.MAV_CMD_REQUEST_MESSAGE,
            (float(mavlink.MAVLINK_MSG_ID_HOME_POSITION),),
        )

    def iter_health(self) -> Iterator[tuple[int, LinkHealth]]:
        now = time.monotonic()
        for system_id, vehicle in self.vehicles().items():
            yield system_id, vehicle.tracker.health(now)


HOME_REQUEST_PERIOD_S = _HOME_REQUEST_PERIOD_S
