"""MAVLink mission values: items, home, geofence and rally points.

These are the planner's output and what the file formats read and write. Item fields
follow MISSION_ITEM_INT: ``param1..param4`` then ``lat_deg, lon_deg, altitude_m`` (the
x, y, z slots, which non-positional commands use as params 5-7). ``altitude_m`` is in
the item's frame: AMSL for frame 0, above home for frame 3, above terrain for frame 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum


class MavFrame(IntEnum):
    """The MAV_FRAME values a patrol mission uses (values from the MAVLink common set)."""

    GLOBAL = 0  # altitude above mean sea level
    MISSION = 2  # no position (DO_ commands)
    GLOBAL_RELATIVE_ALT = 3  # altitude above home
    GLOBAL_TERRAIN_ALT = 10  # altitude above terrain, the vehicle follows


class MavCmd(IntEnum):
    """MAV_CMD values used by the planner (values from the MAVLink common set)."""

    NAV_WAYPOINT = 16
    NAV_LOITER_UNLIM = 17
    NAV_LOITER_TURNS = 18
    NAV_LOITER_TIME = 19
    NAV_RETURN_TO_LAUNCH = 20
    NAV_LAND = 21
    NAV_TAKEOFF = 22
    NAV_LOITER_TO_ALT = 31
    CONDITION_DELAY = 112
    CONDITION_YAW = 115
    DO_JUMP = 177
    DO_CHANGE_SPEED = 178
    DO_SET_HOME = 179
    DO_SET_SERVO = 183
    DO_SET_ROI_LOCATION = 195
    DO_DIGICAM_CONTROL = 203
    DO_MOUNT_CONTROL = 205
    DO_SET_CAM_TRIGG_DIST = 206
    DO_GIMBAL_MANAGER_PITCHYAW = 1000
    IMAGE_START_CAPTURE = 2000
    VIDEO_START_CAPTURE = 2500
    NAV_FENCE_POLYGON_VERTEX_INCLUSION = 5001
    NAV_FENCE_POLYGON_VERTEX_EXCLUSION = 5002
    NAV_FENCE_CIRCLE_INCLUSION = 5003
    NAV_FENCE_CIRCLE_EXCLUSION = 5004
    NAV_RALLY_POINT = 5100


#: Commands that carry a position the vehicle flies to or over.
NAV_POSITION_COMMANDS = frozenset(
    {
        MavCmd.NAV_WAYPOINT,
        MavCmd.NAV_LOITER_UNLIM,
        MavCmd.NAV_LOITER_TURNS,
        MavCmd.NAV_LOITER_TIME,
        MavCmd.NAV_LAND,
        MavCmd.NAV_TAKEOFF,
        MavCmd.NAV_LOITER_TO_ALT,
    }
)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@dataclass(frozen=True, kw_only=True, slots=True)
class MissionItem:
    """One mission item. Equality treats NaN params as equal (QGC writes them as null)."""

    command: int
    frame: int = MavFrame.GLOBAL_RELATIVE_ALT
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    lat_deg: float = 0.0
    lon_deg: float = 0.0
    altitude_m: float = 0.0
    autocontinue: bool = True

    @property
    def params(self) -> tuple[float, float, float, float, float, float, float]:
        return (
            self.param1, self.param2, self.param3, self.param4,
            self.lat_deg, self.lon_deg, self.altitude_m,
        )  # fmt: skip

    @property
    def has_position(self) -> bool:
        return self.command in NAV_POSITION_COMMANDS and self.frame != MavFrame.MISSION

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MissionItem):
            return NotImplemented
        return (
            self.command == other.command
            and self.frame == other.frame
            and self.autocontinue == other.autocontinue
            and all(_same(a, b) for a, b in zip(self.params, other.params, strict=True))
        )

    def __hash__(self) -> int:
        return hash((self.command, self.frame, self.lat_deg, self.lon_deg))


@dataclass(frozen=True, kw_only=True, slots=True)
class HomePosition:
    """The planned home (takeoff point); ``altitude_amsl_m`` is its ground height."""

    lat_deg: float
    lon_deg: float
    altitude_amsl_m: float


@dataclass(frozen=True, kw_only=True, slots=True)
class FencePolygon:
    """An inclusion (fly inside) or exclusion (never enter) polygon, vertices in order."""

    inclusion: bool
    vertices_deg: tuple[tuple[float, float], ...]  # (lat_deg, lon_deg), not closed


@dataclass(frozen=True, kw_only=True, slots=True)
class FenceCircle:
    inclusion: bool
    lat_deg: float
    lon_deg: float
    radius_m: float


@dataclass(frozen=True, kw_only=True, slots=True)
class RallyPoint:
    """A safe point to return to; ``altitude_m`` above home."""

    lat_deg: float
    lon_deg: float
    altitude_m: float


@dataclass(frozen=True, kw_only=True)
class Mission:
    """A whole mission as a vehicle holds it: home, items, geofence and rally points.

    ``items`` excludes home; on ArduPilot the uploaded item 0 is home.
    """

    home: HomePosition
    items: tuple[MissionItem, ...]
    fence_polygons: tuple[FencePolygon, ...] = ()
    fence_circles: tuple[FenceCircle, ...] = ()
    rally_points: tuple[RallyPoint, ...] = ()
    cruise_speed_m_s: float = 10.0
    hover_speed_m_s: float = 5.0
    firmware: str = "ardupilot"  # or "px4"
    vehicle_type: str = "multirotor"
    extra: dict[str, object] = field(default_factory=dict, compare=False)
