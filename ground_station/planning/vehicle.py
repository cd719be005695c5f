"""Vehicle profiles: the limits the planner and the simulator read from a firmware parameter file.

Two file formats, both what ground stations save and load:

* ArduPilot ``.parm`` / ``.param`` (Mission Planner, MAVProxy ``param load``, SITL ``--defaults``):
  one ``NAME VALUE`` (or ``NAME,VALUE``) pair per line, ``#`` starts a comment, values may be
  hexadecimal (``0x..``).
* QGroundControl ``.params`` (PX4, and ArduPilot saved from QGC): one tab-separated line per
  parameter, ``VEHICLE-ID COMPONENT-ID NAME VALUE TYPE`` (``TYPE`` is a MAV_PARAM_TYPE, 1-10),
  ``#`` comment lines. Only the autopilot's component is read (component 1, else the lowest id).

A file with another suffix is read in whichever format its first parameter line has.

Neither firmware has a parameter for the expected average current (ArduPilot) or for the number
of mission items the vehicle stores (both), so the planner also reads *planner annotations*:
comment lines ``#@ NAME VALUE``, which flight software and ground stations skip as comments.
The names are in :data:`ANNOTATIONS`. :func:`read_parameter_file` returns them with the
parameters, under their lowercase names.

How the profile is computed (SI units; ArduCopter <= 4.6 names in cm, 4.7+ renamed in m)::

    field                  ArduPilot                                   PX4
    cruise_speed_m_s       WPNAV_SPEED cm/s (WP_SPD m/s)               min(MPC_XY_CRUISE, MPC_XY_VEL_MAX)
    climb_rate_m_s         WPNAV_SPEED_UP cm/s (WP_SPD_UP m/s)         min(MPC_Z_V_AUTO_UP, MPC_Z_VEL_MAX_UP)
    descent_rate_m_s       WPNAV_SPEED_DN cm/s (WP_SPD_DN m/s)         min(MPC_Z_V_AUTO_DN, MPC_Z_VEL_MAX_DN)
    acceleration_m_s2      WPNAV_ACCEL cm/s/s (WP_ACC m/s/s)           MPC_ACC_HOR
    waypoint_radius_m      WPNAV_RADIUS cm (WP_RADIUS_M m)             NAV_ACC_RAD
    rtl_altitude_m         RTL_ALT cm (RTL_ALT_M m)                    RTL_RETURN_ALT
    endurance_s            BATT_CAPACITY / #@ cruise_current_a         BAT1_CAPACITY / BAT_AVRG_CURRENT,
                                                                       capped by COM_FLT_TIME_MAX > 0
    reserve_fraction       BATT_LOW_MAH / BATT_CAPACITY, >= 0.2        BAT_LOW_THR, >= 0.2
    mission_item_limit     #@ mission_item_limit                       #@ mission_item_limit
    max_altitude_agl_m     FENCE_ALT_MAX if FENCE_ENABLE and the       GF_MAX_VER_DIST if > 0 and
                           FENCE_TYPE altitude bit (1), else 120       GF_ACTION != 0, else 120
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from ground_station.planning.errors import VehicleProfileError

Firmware = Literal["ardupilot", "px4"]

#: Ceiling above the ground when the firmware sets none (the common 120 m / 400 ft rule).
DEFAULT_CEILING_AGL_M = 120.0
#: The landing reserve is never planned below this fraction of the pack.
MIN_RESERVE_FRACTION = 0.2

#: Planner annotations (``#@ NAME VALUE`` comment lines): name -> what it means.
ANNOTATIONS: Mapping[str, str] = MappingProxyType(
    {
        "cruise_current_a": "expected average current in flight, A (ArduPilot; PX4 has BAT_AVRG_CURRENT)",
        "mission_item_limit": "number of mission items the vehicle stores",
    }
)

DEFAULT_PROFILE_FILE = "patrol-quad.arducopter.parm"

_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
_INTEGER_PARAM_TYPES = range(1, 9)  # MAV_PARAM_TYPE UINT8 .. INT64; 9 REAL32, 10 REAL64
_FileKind = Literal["parm", "qgc"]
_PARM_FORMAT = "`NAME VALUE` (ArduPilot .parm)"
_QGC_FORMAT = "`VEHICLE-ID<tab>COMPONENT-ID<tab>NAME<tab>VALUE<tab>TYPE` (QGroundControl .params)"


@dataclass(frozen=True, kw_only=True)
class VehicleProfile:
    """What the planner needs to know of a vehicle, in SI units, and every parameter read.

    ``endurance_s`` is a full pack at the expected average current (capped by a maximum flight
    time where the firmware has one); ``reserve_fraction`` is the share of the pack kept for
    landing, taken from the low-battery failsafe and never below 0.2 when loaded from a file.
    ``max_altitude_agl_m`` is the ceiling the planner keeps above the ground. ``params`` holds
    every parameter and planner annotation read from the file, for the simulator.
    """

    name: str
    firmware: Firmware
    cruise_speed_m_s: float
    climb_rate_m_s: float
    descent_rate_m_s: float
    acceleration_m_s2: float
    waypoint_radius_m: float
    rtl_altitude_m: float
    endurance_s: float
    reserve_fraction: float
    mission_item_limit: int
    max_altitude_agl_m: float = DEFAULT_CEILING_AGL_M
    params: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.firmware not in ("ardupilot", "px4"):
            raise VehicleProfileError(f"expected firmware 'ardupilot' or 'px4', got {self.firmware!r}")
        positive = {
            "cruise_speed_m_s": self.cruise_speed_m_s,
            "climb_rate_m_s": self.climb_rate_m_s,
            "descent_rate_m_s": self.descent_rate_m_s,
            "acceleration_m_s2": self.acceleration_m_s2,
            "waypoint_radius_m": self.waypoint_radius_m,
            "endurance_s": self.endurance_s,
            "max_altitude_agl_m": self.max_altitude_agl_m,
        }
        for key, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise VehicleProfileError(f"vehicle {self.name!r}: expected a positive {key}, got {value}")
        if not (math.isfinite(self.rtl_altitude_m) and self.rtl_altitude_m >= 0):
            raise VehicleProfileError(
                f"vehicle {self.name!r}: expected rtl_altitude_m >= 0, got {self.rtl_altitude_m}"
            )
        if not 0.0 <= self.reserve_fraction < 1.0:
            raise VehicleProfileError(
                f"vehicle {self.name!r}: expected reserve_fraction in [0, 1), got {self.reserve_fraction}"
            )
        if isinstance(self.mission_item_limit, bool) or not isinstance(self.mission_item_limit, int):
            raise VehicleProfileError(
                f"vehicle {self.name!r}: expected an integer mission_item_limit, "
                f"got {self.mission_item_limit!r}"
            )
        if self.mission_item_limit < 1:
            raise VehicleProfileError(
                f"vehicle {self.name!r}: expected mission_item_limit >= 1, got {self.mission_item_limit}"
            )
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def usable_endurance_s(self) -> float:
        """Flight time the planner may spend: the endurance less the landing reserve."""
        return self.endurance_s * (1.0 - self.reserve_fraction)


# --- reading the files -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Entry:
    value: float
    line: int


@dataclass(frozen=True, kw_only=True)
class _ParameterFile:
    path: Path
    kind: _FileKind
    params: dict[str, _Entry]
    annotations: dict[str, _Entry]


def _fail(path: Path, line: int, message: str) -> VehicleProfileError:
    return VehicleProfileError(f"{path}: line {line}: {message}")


def _number(path: Path, line: int, token: str, name: str) -> float:
    try:
        value = float(int(token[2:], 16)) if token.lower().startswith("0x") else float(token)
    except ValueError:
        raise _fail(path, line, f"expected a number for {name}, got {token!r}") from None
    if not math.isfinite(value):
        raise _fail(path, line, f"expected a finite number for {name}, got {token!r}")
    return value


def _check_name(path: Path, line: int, name: str, raw: str) -> None:
    if not _NAME.fullmatch(name):
        raise _fail(
            path,
            line,
            f"expected a parameter name of 1-16 characters A-Z, 0-9 and _ starting with a letter, "
            f"got {name!r} in {raw!r}",
        )


def _kind_of(path: Path, lines: list[str]) -> _FileKind:
    suffix = path.suffix.lower()
    if suffix in (".parm", ".param"):
        return "parm"
    if suffix == ".params":
        return "qgc"
    for raw in lines:
        text = raw.strip()
        if text and not text.startswith("#"):
            return "qgc" if len(text.split()) == 5 else "parm"
    return "parm"


def _parse(path: str | Path) -> _ParameterFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VehicleProfileError(f"{path}: cannot read the parameter file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise VehicleProfileError(f"{path}: expected a UTF-8 text parameter file ({exc.reason})") from exc
    lines = text.splitlines()
    kind = _kind_of(path, lines)
    by_component: dict[int, dict[str, _Entry]] = {}
    annotations: dict[str, _Entry] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith("#@"):
            name, entry = _annotation(path, number, text)
            if name in annotations:
                raise _fail(
                    path, number, f"annotation {name} given twice (first on line {annotations[name].line})"
                )
            annotations[name] = entry
            continue
        if text.startswith("#"):
            continue
        component, name, entry = (
            _parm_line(path, number, text) if kind == "parm" else _qgc_line(path, number, text)
        )
        params = by_component.setdefault(component, {})
        if name in params:
            raise _fail(path, number, f"{name} set twice (first on line {params[name].line})")
        params[name] = entry
    if not by_component:
        raise VehicleProfileError(
            f"{path}: expected parameter lines in {_PARM_FORMAT if kind == 'parm' else _QGC_FORMAT} format, "
            "found none"
        )
    autopilot = 1 if 1 in by_component else min(by_component)
    return _ParameterFile(path=path, kind=kind, params=by_component[autopilot], annotations=annotations)


def _annotation(path: Path, line: int, text: str) -> tuple[str, _Entry]:
    tokens = text[2:].split("#", 1)[0].split()
    if len(tokens) != 2:
        raise _fail(path, line, f"expected a planner annotation `#@ NAME VALUE`, got {text!r}")
    name, token = tokens
    if name not in ANNOTATIONS:
        raise _fail(
            path, line, f"unknown planner annotation {name!r}; expected one of {', '.join(ANNOTATIONS)}"
        )
    return name, _Entry(value=_number(path, line, token, name), line=line)


def _parm_line(path: Path, line: int, text: str) -> tuple[int, str, _Entry]:
    tokens = text.split("#", 1)[0].replace(",", " ").split()
    if len(tokens) != 2:
        raise _fail(path, line, f"expected {_PARM_FORMAT}, got {text!r}")
    name, token = tokens
    _check_name(path, line, name, text)
    return 1, name, _Entry(value=_number(path, line, token, name), line=line)


def _qgc_line(path: Path, line: int, text: str) -> tuple[int, str, _Entry]:
    tokens = text.split()
    if len(tokens) != 5:
        raise _fail(path, line, f"expected {_QGC_FORMAT}, got {text!r}")
    vehicle, component, name, token, type_token = tokens
    try:
        int(vehicle)
        component_id = int(component)
        param_type = int(type_token)
    except ValueError:
        raise _fail(
            path, line, f"expected integer vehicle id, component id and type in {_QGC_FORMAT}, got {text!r}"
        ) from None
    _check_name(path, line, name, text)
    if not 1 <= param_type <= 10:
        raise _fail(path, line, f"expected a MAV_PARAM_TYPE from 1 to 10 for {name}, got {param_type}")
    value = _number(path, line, token, name)
    if param_type in _INTEGER_PARAM_TYPES and not value.is_integer():
        raise _fail(path, line, f"expected an integer value for {name} (type {param_type}), got {token!r}")
    return component_id, name, _Entry(value=value, line=line)


def read_parameter_file(path: str | Path) -> dict[str, float]:
    """Every parameter in an ArduPilot ``.parm`` or QGroundControl ``.params`` file, by name.

    Planner annotations (``#@ NAME VALUE``) come with them under their lowercase names.
    Raises :class:`VehicleProfileError` naming the file and line of anything malformed.
    """
    return _values(_parse(path))


def _values(pf: _ParameterFile) -> dict[str, float]:
    values = {name: entry.value for name, entry in pf.params.items()}
    values.update({name: entry.value for name, entry in pf.annotations.items()})
    return values


# --- from parameters to a profile ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Quantity:
    """One thing the planner reads: the parameter names that may set it and its sane range."""

    label: str
    names: tuple[tuple[str, float, str], ...]  # (parameter, scale to the SI unit, the parameter's unit)
    unit: str
    low: float  # exclusive
    high: float  # inclusive


def _read(pf: _ParameterFile, q: _Quantity) -> float | None:
    """The quantity in SI units, ``None`` when no parameter sets it; raises when out of range."""
    present = [(name, scale, unit) for name, scale, unit in q.names if name in pf.params]
    if len(present) > 1:
        (a, *_), (b, *_) = present[:2]
        raise VehicleProfileError(
            f"{pf.path}: {a} (line {pf.params[a].line}) and {b} (line {pf.params[b].line}) both set the "
            f"{q.label}: keep one"
        )
    if not present:
        return None
    name, scale, unit = present[0]
    entry = pf.params[name]
    value = entry.value * scale
    if not q.low < value <= q.high:
        shown = f"{entry.value:g} {unit}" + ("" if unit == q.unit else f" = {value:g} {q.unit}")
        raise _fail(
            pf.path,
            entry.line,
            f"{name} = {shown}: expected the {q.label} in ({q.low:g}, {q.high:g}] {q.unit}",
        )
    return value


def _required(pf: _ParameterFile, q: _Quantity) -> float:
    value = _read(pf, q)
    if value is None:
        wanted = " or ".join(f"{name} ({unit})" for name, _, unit in q.names)
        raise VehicleProfileError(f"{pf.path}: missing {wanted}: the planner needs the {q.label}")
    return value


def _q(label: str, unit: str, low: float, high: float, *names: tuple[str, float, str]) -> _Quantity:
    return _Quantity(label=label, names=names, unit=unit, low=low, high=high)


_SPEED_M_S = 30.0
_RATE_M_S = 10.0

_AP_CRUISE = _q("cruise speed", "m/s", 0, _SPEED_M_S, ("WPNAV_SPEED", 0.01, "cm/s"), ("WP_SPD", 1.0, "m/s"))
_AP_CLIMB = _q("climb rate", "m/s", 0, _RATE_M_S, ("WPNAV_SPEED_UP", 0.01, "cm/s"), ("WP_SPD_UP", 1.0, "m/s"))
_AP_DESCENT = _q(
    "descent rate", "m/s", 0, _RATE_M_S, ("WPNAV_SPEED_DN", 0.01, "cm/s"), ("WP_SPD_DN", 1.0, "m/s")
)
_AP_ACCEL = _q("acceleration", "m/s/s", 0, 15, ("WPNAV_ACCEL", 0.01, "cm/s/s"), ("WP_ACC", 1.0, "m/s/s"))
_AP_RADIUS = _q("waypoint radius", "m", 0, 200, ("WPNAV_RADIUS", 0.01, "cm"), ("WP_RADIUS_M", 1.0, "m"))
_AP_RTL_ALT = _q("return altitude", "m", 0, 3000, ("RTL_ALT", 0.01, "cm"), ("RTL_ALT_M", 1.0, "m"))
_AP_CAPACITY = _q("battery capacity", "mAh", 0, 1e6, ("BATT_CAPACITY", 1.0, "mAh"))
_AP_FENCE_ALT = _q("fence altitude", "m", 0, 10000, ("FENCE_ALT_MAX", 1.0, "m"))

_PX4_CRUISE = _q("cruise speed", "m/s", 0, _SPEED_M_S, ("MPC_XY_CRUISE", 1.0, "m/s"))
_PX4_VEL_MAX = _q("maximum horizontal speed", "m/s", 0, _SPEED_M_S, ("MPC_XY_VEL_MAX", 1.0, "m/s"))
_PX4_CLIMB_MAX = _q("maximum climb rate", "m/s", 0, _RATE_M_S, ("MPC_Z_VEL_MAX_UP", 1.0, "m/s"))
_PX4_CLIMB_AUTO = _q("mission climb rate", "m/s", 0, _RATE_M_S, ("MPC_Z_V_AUTO_UP", 1.0, "m/s"))
_PX4_DESCENT_MAX = _q("maximum descent rate", "m/s", 0, _RATE_M_S, ("MPC_Z_VEL_MAX_DN", 1.0, "m/s"))
_PX4_DESCENT_AUTO = _q("mission descent rate", "m/s", 0, _RATE_M_S, ("MPC_Z_V_AUTO_DN", 1.0, "m/s"))
_PX4_ACCEL = _q("acceleration", "m/s/s", 0, 15, ("MPC_ACC_HOR", 1.0, "m/s/s"))
_PX4_RADIUS = _q("waypoint radius", "m", 0, 200, ("NAV_ACC_RAD", 1.0, "m"))
_PX4_RTL_ALT = _q("return altitude", "m", 0, 3000, ("RTL_RETURN_ALT", 1.0, "m"))
_PX4_CAPACITY = _q(
    "battery capacity", "mAh", 0, 1e6, ("BAT1_CAPACITY", 1.0, "mAh"), ("BAT_CAPACITY", 1.0, "mAh")
)
_PX4_CURRENT = _q("expected average current", "A", 0, 500, ("BAT_AVRG_CURRENT", 1.0, "A"))
_PX4_FENCE_ALT = _q("fence altitude", "m", 0, 10000, ("GF_MAX_VER_DIST", 1.0, "m"))


def _firmware_of(pf: _ParameterFile) -> Firmware:
    if pf.kind == "parm":
        return "ardupilot"
    names = pf.params.keys()
    px4 = "MAV_SYS_ID" in names or any(n.startswith(("MPC_", "COM_")) for n in names)
    ardupilot = "SYSID_THISMAV" in names or any(n.startswith(("WPNAV_", "WP_", "BATT_")) for n in names)
    if px4 == ardupilot:
        raise VehicleProfileError(
            f"{pf.path}: cannot tell the firmware: expected PX4 parameters (MPC_*, COM_*, MAV_SYS_ID) "
            f"or ArduPilot ones (WPNAV_* or WP_*, BATT_*, SYSID_THISMAV), "
            f"found {'both' if px4 else 'neither'}"
        )
    return "px4" if px4 else "ardupilot"


def _annotation_value(pf: _ParameterFile, name: str, hint: str) -> _Entry:
    entry = pf.annotations.get(name)
    if entry is None:
        raise VehicleProfileError(
            f"{pf.path}: missing the planner annotation `#@ {name} VALUE` ({ANNOTATIONS[name]}){hint}"
        )
    return entry


def _mission_item_limit(pf: _ParameterFile) -> int:
    entry = _annotation_value(pf, "mission_item_limit", ": neither firmware has a parameter for it")
    if not (entry.value.is_integer() and 1 <= entry.value <= 65535):
        raise _fail(
            pf.path, entry.line, f"expected mission_item_limit an integer in [1, 65535], got {entry.value:g}"
        )
    return int(entry.value)


def _param(pf: _ParameterFile, name: str, default: float) -> float:
    entry = pf.params.get(name)
    return default if entry is None else entry.value


def _ardupilot(pf: _ParameterFile, values: dict[str, float]) -> VehicleProfile:
    current = _annotation_value(pf, "cruise_current_a", ": ArduPilot has no parameter for it")
    if not 0 < current.value <= 500:
        raise _fail(pf.path, current.line, f"expected cruise_current_a in (0, 500] A, got {current.value:g}")
    capacity_mah = _required(pf, _AP_CAPACITY)
    low = pf.params.get("BATT_LOW_MAH")
    low_mah = 0.0 if low is None else low.value
    if low is not None and not 0 <= low_mah < capacity_mah:
        raise _fail(
            pf.path,
            low.line,
            f"BATT_LOW_MAH = {low_mah:g} mAh: expected in [0, BATT_CAPACITY = {capacity_mah:g})",
        )
    ceiling = DEFAULT_CEILING_AGL_M
    fence_type = int(_param(pf, "FENCE_TYPE", 7))  # Copter's default: max altitude, circle, polygon
    if _param(pf, "FENCE_ENABLE", 0) == 1 and fence_type & 1:
        ceiling = _read(pf, _AP_FENCE_ALT) or 100.0  # Copter's default FENCE_ALT_MAX
    return VehicleProfile(
        name=pf.path.stem,
        firmware="ardupilot",
        cruise_speed_m_s=_required(pf, _AP_CRUISE),
        climb_rate_m_s=_required(pf, _AP_CLIMB),
        descent_rate_m_s=_required(pf, _AP_DESCENT),
        acceleration_m_s2=_required(pf, _AP_ACCEL),
        waypoint_radius_m=_required(pf, _AP_RADIUS),
        rtl_altitude_m=_required(pf, _AP_RTL_ALT),
        endurance_s=capacity_mah / 1000.0 / current.value * 3600.0,
        reserve_fraction=max(low_mah / capacity_mah, MIN_RESERVE_FRACTION),
        mission_item_limit=_mission_item_limit(pf),
        max_altitude_agl_m=ceiling,
        params=values,
    )


def _limited(pf: _ParameterFile, auto: _Quantity, maximum: _Quantity) -> float:
    """A mission rate: the auto-mode setting where given, never above the absolute maximum."""
    top = _required(pf, maximum)
    value = _read(pf, auto)
    return top if value is None else min(value, top)


def _px4(pf: _ParameterFile, values: dict[str, float]) -> VehicleProfile:
    if "cruise_current_a" in pf.annotations:
        raise _fail(
            pf.path,
            pf.annotations["cruise_current_a"].line,
            "PX4 has BAT_AVRG_CURRENT (A) for the expected average current: "
            "set that instead of #@ cruise_current_a",
        )
    capacity_mah = _required(pf, _PX4_CAPACITY)
    endurance_s = capacity_mah / 1000.0 / _required(pf, _PX4_CURRENT) * 3600.0
    max_flight = pf.params.get("COM_FLT_TIME_MAX")
    if max_flight is not None and max_flight.value > 0:
        endurance_s = min(endurance_s, max_flight.value)
    low = pf.params.get("BAT_LOW_THR")
    low_fraction = 0.15 if low is None else low.value  # PX4's default
    if low is not None and not 0 <= low_fraction < 1:
        raise _fail(
            pf.path, low.line, f"BAT_LOW_THR = {low_fraction:g}: expected a fraction of the pack in [0, 1)"
        )
    ceiling = DEFAULT_CEILING_AGL_M
    if _param(pf, "GF_ACTION", 1) != 0 and _param(pf, "GF_MAX_VER_DIST", 0) > 0:
        ceiling = _required(pf, _PX4_FENCE_ALT)
    cruise = _required(pf, _PX4_CRUISE)
    vel_max = _read(pf, _PX4_VEL_MAX)
    return VehicleProfile(
        name=pf.path.stem,
        firmware="px4",
        cruise_speed_m_s=cruise if vel_max is None else min(cruise, vel_max),
        climb_rate_m_s=_limited(pf, _PX4_CLIMB_AUTO, _PX4_CLIMB_MAX),
        descent_rate_m_s=_limited(pf, _PX4_DESCENT_AUTO, _PX4_DESCENT_MAX),
        acceleration_m_s2=_required(pf, _PX4_ACCEL),
        waypoint_radius_m=_required(pf, _PX4_RADIUS),
        rtl_altitude_m=_required(pf, _PX4_RTL_ALT),
        endurance_s=endurance_s,
        reserve_fraction=max(low_fraction, MIN_RESERVE_FRACTION),
        mission_item_limit=_mission_item_limit(pf),
        max_altitude_agl_m=ceiling,
        params=values,
    )


def load_vehicle_profile(path: str | Path) -> VehicleProfile:
    """Read an ArduPilot ``.parm`` or a QGroundControl ``.params`` file into a :class:`VehicleProfile`.

    Raises :class:`VehicleProfileError` naming the file (and line) for a malformed line, a missing
    parameter or annotation, or an impossible value (a non-positive speed, a reserve above the pack).
    """
    pf = _parse(path)
    return _ardupilot(pf, _values(pf)) if _firmware_of(pf) == "ardupilot" else _px4(pf, _values(pf))


def firmware_configs_dir() -> Path:
    """The repository's ``firmware_configs/`` folder (an editable install reads it in place)."""
    return Path(__file__).resolve().parents[2] / "firmware_configs"


def default_vehicle_profile() -> VehicleProfile:
    """The patrol quadcopter of ``firmware_configs/patrol-quad.arducopter.parm``."""
    return load_vehicle_profile(firmware_configs_dir() / DEFAULT_PROFILE_FILE)
