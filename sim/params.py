"""The simulated autopilot's parameters: loaded from an ArduPilot ``.parm`` file, served over MAVLink.

:class:`ParameterStore` holds ``NAME -> value`` for the parameters the simulator uses (and any
others the file sets, so a ground station sees what it uploaded), with the MAVLink parameter type
fixed at load time (integers in the file and in :data:`DEFAULTS` are INT32, the rest REAL32).
Planner annotations (``#@ cruise_current_a 22``) are not parameters: they come back as
:attr:`ParameterStore.annotations` and never appear in PARAM_VALUE.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

from sim.errors import SimConfigError

log = logging.getLogger(__name__)

MAV_PARAM_TYPE_INT32 = 6
MAV_PARAM_TYPE_REAL32 = 9

#: ArduCopter 4.5/4.6 defaults for every parameter the simulator reads (units as ArduPilot's).
DEFAULTS: dict[str, float] = {
    "SYSID_THISMAV": 1,
    "SYSID_MYGCS": 255,
    "WPNAV_SPEED": 1000,
    "WPNAV_SPEED_UP": 250,
    "WPNAV_SPEED_DN": 150,
    "WPNAV_ACCEL": 250,
    "WPNAV_RADIUS": 200,
    "RTL_ALT": 1500,
    "RTL_ALT_TYPE": 0,
    "RTL_SPEED": 0,
    "RTL_LOIT_TIME": 5000,
    "RTL_ALT_FINAL": 0,
    "LAND_SPEED": 50,
    "LAND_ALT_LOW": 1000,
    "DISARM_DELAY": 10,
    "FENCE_ENABLE": 0,
    "FENCE_TYPE": 7,
    "FENCE_ACTION": 1,
    "FENCE_RADIUS": 300,
    "FENCE_ALT_MAX": 100,
    "BATT_CAPACITY": 3300,
    "BATT_LOW_MAH": 0,
    "BATT_CRT_MAH": 0,
    "BATT_FS_LOW_ACT": 0,
    "BATT_FS_CRT_ACT": 0,
    "FS_GCS_ENABLE": 0,
    "FS_GCS_TIMEOUT": 5,
    "FS_OPTIONS": 0,
    "TERRAIN_ENABLE": 1,
    "TERRAIN_SPACING": 100,
    "MNT1_PITCH_MIN": -90,
    "MNT1_PITCH_MAX": 20,
}

#: Annotation defaults (``#@ name value`` lines), used when the file has none.
ANNOTATION_DEFAULTS: dict[str, float] = {"cruise_current_a": 20.0, "mission_item_limit": 700.0}


def default_parameter_file() -> Path:
    """``firmware_configs/patrol-quad.arducopter.parm`` of this repository."""
    from ground_station.planning.vehicle import DEFAULT_PROFILE_FILE, firmware_configs_dir

    return firmware_configs_dir() / DEFAULT_PROFILE_FILE


def load_parameter_file(path: str | Path | None) -> dict[str, float]:
    """Every ``NAME value`` (and ``#@`` annotation) of ``path``; the default profile when ``None``."""
    from ground_station.planning.vehicle import read_parameter_file

    p = default_parameter_file() if path is None else Path(path)
    try:
        return read_parameter_file(p)
    except OSError as exc:
        raise SimConfigError(f"expected a readable parameter file, got {p}: {exc}") from exc


class ParameterStore:
    """Parameters by name, in a stable order (the order PARAM_REQUEST_LIST serves them in).

    ``values``: what the file set (annotations, lowercase, are split off); missing simulator
    parameters take :data:`DEFAULTS`; ``overrides`` win over both (``SYSID_THISMAV`` per instance).
    """

    def __init__(self, values: Mapping[str, float], *, overrides: Mapping[str, float] | None = None) -> None:
        merged: dict[str, float] = dict(DEFAULTS)
        self.annotations: dict[str, float] = dict(ANNOTATION_DEFAULTS)
        for name, value in values.items():
            if name.islower():
                self.annotations[name] = float(value)
            else:
                merged[name] = float(value)
        for name, value in (overrides or {}).items():
            if not name.isupper() or len(name) > 16:
                raise SimConfigError(f"expected an upper-case parameter name of <= 16 chars, got {name!r}")
            merged[name] = float(value)
        self._names: list[str] = sorted(merged)
        self._values = merged
        self._types = {
            n: MAV_PARAM_TYPE_INT32 if float(v).is_integer() else MAV_PARAM_TYPE_REAL32
            for n, v in merged.items()
        }

    @classmethod
    def from_file(
        cls, path: str | Path | None = None, *, overrides: Mapping[str, float] | None = None
    ) -> ParameterStore:
        return cls(load_parameter_file(path), overrides=overrides)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def get(self, name: str, default: float = 0.0) -> float:
        return self._values.get(name, default)

    def names(self) -> list[str]:
        return list(self._names)

    def index_of(self, name: str) -> int:
        return self._names.index(name)

    def name_at(self, index: int) -> str | None:
        return self._names[index] if 0 <= index < len(self._names) else None

    def param_type(self, name: str) -> int:
        return self._types[name]

    def set(self, name: str, value: float) -> bool:
        """Set a known parameter (integers rounded); False for an unknown name or a non-finite value."""
        if name not in self._values or not math.isfinite(value):
            return False
        if self._types[name] == MAV_PARAM_TYPE_INT32:
            value = float(round(value))
        self._values[name] = float(value)
        log.debug("param %s = %s", name, value)
        return True
