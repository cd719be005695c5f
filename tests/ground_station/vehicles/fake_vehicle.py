"""A small scripted vehicle built from pymavlink, on loopback UDP, for the link's unit tests.

It speaks enough MAVLink like ArduCopter to exercise the ground-station side: heartbeats,
telemetry once streams are asked for, the mission protocol (with scripted request orders,
dropped messages, rejections and corrupted read-backs), COMMAND_LONG with scripted results,
and TERRAIN_REQUEST on demand. Everything it receives is recorded for assertions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.vehicles.items import WireItem

ACCEPTED = mavlink.MAV_RESULT_ACCEPTED


class _Writer:
    def __init__(self, fake: FakeVehicle) -> None:
        self.fake = fake

    def write(self, data: bytes) -> None:
        self.fake.send_raw(bytes(data))


class FakeVehicle:
    """See the module docstring. Attributes named ``*_script``/``drop_*``/... steer behaviour."""

    def __init__(
        self,
        *,
        system_id: int = 1,
        autopilot: int = mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
        mav_type: int = mavlink.MAV_TYPE_QUADROTOR,
        gcs_addr: tuple[str, int] | None = None,
        signing_key: bytes | None = None,
        accept_unsigned: bool = False,
        heartbeat_period_s: float = 0.1,
        telemetry_period_s: float = 0.1,
        **overrides: Any,
    ) -> None:
        self.system_id = system_id
        self.autopilot = autopilot
        self.mav_type = mav_type
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.01)
        self.port = self.sock.getsockname()[1]
        self.gcs_addr = gcs_addr
        self._follow_gcs = gcs_addr is None  # answer whoever spoke last (a new link, a new port)
        self.tx = mavlink.MAVLink(_Writer(self), srcSystem=system_id, srcComponent=1)
        self.rx = mavlink.MAVLink(None, srcSystem=system_id, srcComponent=1)
        self.rx.robust_parsing = True
        if signing_key is not None:
            for mav in (self.tx, self.rx):
                mav.signing.secret_key = signing_key
                mav.signing.sign_outgoing = True
                mav.signing.timestamp = int((time.time() - 1420070400) * 100_000)
                if accept_unsigned:
                    mav.signing.allow_unsigned_callback = lambda _m, _i: True
        self._send_lock = threading.Lock()
        self.lock = threading.RLock()
        self.received: list[Any] = []
        self.heartbeat_enabled = True
        self.heartbeat_period_s = heartbeat_period_s
        self.telemetry_period_s = telemetry_period_s
        self.custom_mode = 0
        self.armed = False
        self.position_deg: tuple[float, float] | None = (47.397742, 8.545594)
        self.home: tuple[float, float, float] | None = (47.397742, 8.545594, 488.0)
        self.streams_requested = False
        self.mission_current = 0
        # mission protocol
        self.lists: dict[int, list[WireItem]] = {0: [], 1: [], 2: []}
        self.request_kind = "MISSION_REQUEST"  # or "MISSION_REQUEST_INT"
        self.request_script: Callable[[int], list[int]] = lambda n: list(range(n))
        self.drop_counts = 0  # ignore this many MISSION_COUNT
        self.drop_final_acks = 0  # lose the ACCEPTED of this many completed uploads
        self.count_result: int | None = None  # answer MISSION_COUNT with this MISSION_ACK
        self.reject_item: tuple[int, int] | None = None  # (seq, result): answer that item with an ACK
        self.silent_after_item: int | None = None  # stop answering an upload after this seq ...
        self.silent_uploads = 0  # ... for this many uploads
        self.drop_item_once: set[int] = set()  # ignore the first copy of these seqs
        self.corrupt_downloads = 0  # change param1 of the last item in this many read-backs
        self.download_float_items = False  # answer with MISSION_ITEM instead of MISSION_ITEM_INT
        self.download_reject: dict[int, int] = {}  # mission_type -> result for REQUEST_LIST
        self.uploads_started = 0
        self.uploads_completed = 0
        self.downloads = 0
        self.clears = 0
        self._upload: dict[str, Any] | None = None
        # commands: command id -> list of per-call scripts; each script a list of MAV_RESULTs
        # (empty: no answer); unscripted commands are ACCEPTED
        self.command_script: dict[int, list[list[int]]] = {}
        self.statustext_on_refusal = ""
        self.autofly_step_s: float | None = None  # fly the mission when started (seq per step)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fake vehicle {system_id}", daemon=True)
        for name, value in overrides.items():  # any attribute above, set before the vehicle starts
            if not hasattr(self, name):
                raise AttributeError(name)
            setattr(self, name, value)

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> FakeVehicle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    # -- sending --------------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        if self.gcs_addr is None:
            return
        with contextlib.suppress(OSError):
            self.sock.sendto(data, self.gcs_addr)

    def send(self, msg: Any) -> None:
        with self._send_lock:
            self.tx.send(msg)

    def statustext(self, text: str, severity: int = mavlink.MAV_SEVERITY_CRITICAL) -> None:
        self.send(mavlink.MAVLink_statustext_message(severity, text.encode()))

    # -- queries ------------------------------------------------------------------------------------

    def got(self, kind: str) -> list[Any]:
        with self.lock:
            return [m for m in self.received if m.get_type() == kind]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 3.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)

    # -- loop ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        next_hb = 0.0
        next_tel = 0.0
        next_fly = 0.0
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                data = b""
            else:
                if self._follow_gcs:
                    self.gcs_addr = addr
                for msg in self.rx.parse_buffer(data) or []:
                    if msg.get_type() == "BAD_DATA":
                        continue
                    with self.lock:
                        self.received.append(msg)
                        self._handle(msg)
            now = time.monotonic()
            if self.heartbeat_enabled and now >= next_hb:
                next_hb = now + self.heartbeat_period_s
                self._heartbeat()
            if self.streams_requested and self.heartbeat_enabled and now >= next_tel:
                next_tel = now + self.telemetry_period_s
                self._telemetry()
            if self.autofly_step_s is not None and now >= next_fly:
                next_fly = now + self.autofly_step_s
                with self.lock:
                    self._fly_step()

    def _heartbeat(self) -> None:
        base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (
            mavlink.MAV_MODE_FLAG_SAFETY_ARMED if self.armed else 0
        )
        self.send(
            mavlink.MAVLink_heartbeat_message(
                self.mav_type, self.autopilot, base, self.custom_mode, mavlink.MAV_STATE_STANDBY, 3
            )
        )

    def _telemetry(self) -> None:
        lat, lon = self.position_deg or (0.0, 0.0)
        self.send(
            mavlink.MAVLink_global_position_int_message(
                0, round(lat * 1e7), round(lon * 1e7), 500_000, 12_000, 300, 400, 0, 9000
            )
        )
        self.send(mavlink.MAVLink_sys_status_message(0, 0, 0, 0, 12_600, -1, 76, 0, 0, 0, 0, 0, 0))
        self.send(mavlink.MAVLink_gps_raw_int_message(0, 3, 0, 0, 0, 0, 0, 0, 0, 12))
        self.send(mavlink.MAVLink_mission_current_message(self.mission_current))

    def _fly_step(self) -> None:
        items = self.lists[0]
        if not self.armed or self.custom_mode != 3 or not items:
            return
        if self.mission_current < len(items) - 1:
            self.mission_current = max(1, self.mission_current + 1)
            self.send(mavlink.MAVLink_mission_item_reached_message(self.mission_current))
        else:
            self.armed = False  # landed
            self.autofly_step_s = None

    def _ack(self, mission_type: int, result: int) -> None:
        self.send(mavlink.MAVLink_mission_ack_message(255, 190, result, mission_type))

    def _request(self, seq: int, mission_type: int) -> None:
        if self.request_kind == "MISSION_REQUEST":
            self.send(mavlink.MAVLink_mission_request_message(255, 190, seq, mission_type))
        else:
            self.send(mavlink.MAVLink_mission_request_int_message(255, 190, seq, mission_type))

    def _handle(self, msg: Any) -> None:
        kind = msg.get_type()
        handler = getattr(self, f"_on_{kind.lower()}", None)
        if handler is not None:
            handler(msg)

    # mission upload
    def _on_mission_count(self, msg: Any) -> None:
        if self.drop_counts > 0:
            self.drop_counts -= 1
            return
        if self.count_result is not None:
            self._ack(msg.mission_type, self.count_result)
            return
        self.uploads_started += 1
        order = self.request_script(msg.count)
        self._upload = {
            "type": msg.mission_type,
            "count": msg.count,
            "order": order,
            "i": 0,
            "items": {},
            "silent": self.silent_uploads > 0,
        }
        if self.silent_uploads > 0:
            self.silent_uploads -= 1
        self.lists[msg.mission_type] = []  # ArduPilot truncates when an upload starts
        if msg.count == 0:
            self._upload = None
            self.uploads_completed += 1
            self._ack(msg.mission_type, ACCEPTED)
            return
        self._request(order[0], msg.mission_type)

    def _on_mission_item_int(self, msg: Any) -> None:
        up = self._upload
        if up is None:
            self._ack(msg.mission_type, mavlink.MAV_MISSION_ERROR)  # ArduPilot: no upload in progress
            return
        if msg.mission_type != up["type"]:
            return
        if msg.seq in self.drop_item_once:
            self.drop_item_once.discard(msg.seq)
            return
        if self.reject_item is not None and msg.seq == self.reject_item[0]:
            self._upload = None
            self._ack(msg.mission_type, self.reject_item[1])
            return
        if up["silent"] and self.silent_after_item is not None and msg.seq >= self.silent_after_item:
            self.lists[up["type"]] = [WireItem.from_message(m) for _, m in sorted(up["items"].items())]
            return
        if msg.seq != up["order"][up["i"]]:
            return  # not the one asked for: ignore, the GCS will re-send after its timeout
        up["items"][msg.seq] = msg
        # ArduPilot writes each item as it arrives
        self.lists[up["type"]] = [WireItem.from_message(m) for _, m in sorted(up["items"].items())]
        up["i"] += 1
        if up["i"] >= len(up["order"]):
            self._upload = None
            self.uploads_completed += 1
            if self.drop_final_acks > 0:
                self.drop_final_acks -= 1
                return
            self._ack(msg.mission_type, ACCEPTED)
        else:
            self._request(up["order"][up["i"]], up["type"])

    # mission download
    def _on_mission_request_list(self, msg: Any) -> None:
        result = self.download_reject.get(msg.mission_type)
        if result is not None:
            self._ack(msg.mission_type, result)
            return
        self.downloads += 1
        items = self.lists[msg.mission_type]
        self.send(mavlink.MAVLink_mission_count_message(255, 190, len(items), msg.mission_type))

    def _on_mission_request_int(self, msg: Any) -> None:
        items = self.lists[msg.mission_type]
        if not 0 <= msg.seq < len(items):
            self._ack(msg.mission_type, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            return
        item = items[msg.seq]
        if self.corrupt_downloads > 0 and msg.seq == len(items) - 1:
            self.corrupt_downloads -= 1
            item = dataclasses.replace(item, param1=item.param1 + 1.0)
        if self.download_float_items:
            self.send(
                mavlink.MAVLink_mission_item_message(
                    255, 190, msg.seq, item.frame, item.command, 0, int(item.autocontinue),
                    item.param1, item.param2, item.param3, item.param4,
                    item.x * 1e-7, item.y * 1e-7, item.z, msg.mission_type,
                )
            )  # fmt: skip
        else:
            self.send(
                item.to_message(
                    target_system=255, target_component=190, seq=msg.seq, mission_type=msg.mission_type
                )
            )

    _on_mission_request = _on_mission_request_int

    def _on_mission_clear_all(self, msg: Any) -> None:
        self.clears += 1
        self.lists[msg.mission_type] = []
        self._ack(msg.mission_type, ACCEPTED)

    # commands
    def _on_command_long(self, msg: Any) -> None:
        scripts = self.command_script.get(msg.command)
        results = scripts.pop(0) if scripts else [ACCEPTED]
        if (
            any(r != ACCEPTED and r != mavlink.MAV_RESULT_IN_PROGRESS for r in results)
            and self.statustext_on_refusal
        ):
            self.statustext(self.statustext_on_refusal)
        for result in results:
            if result == ACCEPTED:
                self._apply(msg)
            self.send(mavlink.MAVLink_command_ack_message(msg.command, result, 0, 0, 255, 190))
            if result == mavlink.MAV_RESULT_IN_PROGRESS:
                time.sleep(0.05)

    def _apply(self, msg: Any) -> None:
        if msg.command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
            self.streams_requested = True
        elif msg.command == mavlink.MAV_CMD_REQUEST_MESSAGE and int(msg.param1) == 242 and self.home:
            lat, lon, alt = self.home
            self.send(
                mavlink.MAVLink_home_position_message(
                    round(lat * 1e7), round(lon * 1e7), round(alt * 1e3), 0, 0, 0, [1, 0, 0, 0], 0, 0, 0
                )
            )
        elif msg.command == mavlink.MAV_CMD_DO_SET_MODE:
            self.custom_mode = int(msg.param2)
        elif msg.command == mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
            self.armed = msg.param1 == 1.0
        elif msg.command == mavlink.MAV_CMD_DO_SET_MISSION_CURRENT:
            self.mission_current = int(msg.param1)
        elif msg.command == mavlink.MAV_CMD_MISSION_START:
            self.mission_current = max(1, self.mission_current)

    def _on_request_data_stream(self, msg: Any) -> None:
        self.streams_requested = True
