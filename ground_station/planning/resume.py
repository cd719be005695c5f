"""Resume a mission after an RTL, from the leg the vehicle was flying.

QGroundControl's "resume mission" drops the items before the resume point, and with them
the speed, gimbal and camera-trigger settings they made, so the rest of a survey is flown
at the default speed with the camera off. Here the state those items set is carried
forward, and the leg that was cut is flown again from its start. The transit from home to
that start follows the terrain when heights are computed (frames 0 and 3).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from geo.frames import LocalFrame
from geo.terrain import Terrain
from ground_station.planning.altitude import follow_terrain
from ground_station.planning.errors import PlanLimitError
from ground_station.planning.mission import MavCmd, MavFrame, Mission, MissionItem

#: Commands whose latest value before the resume point is replayed.
STATE_COMMANDS = (
    MavCmd.DO_CHANGE_SPEED,
    MavCmd.DO_MOUNT_CONTROL,
    MavCmd.DO_GIMBAL_MANAGER_PITCHYAW,
    MavCmd.DO_SET_CAM_TRIGG_DIST,
)


def carried_state(items: tuple[MissionItem, ...], stop: int) -> list[MissionItem]:
    """The latest item of each state command among ``items[:stop]``, in command order."""
    latest: dict[int, MissionItem] = {}
    for item in items[:stop]:
        if item.command in STATE_COMMANDS:
            latest[item.command] = item
    return [latest[c] for c in STATE_COMMANDS if c in latest]


def resume_mission(
    mission: Mission,
    *,
    resume_index: int,
    terrain: Terrain | None = None,
    target_agl_m: float = 80.0,
    tolerance_m: float = 10.0,
    climb_slope: float = 0.25,
    descent_slope: float = 0.15,
) -> Mission:
    """A new mission that flies ``mission.items[resume_index:]``, starting with the cut leg.

    ``resume_index`` is the index in ``items`` (home excluded; MAVLink seq - 1 on ArduPilot)
    of the positional item the vehicle was flying to when it left. Pass ``terrain`` to get
    a terrain-following transit in frames 0 and 3.
    """
    items = mission.items
    if not 0 <= resume_index < len(items):
        raise PlanLimitError(f"expected a resume index in [0, {len(items) - 1}], got {resume_index}")
    if not items[resume_index].has_position:
        raise PlanLimitError(
            f"expected the resume index to name a positional item, item {resume_index} is command "
            f"{items[resume_index].command}"
        )
    start = next((k for k in range(resume_index - 1, -1, -1) if items[k].has_position), None)
    if start is None or items[start].command == MavCmd.NAV_TAKEOFF:
        return mission  # nothing flown yet but the takeoff: fly it all again
    leg_start = items[start]
    takeoff = next((it for it in items if it.command == MavCmd.NAV_TAKEOFF), None)
    prefix: list[MissionItem] = []
    takeoff_alt = takeoff.altitude_m if takeoff is not None else target_agl_m
    prefix.append(
        MissionItem(
            command=MavCmd.NAV_TAKEOFF, frame=MavFrame.GLOBAL_RELATIVE_ALT, param4=math.nan,
            lat_deg=mission.home.lat_deg, lon_deg=mission.home.lon_deg, altitude_m=takeoff_alt,
        )
    )  # fmt: skip
    state = carried_state(items, resume_index)
    prefix.extend(it for it in state if it.command != MavCmd.DO_SET_CAM_TRIGG_DIST)
    transit = _transit(mission, leg_start, terrain, target_agl_m, tolerance_m, climb_slope, descent_slope)
    prefix.extend(it for it in transit if it != leg_start)
    prefix.append(leg_start)
    prefix.extend(it for it in state if it.command == MavCmd.DO_SET_CAM_TRIGG_DIST and it.param1 > 0)
    shift = len(prefix) - resume_index
    rest = [_shift_jump(it, shift, resume_index) for it in items[resume_index:]]
    return replace(mission, items=tuple(prefix + rest))


def _shift_jump(item: MissionItem, shift: int, resume_index: int) -> MissionItem:
    if item.command != MavCmd.DO_JUMP:
        return item
    target_index = int(item.param1) - 1  # DO_JUMP names a MAVLink seq; seq 0 is home
    if target_index < resume_index:
        raise PlanLimitError(
            f"a DO_JUMP after the resume point jumps back to item {target_index}, before it: "
            "resume from an earlier item"
        )
    return replace(item, param1=float(target_index + shift + 1))


def _transit(
    mission: Mission,
    leg_start: MissionItem,
    terrain: Terrain | None,
    target_agl_m: float,
    tolerance_m: float,
    climb_slope: float,
    descent_slope: float,
) -> list[MissionItem]:
    if terrain is None or leg_start.frame not in (MavFrame.GLOBAL, MavFrame.GLOBAL_RELATIVE_ALT):
        return []
    home = mission.home
    frame = LocalFrame(origin_lat_deg=home.lat_deg, origin_lon_deg=home.lon_deg)
    x, y = frame.to_local(leg_start.lat_deg, leg_start.lon_deg)
    profile = follow_terrain(
        np.array([[0.0, 0.0], [x, y]]),
        terrain=terrain,
        frame=frame,
        target_agl_m=target_agl_m,
        tolerance_m=tolerance_m,
        climb_slope=climb_slope,
        descent_slope=descent_slope,
    )
    offset = home.altitude_amsl_m if leg_start.frame == MavFrame.GLOBAL_RELATIVE_ALT else 0.0
    lat, lon = frame.to_geodetic(profile.x_m, profile.y_m)
    return [
        MissionItem(
            command=MavCmd.NAV_WAYPOINT, frame=leg_start.frame, param4=math.nan,
            lat_deg=float(a), lon_deg=float(b), altitude_m=round(float(z - offset), 2),
        )
        for a, b, z in zip(lat[1:], lon[1:], profile.altitude_amsl_m[1:], strict=True)
    ]  # fmt: skip
