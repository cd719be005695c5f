"""The MAVLink side of a simulated vehicle: sockets, framing, signing, telemetry, link impairment.

:class:`VehicleRunner` owns one :class:`sim.vehicle.SimVehicle` and runs it in one thread: a
``selectors`` loop serves a loopback TCP server (any number of clients, each its own MAVLink
parser/encoder, signing state and stream rates) and optionally a UDP socket (it sends to the
GCS address given as ``udp_out`` and answers whoever sends to it), steps the physics at a fixed
``dt_s`` to keep ``sim time = wall time x speedup``, and sends what the vehicle says.

ArduPilot behaviour reproduced on each link:

* Only HEARTBEAT (1 Hz) until the GCS asks: REQUEST_DATA_STREAM (ArduCopter's stream groups:
  2 EXTENDED_STATUS = SYS_STATUS, GPS_RAW_INT, MISSION_CURRENT; 6 POSITION = GLOBAL_POSITION_INT;
  10 EXTRA1 = ATTITUDE; 11 EXTRA2 = VFR_HUD; 12 EXTRA3 = BATTERY_STATUS, TERRAIN_REPORT,
  MOUNT_STATUS, GIMBAL_DEVICE_ATTITUDE_STATUS, SYSTEM_TIME; 0 = all), MAV_CMD_SET_MESSAGE_INTERVAL
  or MAV_CMD_REQUEST_MESSAGE / MAV_CMD_GET_HOME_POSITION. Rates are in sim time, capped at
  :data:`MAX_WALL_RATE_HZ` of wall time per message.
* TERRAIN_REQUEST (when TERRAIN_ENABLE = 1 and some block is missing) on links that have asked
  for any telemetry, whether or not the mission uses terrain; TERRAIN_DATA fills the vehicle's
  database; TERRAIN_CHECK is answered with TERRAIN_REPORT.
* STATUSTEXT, MISSION_ITEM_REACHED, MISSION_CURRENT changes, HOME_POSITION (when home is set),
  CAMERA_FEEDBACK go to every link as they happen.
* Parameters: PARAM_REQUEST_LIST (paced), PARAM_REQUEST_READ (by name or index), PARAM_SET
  (echoed with PARAM_VALUE to every link; unknown names are ignored, as ArduPilot does).
* COMMAND_LONG / COMMAND_INT answered with COMMAND_ACK; unknown commands MAV_RESULT_UNSUPPORTED;
  a retry (``confirmation`` > 0, same command and parameters within :data:`RETRY_WINDOW_S`) gets
  the first answer again without running the command twice. SET_MODE gets a COMMAND_ACK for
  command 11, as ArduPilot sends.
* Signing (``signing_key``): outgoing messages are signed; incoming unsigned or badly signed
  messages are dropped, except RADIO_STATUS (ArduPilot's one exception).
* Garbage bytes, bad CRCs, unknown message ids, messages for another ``target_system``: ignored
  (counted in :attr:`VehicleRunner.stats`).

Link impairment (tests): per direction, each whole MAVLink message is dropped with
``drop_probability``, duplicated with ``duplicate_probability`` and delayed by ``delay_s`` +
uniform(-``jitter_s``, ``jitter_s``), from a seeded RNG per link.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import logging
import math
import random
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.errors import SimConfigError, SimLinkError
from sim.mission_store import Outgoing, statustext
from sim.vehicle import (
    CameraTriggered,
    HomeChanged,
    ItemReached,
    MissionCurrentChanged,
    Mode,
    SimVehicle,
    StatusText,
)

log = logging.getLogger(__name__)

#: ArduPilot SITL: instance N listens on TCP 5760 + 10 N.
DEFAULT_BASE_PORT = 5760
PORT_STEP = 10
#: No message is sent more often than this per link, whatever the speedup.
MAX_WALL_RATE_HZ = 50.0
#: A command retried within this many wall seconds gets the cached answer.
RETRY_WINDOW_S = 3.0
#: PARAM_VALUE messages sent per link per loop turn while serving PARAM_REQUEST_LIST.
PARAMS_PER_TURN = 25
_LOOP_TIMEOUT_S = 0.004
_MAX_STEPS_PER_TURN = 2000
_MAX_TCP_BACKLOG_BYTES = 4 << 20
_SIGNING_EPOCH_S = 1420070400  # 2015-01-01, MAVLink signing timestamps count 10 us from it

STREAM_GROUPS: dict[int, tuple[int, ...]] = {
    mavlink.MAV_DATA_STREAM_EXTENDED_STATUS: (1, 24, 42),
    mavlink.MAV_DATA_STREAM_POSITION: (33,),
    mavlink.MAV_DATA_STREAM_EXTRA1: (30,),
    mavlink.MAV_DATA_STREAM_EXTRA2: (74,),
    mavlink.MAV_DATA_STREAM_EXTRA3: (147, 136, 158, 285, 2),
}

_AP_CAPABILITIES = (
    mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_FLOAT
    | mavlink.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT
    | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_INT
    | mavlink.MAV_PROTOCOL_CAPABILITY_COMMAND_INT
    | mavlink.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT
    | mavlink.MAV_PROTOCOL_CAPABILITY_MAVLINK2
    | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE
    | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY
    | mavlink.MAV_PROTOCOL_CAPABILITY_TERRAIN
)
_SENSORS = 0x0020_FC2F  # gyro, accel, mag, baro, gps, motors, AHRS, terrain, battery bits


@dataclass(frozen=True, kw_only=True)
class Impairment:
    """Impairment of one direction of a link (each whole MAVLink message)."""

    drop_probability: float = 0.0
    duplicate_probability: float = 0.0
    delay_s: float = 0.0
    jitter_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop_probability", "duplicate_probability"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise SimConfigError(f"expected {name} in [0, 1], got {v}")
        if self.delay_s < 0 or self.jitter_s < 0:
            raise SimConfigError(f"expected delay_s, jitter_s >= 0, got {self.delay_s}, {self.jitter_s}")

    @property
    def active(self) -> bool:
        return bool(self.drop_probability or self.duplicate_probability or self.delay_s or self.jitter_s)


@dataclass(frozen=True, kw_only=True)
class LinkImpairment:
    """Impairment both ways, with the seed of the per-link RNGs."""

    to_vehicle: Impairment = field(default_factory=Impairment)
    from_vehicle: Impairment = field(default_factory=Impairment)
    seed: int = 0


@dataclass(kw_only=True)
class _Link:
    key: Hashable
    mav: Any
    rng: random.Random
    sock: socket.socket | None = None  # TCP
    addr: tuple[str, int] | None = None  # UDP peer
    outbuf: bytearray = field(default_factory=bytearray)
    intervals_s: dict[int, float] = field(default_factory=dict)  # msg id -> sim seconds
    last_sent_wall: dict[int, float] = field(default_factory=dict)
    param_queue: deque[int] = field(default_factory=deque)
    asked: bool = False  # asked for any telemetry
    last_terrain_wall: float = 0.0


def parse_udp_address(text: str) -> tuple[str, int]:
    """``udp:127.0.0.1:14550`` (or ``127.0.0.1:14550``) to ``("127.0.0.1", 14550)``."""
    body = text.removeprefix("udp:").removeprefix("udpout:")
    host, sep, port = body.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SimConfigError(f"expected a UDP address like udp:127.0.0.1:14550, got {text!r}")
    return host or "127.0.0.1", int(port)


class VehicleRunner:
    """Runs one vehicle and its MAVLink endpoints in a thread (``start``/``stop`` or ``with``).

    ``tcp_port``: port to listen on (0 = any free port, None = no TCP). ``udp_out``: a GCS
    address to send to (``(host, port)``), served from a UDP socket bound to ``udp_port`` (0 =
    free). ``speedup``: sim seconds per wall second. ``signing_key``: 32 bytes to require and
    use MAVLink 2 signing. Read :attr:`tcp_port` / :attr:`udp_port` after start for the ports.
    """

    def __init__(
        self,
        vehicle: SimVehicle,
        *,
        sysid: int,
        tcp_port: int | None = 0,
        udp_port: int | None = None,
        udp_out: tuple[str, int] | None = None,
        host: str = "127.0.0.1",
        speedup: float = 1.0,
        dt_s: float = 0.05,
        impairment: LinkImpairment | None = None,
        signing_key: bytes | None = None,
    ) -> None:
        if not (math.isfinite(speedup) and speedup > 0):
            raise SimConfigError(f"expected speedup > 0, got {speedup}")
        if not 0 < dt_s <= 1:
            raise SimConfigError(f"expected 0 < dt_s <= 1, got {dt_s}")
        if signing_key is not None and len(signing_key) != 32:
            raise SimConfigError(f"expected a 32-byte signing key, got {len(signing_key)} bytes")
        if not 1 <= sysid <= 255:
            raise SimConfigError(f"expected a system id of 1-255, got {sysid}")
        self.vehicle = vehicle
        self.sysid = sysid
        self.speedup = speedup
        vehicle.link_time_scale = speedup
        self.dt_s = dt_s
        self.impairment = impairment or LinkImpairment()
        self.signing_key = signing_key
        self.host = host
        self._want_tcp = tcp_port
        self._want_udp = udp_port if udp_port is not None or udp_out is None else 0
        self._udp_out = udp_out
        self.lock = threading.RLock()
        self.stats: dict[str, int] = {
            "bad_data": 0,
            "other_target": 0,
            "received": 0,
            "sent": 0,
            "dropped": 0,
        }
        self._links: dict[Hashable, _Link] = {}
        self._link_counter = itertools.count()
        self._delayed: list[tuple[float, int, Callable[[], None]]] = []
        self._delay_seq = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sel: selectors.BaseSelector | None = None
        self._tcp: socket.socket | None = None
        self._udp: socket.socket | None = None
        self._recent_commands: dict[tuple[int, int, int], tuple[tuple[float, ...], int, float]] = {}
        self._heartbeat_wall = 0.0
        self.tcp_port: int | None = None
        self.udp_port: int | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> VehicleRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Open the sockets (raises :class:`SimLinkError`) and start the thread."""
        if self._thread is not None:
            return
        sel = selectors.DefaultSelector()
        try:
            if self._want_tcp is not None:
                tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self._tcp = tcp
                tcp.bind((self.host, self._want_tcp))
                tcp.listen(8)
                tcp.setblocking(False)
                self.tcp_port = tcp.getsockname()[1]
                sel.register(tcp, selectors.EVENT_READ, "accept")
            if self._want_udp is not None:
                udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._udp = udp
                udp.bind((self.host, self._want_udp))
                udp.setblocking(False)
                self.udp_port = udp.getsockname()[1]
                sel.register(udp, selectors.EVENT_READ, "udp")
                if self._udp_out is not None:
                    self._udp_link(self._udp_out)
        except OSError as exc:
            self._close_sockets()
            sel.close()
            raise SimLinkError(
                f"could not open the sockets of vehicle {self.sysid} on {self.host}: {exc}"
            ) from exc
        self._sel = sel
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"sim-vehicle-{self.sysid}", daemon=True)
        self._thread.start()
        log.info("vehicle %d: tcp %s udp %s", self.sysid, self.tcp_port, self.udp_port)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread, close every socket."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self._close_sockets()
        if self._sel is not None:
            self._sel.close()
            self._sel = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @contextlib.contextmanager
    def locked(self) -> Iterator[SimVehicle]:
        """Hold the vehicle still (no step, no message) while a test reads or pokes it."""
        with self.lock:
            yield self.vehicle

    def _close_sockets(self) -> None:
        for link in list(self._links.values()):
            if link.sock is not None:
                with contextlib.suppress(OSError):
                    link.sock.close()
        self._links.clear()
        for s in (self._tcp, self._udp):
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()
        self._tcp = self._udp = None

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._sel is not None
        wall0 = time.monotonic()
        sim0 = self.vehicle.time_s
        try:
            while not self._stop.is_set():
                events = self._sel.select(_LOOP_TIMEOUT_S)
                with self.lock:
                    for key, mask in events:
                        self._on_ready(key.fileobj, key.data, mask)  # type: ignore[arg-type]
                    now = time.monotonic()
                    self._run_delayed(now)
                    target = sim0 + (now - wall0) * self.speedup
                    steps = 0
                    while self.vehicle.time_s + 0.5 * self.dt_s < target and steps < _MAX_STEPS_PER_TURN:
                        self.vehicle.step(self.dt_s)
                        steps += 1
                    if steps == _MAX_STEPS_PER_TURN:  # cannot keep up: let sim time slip
                        wall0, sim0 = now, self.vehicle.time_s
                    self._send_events()
                    for out in self.vehicle.mission.update(now):
                        self._send_outgoing(out)
                    self._telemetry(now)
                    self._flush_tcp()
        except Exception:
            log.exception("vehicle %d: simulator loop failed", self.sysid)
            raise

    def _on_ready(self, sock: socket.socket, kind: str, mask: int) -> None:
        if kind == "accept":
            try:
                conn, addr = sock.accept()
            except OSError:
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = self._new_link(("tcp", next(self._link_counter), addr))
            link.sock = conn
            assert self._sel is not None
            self._sel.register(conn, selectors.EVENT_READ, link.key)
            log.debug("vehicle %d: tcp client %s", self.sysid, addr)
            return
        if kind == "udp":
            for _ in range(64):
                try:
                    data, addr = sock.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:  # e.g. ICMP port unreachable from a GCS not listening yet
                    continue
                link = self._udp_link((addr[0], addr[1]))
                self._receive(link, data)
            return
        link_or_none = self._links.get(kind)
        if link_or_none is None:
            return
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop_link(link_or_none)
            return
        self._receive(link_or_none, data)

    def _new_link(self, key: Hashable) -> _Link:
        mav = mavlink.MAVLink(None, srcSystem=self.sysid, srcComponent=mavlink.MAV_COMP_ID_AUTOPILOT1)
        mav.robust_parsing = True
        if self.signing_key is not None:
            mav.signing.secret_key = self.signing_key
            mav.signing.sign_outgoing = True
            mav.signing.link_id = len(self._links) % 256
            mav.signing.timestamp = int((time.time() - _SIGNING_EPOCH_S) * 100_000)
            mav.signing.allow_unsigned_callback = lambda _mav, msg_id: (
                msg_id == mavlink.MAVLINK_MSG_ID_RADIO_STATUS
            )
        rng = random.Random(f"{self.impairment.seed}:{self.sysid}:{len(self._links)}")
        link = _Link(key=key, mav=mav, rng=rng)
        self._links[key] = link
        return link

    def _udp_link(self, addr: tuple[str, int]) -> _Link:
        key = ("udp", addr)
        link = self._links.get(key)
        if link is None:
            link = self._new_link(key)
            link.addr = addr
            log.debug("vehicle %d: udp peer %s", self.sysid, addr)
        return link

    def _drop_link(self, link: _Link) -> None:
        self._links.pop(link.key, None)
        if link.sock is not None:
            if self._sel is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(link.sock)
            with contextlib.suppress(OSError):
                link.sock.close()

    # -- receiving -----------------------------------------------------------------------------

    def _receive(self, link: _Link, data: bytes) -> None:
        try:
            msgs = link.mav.parse_buffer(data) or []
        except Exception:  # pymavlink raises on some corrupt input even when robust
            self.stats["bad_data"] += 1
            link.mav.buf = bytearray()
            link.mav.buf_index = 0
            return
        imp = self.impairment.to_vehicle
        for msg in msgs:
            if msg.get_type() in ("BAD_DATA", "UNKNOWN") or msg.get_type().startswith("UNKNOWN"):
                self.stats["bad_data"] += 1
                continue
            if not imp.active:
                self._handle_safely(link, msg)
                continue
            for delay in self._fate(link, imp):
                if delay <= 0:
                    self._handle_safely(link, msg)
                else:
                    self._later(delay, functools.partial(self._handle_safely, link, msg))

    def _fate(self, link: _Link, imp: Impairment) -> list[float]:
        """Delays at which a message is delivered: [] dropped, two entries duplicated."""
        rng = link.rng
        if imp.drop_probability and rng.random() < imp.drop_probability:
            self.stats["dropped"] += 1
            return []
        copies = 2 if imp.duplicate_probability and rng.random() < imp.duplicate_probability else 1
        out = []
        for _ in range(copies):
            d = imp.delay_s + (rng.uniform(-imp.jitter_s, imp.jitter_s) if imp.jitter_s else 0.0)
            out.append(max(0.0, d))
        return out

    def _later(self, delay_s: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._delayed, (time.monotonic() + delay_s, next(self._delay_seq), action))

    def _run_delayed(self, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            _, _, action = heapq.heappop(self._delayed)
            action()

    def _handle_safely(self, link: _Link, msg: Any) -> None:
        if link.key not in self._links:
            return
        try:
            self._handle(link, msg)
        except Exception:  # a malformed message must never take the vehicle down
            self.stats["bad_data"] += 1
            log.warning("vehicle %d: could not handle %s", self.sysid, msg.get_type(), exc_info=True)

    def _handle(self, link: _Link, msg: Any) -> None:
        self.stats["received"] += 1
        kind = msg.get_type()
        target = getattr(msg, "target_system", 0)
        if kind != "HEARTBEAT" and target not in (0, self.sysid):
            self.stats["other_target"] += 1
            return
        v = self.vehicle
        if kind == "HEARTBEAT":
            if msg.get_srcSystem() == int(v.params.get("SYSID_MYGCS", 255)):
                v.note_gcs_heartbeat()
            return
        replies = v.mission.handle(msg, link=link.key, now_s=time.monotonic())
        if replies is not None:
            for out in replies:
                self._send_outgoing(out)
            return
        handler = getattr(self, f"_on_{kind.lower()}", None)
        if handler is not None:
            handler(link, msg)

    # -- message handlers ----------------------------------------------------------------------

    def _on_mission_set_current(self, link: _Link, msg: Any) -> None:
        if not self.vehicle.set_mission_current(int(msg.seq)):
            self._send(link, self._build(42))

    def _on_param_request_list(self, link: _Link, msg: Any) -> None:
        link.param_queue.extend(range(len(self.vehicle.params)))

    def _on_param_request_read(self, link: _Link, msg: Any) -> None:
        params = self.vehicle.params
        name = params.name_at(int(msg.param_index)) if msg.param_index >= 0 else _text(msg.param_id)
        if name is not None and name in params:
            self._send(link, self._param_value(name))

    def _on_param_set(self, link: _Link, msg: Any) -> None:
        name = _text(msg.param_id)
        if self.vehicle.params.set(name, float(msg.param_value)):
            self._broadcast(self._param_value(name))

    def _on_command_long(self, link: _Link, msg: Any) -> None:
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6, msg.param7)
        self._command(link, msg, int(msg.command), params, None, int(msg.confirmation))

    def _on_command_int(self, link: _Link, msg: Any) -> None:
        frame = int(msg.frame)
        x, y = float(msg.x), float(msg.y)
        if frame in (0, 3, 10, 5, 6, 11):
            x, y = x / 1e7, y / 1e7
        params = (msg.param1, msg.param2, msg.param3, msg.param4, x, y, msg.z)
        self._command(link, msg, int(msg.command), params, frame, 0)

    def _on_set_mode(self, link: _Link, msg: Any) -> None:
        ok = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED) and self.vehicle.set_mode(
            int(msg.custom_mode)
        )
        result = mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED
        self._send(link, self._ack(mavlink.MAVLINK_MSG_ID_SET_MODE, result, msg))

    def _on_request_data_stream(self, link: _Link, msg: Any) -> None:
        stream, rate_hz, start = int(msg.req_stream_id), int(msg.req_message_rate), int(msg.start_stop)
        groups = list(STREAM_GROUPS) if stream == mavlink.MAV_DATA_STREAM_ALL else [stream]
        for g in groups:
            for msg_id in STREAM_GROUPS.get(g, ()):
                if start and rate_hz > 0:
                    link.intervals_s[msg_id] = 1.0 / rate_hz
                else:
                    link.intervals_s.pop(msg_id, None)
        link.asked = link.asked or bool(start and rate_hz > 0)

    def _on_terrain_data(self, link: _Link, msg: Any) -> None:
        db = self.vehicle.terrain_db
        if db is not None:
            db.add(
                int(msg.lat),
                int(msg.lon),
                int(msg.grid_spacing),
                int(msg.gridbit),
                [int(d) for d in msg.data],
            )

    def _on_terrain_check(self, link: _Link, msg: Any) -> None:
        self._send(link, self._terrain_report(msg.lat / 1e7, msg.lon / 1e7))

    # -- commands ------------------------------------------------------------------------------

    def _command(
        self,
        link: _Link,
        msg: Any,
        command: int,
        params: tuple[float, ...],
        frame: int | None,
        confirmation: int,
    ) -> None:
        key = (msg.get_srcSystem(), msg.get_srcComponent(), command)
        now = time.monotonic()
        cached = self._recent_commands.get(key)
        if (
            confirmation > 0
            and cached is not None
            and cached[0] == params
            and now - cached[2] < RETRY_WINDOW_S
        ):
            result = cached[1]
        else:
            result = self._run_command(link, command, params, frame)
            self._recent_commands[key] = (params, result, now)
        self._send(link, self._ack(command, result, msg))

    def _run_command(self, link: _Link, command: int, params: tuple[float, ...], frame: int | None) -> int:
        if command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
            msg_id, interval_us = int(params[0]), params[1]
            if msg_id != 0 and msg_id not in self._builders():
                return int(mavlink.MAV_RESULT_FAILED)
            if interval_us < 0:
                link.intervals_s.pop(msg_id, None)
            else:
                link.intervals_s[msg_id] = 1.0 if interval_us == 0 else interval_us / 1e6
                link.asked = True
            return int(mavlink.MAV_RESULT_ACCEPTED)
        if command in (
            mavlink.MAV_CMD_REQUEST_MESSAGE,
            mavlink.MAV_CMD_GET_HOME_POSITION,
            mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES,
        ):
            msg_id = {
                mavlink.MAV_CMD_GET_HOME_POSITION: 242,
                mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES: 148,
            }.get(command, int(params[0]))
            if msg_id not in self._builders() or (msg_id == 242 and self.vehicle.home is None):
                return int(mavlink.MAV_RESULT_FAILED)
            self._later(0.0, lambda: self._send(link, self._build(msg_id)))  # after the ACK, as ArduPilot
            return int(mavlink.MAV_RESULT_ACCEPTED)
        return int(self.vehicle.command(command, params, frame=frame))

    def _ack(self, command: int, result: int, msg: Any) -> Any:
        return mavlink.MAVLink_command_ack_message(
            command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()
        )

    # -- sending -------------------------------------------------------------------------------

    def _send_events(self) -> None:
        for ev in self.vehicle.drain_events():
            if isinstance(ev, StatusText):
                self._broadcast(statustext(ev.text, ev.severity))
            elif isinstance(ev, ItemReached):
                self._broadcast(mavlink.MAVLink_mission_item_reached_message(ev.seq))
            elif isinstance(ev, MissionCurrentChanged):
                self._broadcast(self._build(42))
            elif isinstance(ev, HomeChanged):
                self._broadcast(self._build(242))
            elif isinstance(ev, CameraTriggered):
                self._broadcast(
                    mavlink.MAVLink_camera_feedback_message(
                        int(ev.time_s * 1e6),
                        0,
                        0,
                        ev.image_index,
                        round(ev.lat_deg * 1e7),
                        round(ev.lon_deg * 1e7),
                        ev.altitude_amsl_m,
                        ev.altitude_rel_m,
                        ev.roll_deg,
                        ev.pitch_deg,
                        ev.yaw_deg,
                        0.0,
                        mavlink.CAMERA_FEEDBACK_PHOTO,
                        ev.image_index,
                    )
                )

    def _send_outgoing(self, out: Outgoing) -> None:
        if out.link is None:
            self._broadcast(out.message)
            return
        link = self._links.get(out.link)
        if link is not None:
            self._send(link, out.message)

    def _broadcast(self, message: Any) -> None:
        for link in list(self._links.values()):
            self._send(link, message)

    def _send(self, link: _Link, message: Any) -> None:
        try:
            data = message.pack(link.mav)
        except Exception:
            log.warning("vehicle %d: could not pack %s", self.sysid, message.get_type(), exc_info=True)
            return
        link.mav.seq = (link.mav.seq + 1) % 256
        self.stats["sent"] += 1
        imp = self.impairment.from_vehicle
        if not imp.active:
            self._write(link, data)
            return
        for delay in self._fate(link, imp):
            if delay <= 0:
                self._write(link, data)
            else:
                self._later(delay, functools.partial(self._write, link, data))

    def _write(self, link: _Link, data: bytes) -> None:
        if link.key not in self._links:
            return
        if link.sock is not None:
            link.outbuf += data
            if len(link.outbuf) > _MAX_TCP_BACKLOG_BYTES:
                log.warning("vehicle %d: tcp client %s not reading, dropped", self.sysid, link.key)
                self._drop_link(link)
            return
        if link.addr is not None and self._udp is not None:
            with contextlib.suppress(OSError):
                self._udp.sendto(data, link.addr)

    def _flush_tcp(self) -> None:
        for link in list(self._links.values()):
            if link.sock is None or not link.outbuf:
                continue
            try:
                n = link.sock.send(link.outbuf)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                self._drop_link(link)
                continue
            del link.outbuf[:n]

    # -- telemetry -----------------------------------------------------------------------------

    def _telemetry(self, now: float) -> None:
        hb_interval = min(1.0, max(0.1, 1.0 / self.speedup))
        if now - self._heartbeat_wall >= hb_interval:
            self._heartbeat_wall = now
            self._broadcast(self._heartbeat())
        min_wall = 1.0 / MAX_WALL_RATE_HZ
        for link in list(self._links.values()):
            for _ in range(PARAMS_PER_TURN):
                if not link.param_queue:
                    break
                name = self.vehicle.params.name_at(link.param_queue.popleft())
                if name is not None:
                    self._send(link, self._param_value(name))
            for msg_id, interval_s in list(link.intervals_s.items()):
                wall_interval = max(min_wall, interval_s / self.speedup)
                if now - link.last_sent_wall.get(msg_id, -1e9) >= wall_interval:
                    link.last_sent_wall[msg_id] = now
                    built = self._build(msg_id)
                    if built is not None:
                        self._send(link, built)
            if link.asked and now - link.last_terrain_wall >= min(1.0, max(0.2, 1.0 / self.speedup)):
                link.last_terrain_wall = now
                req = self.vehicle.terrain_request()
                if req is not None:
                    self._send(
                        link,
                        mavlink.MAVLink_terrain_request_message(
                            req.lat_e7, req.lon_e7, req.spacing_m, req.mask
                        ),
                    )

    def _builders(self) -> dict[int, Callable[[], Any]]:
        return {
            0: self._heartbeat,
            1: self._sys_status,
            2: self._system_time,
            24: self._gps_raw,
            30: self._attitude,
            33: self._global_position,
            42: self._mission_current,
            74: self._vfr_hud,
            136: lambda: self._terrain_report(self.vehicle.lat_deg, self.vehicle.lon_deg),
            147: self._battery_status,
            148: self._autopilot_version,
            158: self._mount_status,
            242: self._home_position,
            285: self._gimbal_status,
        }

    def _build(self, msg_id: int) -> Any:
        builder = self._builders().get(msg_id)
        return None if builder is None else builder()

    def _param_value(self, name: str) -> Any:
        p = self.vehicle.params
        return mavlink.MAVLink_param_value_message(
            name.encode(), p[name], p.param_type(name), len(p), p.index_of(name)
        )

    def _heartbeat(self) -> Any:
        v = self.vehicle
        base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | mavlink.MAV_MODE_FLAG_STABILIZE_ENABLED
        if v.mode in (Mode.AUTO, Mode.GUIDED, Mode.LOITER, Mode.RTL, Mode.BRAKE):
            base |= mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
        if v.armed:
            base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
        state = mavlink.MAV_STATE_ACTIVE if v.armed else mavlink.MAV_STATE_STANDBY
        if v.batt_critical or v.gcs_failsafe:
            state = mavlink.MAV_STATE_CRITICAL if v.armed else state
        return mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, base, int(v.mode), state, 3
        )

    def _time_ms(self) -> int:
        return int(self.vehicle.time_s * 1000) & 0xFFFFFFFF

    def _sys_status(self) -> Any:
        v = self.vehicle
        health = _SENSORS if v.has_position else _SENSORS & ~0x20
        return mavlink.MAVLink_sys_status_message(
            _SENSORS, _SENSORS, health, 200, int(v.voltage_v * 1000), int(v.current_a * 100),
            v.battery_remaining_pct, 0, 0, 0, 0, 0, 0,
        )  # fmt: skip

    def _system_time(self) -> Any:
        return mavlink.MAVLink_system_time_message(int(time.time() * 1e6), self._time_ms())

    def _gps_raw(self) -> Any:
        v = self.vehicle
        lat, lon = v.reported_position()
        fix = 3 if v.gps_fix else 1
        cog = int(math.degrees(math.atan2(v.ve_m_s, v.vn_m_s)) % 360 * 100) if v.groundspeed_m_s > 0.2 else 0
        return mavlink.MAVLink_gps_raw_int_message(
            int(v.time_s * 1e6), fix, round(lat * 1e7), round(lon * 1e7), int(v.alt_amsl_m * 1000),
            121 if v.gps_fix else 9999, 200 if v.gps_fix else 9999, int(v.groundspeed_m_s * 100), cog,
            14 if v.gps_fix else 3,
        )  # fmt: skip

    def _attitude(self) -> Any:
        v = self.vehicle
        yaw = math.radians(v.yaw_deg if v.yaw_deg <= 180 else v.yaw_deg - 360)
        return mavlink.MAVLink_attitude_message(
            self._time_ms(), math.radians(v.roll_deg), math.radians(v.pitch_deg), yaw,
            0.0, 0.0, math.radians(v.yaw_rate_deg_s),
        )  # fmt: skip

    def _global_position(self) -> Any:
        v = self.vehicle
        lat, lon = v.reported_position()
        rel = v.altitude_rel_home_m if v.home is not None else 0.0
        return mavlink.MAVLink_global_position_int_message(
            self._time_ms(), round(lat * 1e7), round(lon * 1e7), int(v.alt_amsl_m * 1000), int(rel * 1000),
            int(v.vn_m_s * 100), int(v.ve_m_s * 100), int(-v.vu_m_s * 100), int(v.yaw_deg * 100) % 36000,
        )  # fmt: skip

    def _vfr_hud(self) -> Any:
        v = self.vehicle
        throttle = 0 if not v.armed else (15 if v.landed else 50)
        return mavlink.MAVLink_vfr_hud_message(
            v.airspeed_m_s, v.groundspeed_m_s, int(v.yaw_deg) % 360, throttle, v.alt_amsl_m, v.vu_m_s
        )

    def _mission_current(self) -> Any:
        v = self.vehicle
        total = max(0, v.mission.count() - 1)
        if v.mission_complete:
            state = mavlink.MISSION_STATE_COMPLETE
        elif v.mission_running:
            state = mavlink.MISSION_STATE_PAUSED if v.paused else mavlink.MISSION_STATE_ACTIVE
        else:
            state = mavlink.MISSION_STATE_NOT_STARTED if total else mavlink.MISSION_STATE_NO_MISSION
        return mavlink.MAVLink_mission_current_message(v.mission_seq, total, state, 0)

    def _battery_status(self) -> Any:
        v = self.vehicle
        volts = [int(v.voltage_v * 1000)] + [65535] * 9
        return mavlink.MAVLink_battery_status_message(
            0, mavlink.MAV_BATTERY_FUNCTION_ALL, mavlink.MAV_BATTERY_TYPE_LIPO, 32767, volts,
            int(v.current_a * 100), int(v.consumed_mah), int(v.consumed_mah * v.voltage_v * 0.036),
            v.battery_remaining_pct, 0,
            mavlink.MAV_BATTERY_CHARGE_STATE_CRITICAL if v.batt_critical
            else mavlink.MAV_BATTERY_CHARGE_STATE_LOW if v.batt_low else mavlink.MAV_BATTERY_CHARGE_STATE_OK,
            [0, 0, 0, 0], 0, 0,
        )  # fmt: skip

    def _home_position(self) -> Any:
        v = self.vehicle
        if v.home is None:
            return None
        lat, lon, alt = v.home
        hx, hy = v.frame.to_local(lat, lon)
        return mavlink.MAVLink_home_position_message(
            round(lat * 1e7), round(lon * 1e7), int(alt * 1000), float(hy), float(hx), 0.0,
            [1.0, 0.0, 0.0, 0.0], 0.0, 0.0, 0.0, int(v.time_s * 1e6),
        )  # fmt: skip

    def _autopilot_version(self) -> Any:
        return mavlink.MAVLink_autopilot_version_message(
            _AP_CAPABILITIES, (4 << 24) | (6 << 16) | (0 << 8) | 255, 0, 0, 0,
            [0] * 8, [0] * 8, [0] * 8, 0, 0, self.sysid, [0] * 18,
        )  # fmt: skip

    def _mount_status(self) -> Any:
        v = self.vehicle
        return mavlink.MAVLink_mount_status_message(
            0,
            0,
            int(v.gimbal_pitch_deg * 100),
            0,
            int(v.gimbal_yaw_deg * 100),
            mavlink.MAV_MOUNT_MODE_MAVLINK_TARGETING,
        )

    def _gimbal_status(self) -> Any:
        v = self.vehicle
        p, y = math.radians(v.gimbal_pitch_deg) / 2, math.radians(v.gimbal_yaw_deg) / 2
        q = [
            math.cos(p) * math.cos(y),
            -math.sin(p) * math.sin(y),
            math.sin(p) * math.cos(y),
            math.cos(p) * math.sin(y),
        ]
        return mavlink.MAVLink_gimbal_device_attitude_status_message(
            0, 0, self._time_ms(), mavlink.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME, q,
            0.0, 0.0, 0.0, 0, 0.0, 0.0, 1,
        )  # fmt: skip

    def _terrain_report(self, lat_deg: float, lon_deg: float) -> Any:
        v = self.vehicle
        db = v.terrain_db
        h = v.terrain_height(lat_deg, lon_deg)
        here = v.terrain_height(v.lat_deg, v.lon_deg)
        spacing = int(v.params.get("TERRAIN_SPACING", 100))
        return mavlink.MAVLink_terrain_report_message(
            round(lat_deg * 1e7), round(lon_deg * 1e7), spacing if h is not None else 0,
            float(h or 0.0), float(v.alt_amsl_m - here) if here is not None else 0.0,
            db.pending_blocks if db is not None else 0, db.loaded_blocks if db is not None else 0,
        )  # fmt: skip


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.split(b"\x00", 1)[0].decode("ascii", "replace")
    return str(value).split("\x00", 1)[0]
