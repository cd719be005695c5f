"""The flown path of a mission, for the map exporters (GeoJSON, KML).

Each positional item (:attr:`MissionItem.has_position`) in a global frame becomes a vertex.
Its altitude is AMSL where that can be computed (frame 0 as is, frame 3 home + z; their
``_INT`` twins 5 and 6 alike) and above terrain for frame 10/11, which needs a terrain
model to turn into AMSL. Two ArduPilot conventions are applied so the path is where the
vehicle flies: latitude and longitude both 0 mean "here" (the previous vertex, or home),
and on a multicopter an altitude of 0 means "keep the current altitude" (except for LAND).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ground_station.planning.mission import MavCmd, Mission, MissionItem

AMSL = "amsl"
HOME = "home"
TERRAIN = "terrain"

# MAV_FRAME -> what the item's z is measured from.
_Z_REFERENCE = {0: AMSL, 5: AMSL, 3: HOME, 6: HOME, 10: TERRAIN, 11: TERRAIN}


def z_reference(frame: int) -> str | None:
    """``"amsl"``, ``"home"`` or ``"terrain"``: what an item's ``altitude_m`` is above."""
    return _Z_REFERENCE.get(int(frame))


@dataclass(frozen=True, kw_only=True, slots=True)
class PathVertex:
    seq: int  # mission sequence number, home = 0
    item: MissionItem
    lat_deg: float
    lon_deg: float
    altitude_m: float  # AMSL when reference is "amsl", above terrain when "terrain"
    reference: str  # "amsl" or "terrain"
    position_from_previous: bool
    altitude_from_previous: bool


def flight_path(mission: Mission) -> list[PathVertex]:
    home = mission.home
    keeps_altitude = mission.firmware == "ardupilot" and mission.vehicle_type in ("multirotor", "helicopter")
    vertices: list[PathVertex] = []
    for seq, item in enumerate(mission.items, start=1):
        reference = z_reference(item.frame)
        if not item.has_position or reference is None:
            continue
        if not (math.isfinite(item.lat_deg) and math.isfinite(item.lon_deg)):
            continue  # nowhere to draw it
        previous = vertices[-1] if vertices else None
        lat, lon = item.lat_deg, item.lon_deg
        position_from_previous = lat == 0.0 and lon == 0.0
        if position_from_previous:
            lat, lon = (previous.lat_deg, previous.lon_deg) if previous else (home.lat_deg, home.lon_deg)
        altitude_from_previous = (
            keeps_altitude
            and item.altitude_m == 0.0
            and item.command != MavCmd.NAV_LAND
            and previous is not None
        )
        if altitude_from_previous and previous is not None:
            altitude, out_reference = previous.altitude_m, previous.reference
        elif reference == HOME:
            altitude, out_reference = home.altitude_amsl_m + item.altitude_m, AMSL
        else:
            altitude, out_reference = item.altitude_m, reference
        vertices.append(
            PathVertex(
                seq=seq,
                item=item,
                lat_deg=lat,
                lon_deg=lon,
                altitude_m=altitude,
                reference=out_reference,
                position_from_previous=position_from_previous,
                altitude_from_previous=altitude_from_previous,
            )
        )
    return vertices
