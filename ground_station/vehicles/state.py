"""Live vehicle state, built from the telemetry a vehicle streams.

:class:`StateTracker` is fed every message from one system id (by the link's reader thread)
and hands out immutable :class:`VehicleState` snapshots. Link health comes from the age of
the last HEARTBEAT: ``ok`` below ``degraded_after_s``, ``degraded`` below ``lost_after_s``,
then ``lost``; it goes back to ``ok`` by itself when heartbeats return.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.planning.mission import HomePosition

#: Positions this close to 0,0 (degrees) are ArduPilot's "no position yet", until home is known.
_NULL_ISLAND_DEG = 1e-3
_STATUSTEXT_LINES = 20


class LinkHealth(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    LOST = "lost"


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthThresholds:
    """Heartbeat ages (seconds) at which a link turns degraded, then lost."""

    degraded_after_s: float = 1.5
    lost_after_s: float = 4.0

    def classify(self, heartbeat_age_s: float) -> LinkHealth:
        if heartbeat_age_s < self.degraded_after_s:
            return LinkHealth.OK
        if heartbeat_age_s < self.lost_after_s:
            return LinkHealth.DEGRADED
        return LinkHealth.LOST


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusText:
    severity: int
    text: str
    received_monotonic_s: float


@dataclass(frozen=True, kw_only=True)
class VehicleState:
    """A snapshot of one vehicle. ``None`` means "not reported yet"."""

    system_id: int
    component_id: int = 1
    firmware: str = "generic"  # "ardupilot", "px4" or "generic" (from HEARTBEAT.autopilot)
    mav_type: int = 0
    mode: str = ""
    custom_mode: int = 0
    base_mode: int = 0
    armed: bool = False
    system_status: int = 0
    lat_deg: float | None = None
    lon_deg: float | None = None
    altitude_amsl_m: float | None = None
    altitude_rel_m: float | None = None
    heading_deg: float | None = None
    ground_speed_m_s: float | None = None
    climb_rate_m_s: float | None = None
    roll_deg: float | None = None
    pitch_deg: float | None = None
    yaw_deg: float | None = None
    battery_remaining_pct: float | None = None
    battery_voltage_v: float | None = None
    gps_fix_type: int = 0
    satellites_visible: int | None = None
    mission_current_seq: int | None = None
    mission_total: int | None = None
    last_reached_seq: int | None = None
    home: HomePosition | None = None
    statustext: tuple[str, ...] = ()
    health: LinkHealth = LinkHealth.LOST
    heartbeat_age_s: float = math.inf
    messages_received: int = 0

    @property
    def has_position(self) -> bool:
        return self.lat_deg is not None and self.lon_deg is not None

    @property
    def gps_fix(self) -> str:
        entry = mavlink.enums["GPS_FIX_TYPE"].get(self.gps_fix_type)
        return entry.name.removeprefix("GPS_FIX_TYPE_") if entry is not None else str(self.gps_fix_type)

    @property
    def last_statustext(self) -> str:
        return self.statustext[-1] if self.statustext else ""


def firmware_of(autopilot: int) -> str:
    if autopilot == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA:
        return "ardupilot"
    if autopilot == mavlink.MAV_AUTOPILOT_PX4:
        return "px4"
    return "generic"


def _ardupilot_modes(mav_type: int) -> dict[int, str]:
    mapping = mavutil.mode_mapping_bynumber(mav_type)
    return dict(mapping) if mapping else dict(mavutil.mode_mapping_acm)


def mode_name(*, firmware: str, mav_type: int, base_mode: int, custom_mode: int) -> str:
    """The flight-mode name of a HEARTBEAT (ArduPilot's names by vehicle type, PX4's main/sub mode)."""
    if firmware == "px4":
        return str(mavutil.interpret_px4_mode(base_mode, custom_mode))
    if firmware == "ardupilot" or base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
        return _ardupilot_modes(mav_type).get(custom_mode, f"MODE({custom_mode})")
    return f"MODE({custom_mode})"


def mode_numbers(*, firmware: str, mav_type: int, name: str) -> tuple[int, int, int] | None:
    """``(base_mode, custom main mode, sub mode)`` for MAV_CMD_DO_SET_MODE, or None if unknown."""
    key = name.upper()
    if firmware == "px4":
        entry = mavutil.px4_map.get(key)
        return (int(entry[0]), int(entry[1]), int(entry[2])) if entry is not None else None
    by_name = {v: k for k, v in _ardupilot_modes(mav_type).items()}
    number = by_name.get(key)
    if number is None:
        return None
    return mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, number, 0


def mode_names(*, firmware: str, mav_type: int) -> list[str]:
    if firmware == "px4":
        return sorted(mavutil.px4_map)
    return sorted(_ardupilot_modes(mav_type).values())


class StateTracker:
    """Mutable state of one vehicle, updated from its messages (thread-safe)."""

    def __init__(self, system_id: int, thresholds: HealthThresholds) -> None:
        self._lock = threading.Lock()
        self._thresholds = thresholds
        self._state = VehicleState(system_id=system_id)
        self._fields: dict[str, Any] = {}
        self._last_heartbeat: float | None = None
        self._statustext: list[StatusText] = []
        self.statustext_changed = threading.Condition(self._lock)

    # -- reading ----------------------------------------------------------------------------

    def snapshot(self, now: float | None = None) -> VehicleState:
        with self._lock:
            return self._snapshot_locked(time.monotonic() if now is None else now)

    def _snapshot_locked(self, now: float) -> VehicleState:
        age = math.inf if self._last_heartbeat is None else max(0.0, now - self._last_heartbeat)
        fields = dict(self._fields)
        fields["statustext"] = tuple(s.text for s in self._statustext)
        fields["heartbeat_age_s"] = age
        fields["health"] = self._thresholds.classify(age)
        self._state = dataclasses.replace(self._state, **fields)
        self._fields.clear()
        return self._state

    def health(self, now: float) -> LinkHealth:
        with self._lock:
            age = math.inf if self._last_heartbeat is None else now - self._last_heartbeat
        return self._thresholds.classify(age)

    def statustexts_since(self, monotonic_s: float) -> list[StatusText]:
        with self._lock:
            return [s for s in self._statustext if s.received_monotonic_s >= monotonic_s]

    def latest_statustext(self) -> str:
        with self._lock:
            return self._statustext[-1].text if self._statustext else ""

    @property
    def firmware(self) -> str:
        with self._lock:
            return str(self._fields.get("firmware", self._state.firmware))

    @property
    def mav_type(self) -> int:
        with self._lock:
            return int(self._fields.get("mav_type", self._state.mav_type))

    @property
    def home_known(self) -> bool:
        with self._lock:
            return self._fields.get("home", self._state.home) is not None

    # -- writing ----------------------------------------------------------------------------

    def _set(self, **fields: Any) -> None:
        self._fields.update(fields)

    def _home_locked(self) -> HomePosition | None:
        home = self._fields.get("home", self._state.home)
        return home if isinstance(home, HomePosition) else None

    def update(self, msg: Any, now: float) -> str | None:
        """Apply one message; returns the STATUSTEXT line it carried, if any."""
        kind = msg.get_type()
        handler = _HANDLERS.get(kind)
        with self._lock:
            self._fields["messages_received"] = (
                self._fields.get("messages_received", self._state.messages_received) + 1
            )
            if kind == "HEARTBEAT":
                self._heartbeat(msg, now)
                return None
            if kind == "STATUSTEXT":
                text = str(msg.text).rstrip("\x00").strip()
                self._statustext.append(
                    StatusText(severity=int(msg.severity), text=text, received_monotonic_s=now)
                )
                del self._statustext[:-_STATUSTEXT_LINES]
                self.statustext_changed.notify_all()
                return text
            if handler is not None:
                handler(self, msg)
        return None

    def _heartbeat(self, msg: Any, now: float) -> None:
        self._last_heartbeat = now
        firmware = firmware_of(int(msg.autopilot))
        self._set(
            component_id=int(msg.get_srcComponent()),
            firmware=firmware,
            mav_type=int(msg.type),
            base_mode=int(msg.base_mode),
            custom_mode=int(msg.custom_mode),
            armed=bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED),
            system_status=int(msg.system_status),
            mode=mode_name(
                firmware=firmware,
                mav_type=int(msg.type),
                base_mode=int(msg.base_mode),
                custom_mode=int(msg.custom_mode),
            ),
        )

    def _global_position(self, msg: Any) -> None:
        lat, lon = msg.lat * 1e-7, msg.lon * 1e-7
        if self._home_locked() is None and abs(lat) < _NULL_ISLAND_DEG and abs(lon) < _NULL_ISLAND_DEG:
            return  # ArduPilot before its first fix: not a position
        fields: dict[str, Any] = {
            "lat_deg": lat,
            "lon_deg": lon,
            "altitude_amsl_m": msg.alt * 1e-3,
            "altitude_rel_m": msg.relative_alt * 1e-3,
            "ground_speed_m_s": math.hypot(msg.vx, msg.vy) * 1e-2,
        }
        if msg.hdg != 65535:
            fields["heading_deg"] = msg.hdg * 1e-2
        self._set(**fields)

    def _attitude(self, msg: Any) -> None:
        self._set(
            roll_deg=math.degrees(msg.roll), pitch_deg=math.degrees(msg.pitch), yaw_deg=math.degrees(msg.yaw)
        )

    def _vfr_hud(self, msg: Any) -> None:
        self._set(
            ground_speed_m_s=float(msg.groundspeed), heading_deg=float(msg.heading), climb_rate_m_s=msg.climb
        )

    def _sys_status(self, msg: Any) -> None:
        fields: dict[str, Any] = {}
        if msg.voltage_battery not in (0, 65535):
            fields["battery_voltage_v"] = msg.voltage_battery * 1e-3
        if msg.battery_remaining >= 0:
            fields["battery_remaining_pct"] = float(msg.battery_remaining)
        self._set(**fields)

    def _battery_status(self, msg: Any) -> None:
        if msg.id != 0:
            return
        fields: dict[str, Any] = {}
        if msg.battery_remaining >= 0:
            fields["battery_remaining_pct"] = float(msg.battery_remaining)
        cells = [v for v in msg.voltages if v != 65535]
        if cells:
            fields["battery_voltage_v"] = sum(cells) * 1e-3
        self._set(**fields)

    def _gps_raw(self, msg: Any) -> None:
        fields: dict[str, Any] = {"gps_fix_type": int(msg.fix_type)}
        if msg.satellites_visible != 255:
            fields["satellites_visible"] = int(msg.satellites_visible)
        self._set(**fields)

    def _mission_current(self, msg: Any) -> None:
        fields: dict[str, Any] = {"mission_current_seq": int(msg.seq)}
        total = getattr(msg, "total", 0)
        if total and total != 65535:
            fields["mission_total"] = int(total)
        self._set(**fields)

    def _item_reached(self, msg: Any) -> None:
        self._set(last_reached_seq=int(msg.seq))

    def _home_position(self, msg: Any) -> None:
        self._set(
            home=HomePosition(
                lat_deg=msg.latitude * 1e-7, lon_deg=msg.longitude * 1e-7, altitude_amsl_m=msg.altitude * 1e-3
            )
        )


_HANDLERS: dict[str, Any] = {
    "GLOBAL_POSITION_INT": StateTracker._global_position,
    "ATTITUDE": StateTracker._attitude,
    "VFR_HUD": StateTracker._vfr_hud,
    "SYS_STATUS": StateTracker._sys_status,
    "BATTERY_STATUS": StateTracker._battery_status,
    "GPS_RAW_INT": StateTracker._gps_raw,
    "MISSION_CURRENT": StateTracker._mission_current,
    "MISSION_ITEM_REACHED": StateTracker._item_reached,
    "HOME_POSITION": StateTracker._home_position,
}
