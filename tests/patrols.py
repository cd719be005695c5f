"""Small real patrols for tests that fly: planned by our planner over the SRTM tile in missions/dem."""

from __future__ import annotations

import functools
from pathlib import Path

from geo.camera import camera_preset
from geo.terrain import Terrain
from ground_station.planning.geometry import area_from_geojson
from ground_station.planning.planner import PatrolRequest, Pattern, PlannedPatrol, TerrainMode, plan_patrol
from ground_station.planning.vehicle import default_vehicle_profile

REPO = Path(__file__).resolve().parents[1]
DEM = REPO / "missions" / "dem" / "N44W072.hgt"
# a wooded slope west of Wildcat Mountain, launch point at its south-west corner
HOME = (44.2240, -71.2520)


@functools.cache
def srtm() -> Terrain:
    return Terrain.from_hgt(DEM)


@functools.cache
def small_patrol(
    terrain_mode: TerrainMode = TerrainMode.RELATIVE, size_m: float = 300.0, agl_m: float = 60.0
) -> PlannedPatrol:
    """One sortie surveying a ``size_m`` square next to :data:`HOME`, 30 % side overlap."""
    lat0, lon0 = HOME
    dlat, dlon = size_m / 111_000.0, size_m / 79_600.0
    ring = [
        (lon0 + 0.0005, lat0 + 0.0005),
        (lon0 + 0.0005 + dlon, lat0 + 0.0005),
        (lon0 + 0.0005 + dlon, lat0 + 0.0005 + dlat),
        (lon0 + 0.0005, lat0 + 0.0005 + dlat),
        (lon0 + 0.0005, lat0 + 0.0005),
    ]
    area = area_from_geojson({"type": "Polygon", "coordinates": [ring]}, source="small patrol")
    return plan_patrol(
        PatrolRequest(
            area=area,
            pattern=Pattern.SURVEY,
            terrain=srtm(),
            vehicle=default_vehicle_profile(),
            camera=camera_preset("dji-mavic-3e"),
            agl_m=agl_m,
            home_deg=HOME,
            terrain_mode=terrain_mode,
            side_overlap=0.3,
        )
    )
