"""The planner's :class:`Mission` as MISSION_ITEM_INT wire items, per mission type, and back.

- mission (``MAV_MISSION_TYPE_MISSION``): on ArduPilot item 0 is home (frame 0, altitude AMSL,
  the same home line :mod:`ground_station.planning.formats.wpl` writes as WPL line 0), then the
  items; PX4 (and other firmwares) have no home item.
- fence: one ``NAV_FENCE_POLYGON_VERTEX_INCLUSION/EXCLUSION`` item per vertex, ``param1`` the
  polygon's vertex count; one ``NAV_FENCE_CIRCLE_INCLUSION/EXCLUSION`` per circle, ``param1``
  the radius. Frame GLOBAL (altitude unused), as QGroundControl sends them.
- rally: one ``NAV_RALLY_POINT`` per point, frame GLOBAL_RELATIVE_ALT.

Positions travel as integer 1e-7 degrees (``x``/``y``); items without a position carry
params 5 and 6 as plain integers (MISSION_ITEM_INT has no other way).
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.planning.mission import (
    FenceCircle,
    FencePolygon,
    HomePosition,
    MavCmd,
    MavFrame,
    Mission,
    MissionItem,
    RallyPoint,
)
from ground_station.vehicles.errors import MissionProtocolError


class MissionType(enum.IntEnum):
    MISSION = mavlink.MAV_MISSION_TYPE_MISSION
    FENCE = mavlink.MAV_MISSION_TYPE_FENCE
    RALLY = mavlink.MAV_MISSION_TYPE_RALLY

    @classmethod
    def parse(cls, value: str | int | MissionType) -> MissionType:
        if isinstance(value, MissionType):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"expected a mission type of mission, fence or rally, got {value!r}") from None


class BadWireItemsError(MissionProtocolError, ValueError):
    """Items read from a vehicle do not form a valid mission, fence or rally list."""


#: Frames whose x/y are latitude/longitude (MAVLink's global frames and their _INT twins).
GLOBAL_FRAMES = frozenset({0, 3, 5, 6, 10, 11})


@dataclass(frozen=True, kw_only=True, slots=True)
class WireItem:
    """One MISSION_ITEM_INT without its seq and targets."""

    command: int
    frame: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    autocontinue: bool = True
    current: bool = False

    @classmethod
    def from_message(cls, msg: Any) -> WireItem:
        """From a MISSION_ITEM_INT or a (float) MISSION_ITEM message."""
        x, y = msg.x, msg.y
        if msg.get_type() == "MISSION_ITEM":
            scale = 1e7 if int(msg.frame) in GLOBAL_FRAMES else 1.0
            x, y = _to_int(x * scale), _to_int(y * scale)
        return cls(
            command=int(msg.command),
            frame=int(msg.frame),
            param1=_from_f32(msg.param1),
            param2=_from_f32(msg.param2),
            param3=_from_f32(msg.param3),
            param4=_from_f32(msg.param4),
            x=int(x),
            y=int(y),
            z=_from_f32(msg.z),
            autocontinue=bool(msg.autocontinue),
            current=bool(msg.current),
        )

    def to_message(
        self, *, target_system: int, target_component: int, seq: int, mission_type: int
    ) -> mavlink.MAVLink_mission_item_int_message:
        return mavlink.MAVLink_mission_item_int_message(
            target_system, target_component, seq, self.frame, self.command, int(self.current),
            int(self.autocontinue), self.param1, self.param2, self.param3, self.param4,
            self.x, self.y, self.z, mission_type,
        )  # fmt: skip


def _to_int(value: float) -> int:
    return 0 if not math.isfinite(value) else round(value)


def _from_f32(value: float) -> float:
    """A float32 from the wire as the shortest decimal that is that float32 (40.2, not 40.20000076)."""
    return float(str(np.float32(value)))


def _f32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def item_to_wire(item: MissionItem) -> WireItem:
    scale = 1e7 if item.frame in GLOBAL_FRAMES else 1.0
    return WireItem(
        command=int(item.command),
        frame=int(item.frame),
        param1=item.param1,
        param2=item.param2,
        param3=item.param3,
        param4=item.param4,
        x=_to_int(item.lat_deg * scale),
        y=_to_int(item.lon_deg * scale),
        z=item.altitude_m,
        autocontinue=item.autocontinue,
    )


def wire_to_item(wire: WireItem) -> MissionItem:
    scale = 1e7 if wire.frame in GLOBAL_FRAMES else 1.0
    return MissionItem(
        command=wire.command,
        frame=wire.frame,
        param1=wire.param1,
        param2=wire.param2,
        param3=wire.param3,
        param4=wire.param4,
        lat_deg=wire.x / scale,
        lon_deg=wire.y / scale,
        altitude_m=wire.z,
        autocontinue=wire.autocontinue,
    )


def home_item(home: HomePosition) -> WireItem:
    """ArduPilot's item 0: home, frame GLOBAL, altitude AMSL."""
    return WireItem(
        command=MavCmd.NAV_WAYPOINT,
        frame=MavFrame.GLOBAL,
        x=_to_int(home.lat_deg * 1e7),
        y=_to_int(home.lon_deg * 1e7),
        z=home.altitude_amsl_m,
    )


def has_home_item(firmware: str) -> bool:
    return firmware.lower() == "ardupilot"


def mission_wire_items(mission: Mission, *, firmware: str | None = None) -> list[WireItem]:
    """Mission items to upload: home first on ArduPilot (``firmware`` defaults to the mission's)."""
    items = [item_to_wire(item) for item in mission.items]
    if has_home_item(firmware or mission.firmware):
        items.insert(0, home_item(mission.home))
    return items


def fence_wire_items(
    polygons: Sequence[FencePolygon] = (), circles: Sequence[FenceCircle] = ()
) -> list[WireItem]:
    items: list[WireItem] = []
    for polygon in polygons:
        if len(polygon.vertices_deg) < 3:
            raise ValueError(
                f"expected a fence polygon of at least 3 vertices, got {len(polygon.vertices_deg)}"
            )
        command = (
            MavCmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION
            if polygon.inclusion
            else MavCmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION
        )
        for lat, lon in polygon.vertices_deg:
            items.append(
                WireItem(
                    command=command,
                    frame=MavFrame.GLOBAL,
                    param1=float(len(polygon.vertices_deg)),
                    x=_to_int(lat * 1e7),
                    y=_to_int(lon * 1e7),
                )
            )
    for circle in circles:
        command = MavCmd.NAV_FENCE_CIRCLE_INCLUSION if circle.inclusion else MavCmd.NAV_FENCE_CIRCLE_EXCLUSION
        items.append(
            WireItem(
                command=command,
                frame=MavFrame.GLOBAL,
                param1=circle.radius_m,
                x=_to_int(circle.lat_deg * 1e7),
                y=_to_int(circle.lon_deg * 1e7),
            )
        )
    return items


def rally_wire_items(points: Sequence[RallyPoint]) -> list[WireItem]:
    return [
        WireItem(
            command=MavCmd.NAV_RALLY_POINT,
            frame=MavFrame.GLOBAL_RELATIVE_ALT,
            x=_to_int(p.lat_deg * 1e7),
            y=_to_int(p.lon_deg * 1e7),
            z=p.altitude_m,
        )
        for p in points
    ]


def wire_items_for(
    mission: Mission, mission_type: MissionType, *, firmware: str | None = None
) -> list[WireItem]:
    """The items of one mission type of ``mission``."""
    if mission_type == MissionType.MISSION:
        return mission_wire_items(mission, firmware=firmware)
    if mission_type == MissionType.FENCE:
        return fence_wire_items(mission.fence_polygons, mission.fence_circles)
    return rally_wire_items(mission.rally_points)


def mission_from_wire(
    items: Sequence[WireItem], *, firmware: str, home: HomePosition | None = None
) -> tuple[HomePosition | None, tuple[MissionItem, ...]]:
    """``(home, items)`` from downloaded mission items: home is item 0 on ArduPilot, else ``home``."""
    if has_home_item(firmware) and items:
        first = items[0]
        return (
            HomePosition(lat_deg=first.x / 1e7, lon_deg=first.y / 1e7, altitude_amsl_m=first.z),
            tuple(wire_to_item(w) for w in items[1:]),
        )
    return home, tuple(wire_to_item(w) for w in items)


def fence_from_wire(items: Sequence[WireItem]) -> tuple[tuple[FencePolygon, ...], tuple[FenceCircle, ...]]:
    polygons: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    vertex_commands = (MavCmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION, MavCmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION)
    k = 0
    while k < len(items):
        item = items[k]
        if item.command in vertex_commands:
            count = int(item.param1)
            run = items[k : k + count]
            if (
                count < 3
                or len(run) != count
                or any(w.command != item.command or int(w.param1) != count for w in run)
            ):
                raise BadWireItemsError(
                    f"fence item {k}: expected {count} vertices of command {item.command} "
                    f"(param1 = vertex count >= 3), got a run of {len(run)}"
                )
            polygons.append(
                FencePolygon(
                    inclusion=item.command == MavCmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                    vertices_deg=tuple((w.x / 1e7, w.y / 1e7) for w in run),
                )
            )
            k += count
        elif item.command in (MavCmd.NAV_FENCE_CIRCLE_INCLUSION, MavCmd.NAV_FENCE_CIRCLE_EXCLUSION):
            circles.append(
                FenceCircle(
                    inclusion=item.command == MavCmd.NAV_FENCE_CIRCLE_INCLUSION,
                    lat_deg=item.x / 1e7,
                    lon_deg=item.y / 1e7,
                    radius_m=item.param1,
                )
            )
            k += 1
        else:
            raise BadWireItemsError(
                f"fence item {k}: expected a fence vertex or circle, got command {item.command}"
            )
    return tuple(polygons), tuple(circles)


def rally_from_wire(items: Sequence[WireItem]) -> tuple[RallyPoint, ...]:
    points = []
    for k, item in enumerate(items):
        if item.command != MavCmd.NAV_RALLY_POINT:
            raise BadWireItemsError(
                f"rally item {k}: expected NAV_RALLY_POINT (5100), got command {item.command}"
            )
        points.append(RallyPoint(lat_deg=item.x / 1e7, lon_deg=item.y / 1e7, altitude_m=item.z))
    return tuple(points)


# --------------------------------------------------------------------------- read-back compare

#: Commands whose item carries a location (frame matters); others may come back in any global/mission frame.
_LOCATION_COMMANDS = frozenset(
    {16, 17, 18, 19, 21, 22, 31, 82, 84, 85, 179, 195, 201, 5001, 5002, 5003, 5004, 5100}
)
_FRAMELESS = frozenset({0, 2, 3, 10})


def _param_matches(sent: float, got: float) -> bool:
    if math.isnan(sent):
        return math.isnan(got) or got == 0.0  # "unset": some firmwares store NaN as 0
    return _f32(sent) == _f32(got)


def item_difference(sent: WireItem, got: WireItem) -> str:
    """Empty when ``got`` is ``sent`` as a vehicle stores it (float32 params and altitude,
    exact 1e-7 degree positions); else which field differs."""
    if sent.command != got.command:
        return f"command {sent.command} != {got.command}"
    if sent.frame != got.frame and not (
        sent.command not in _LOCATION_COMMANDS and sent.frame in _FRAMELESS and got.frame in _FRAMELESS
    ):
        return f"frame {sent.frame} != {got.frame}"
    for name in ("param1", "param2", "param3", "param4", "z"):
        a, b = getattr(sent, name), getattr(got, name)
        if not _param_matches(a, b):
            return f"{name} {a!r} != {b!r}"
    if sent.x != got.x or sent.y != got.y:
        return f"x/y {sent.x},{sent.y} != {got.x},{got.y}"
    if sent.autocontinue != got.autocontinue:
        return f"autocontinue {sent.autocontinue} != {got.autocontinue}"
    return ""


def compare_items(sent: Sequence[WireItem], got: Sequence[WireItem], *, skip_seq0: bool = False) -> str:
    """Empty when the lists match (see :func:`item_difference`); ``skip_seq0`` ignores item 0
    (ArduPilot's home, which the vehicle replaces with its own)."""
    if len(sent) != len(got):
        return f"expected {len(sent)} items, read back {len(got)}"
    for seq, (a, b) in enumerate(zip(sent, got, strict=True)):
        if seq == 0 and skip_seq0:
            continue
        diff = item_difference(a, b)
        if diff:
            return f"item {seq}: {diff}"
    return ""
