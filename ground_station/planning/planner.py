"""The patrol planner: an area, a pattern and a vehicle in; flyable sorties out.

Stages, each in its own module: geometry (area → local metres, allowed region), patterns
(coverage path), sorties split by battery and item limit, altitude (terrain following),
then MAVLink items with geofence and rally points. Everything is planned in a local
metric frame and converted to WGS84 at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import cast

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points, unary_union

from geo.camera import CameraModel
from geo.errors import GeoError
from geo.frames import LocalFrame
from geo.terrain import Terrain
from ground_station.planning.altitude import AltitudeProfile, follow_terrain
from ground_station.planning.errors import InvalidAreaError, PlanLimitError
from ground_station.planning.geometry import (
    PatrolArea,
    Router,
    local_frame_for,
    outline_coords,
    polygon_to_geodetic,
    to_local,
)
from ground_station.planning.mission import (
    FencePolygon,
    HomePosition,
    MavCmd,
    MavFrame,
    Mission,
    MissionItem,
    RallyPoint,
)
from ground_station.planning.patterns import (
    CoveragePath,
    FlightTime,
    RouteVertex,
    SurveyOptions,
    corridor,
    perimeter,
    survey,
)
from ground_station.planning.vehicle import VehicleProfile


class Pattern(StrEnum):
    SURVEY = "survey"
    CORRIDOR = "corridor"
    PERIMETER = "perimeter"


class TerrainMode(StrEnum):
    """QGC's altitude modes: heights computed from the DEM (AMSL or above home), or terrain frame."""

    ABSOLUTE = "absolute"  # frame 0
    RELATIVE = "relative"  # frame 3
    TERRAIN_FRAME = "terrain-frame"  # frame 10: the vehicle follows its own terrain data


@dataclass(frozen=True, kw_only=True)
class PatrolRequest:
    """Everything a plan depends on. Distances in metres, angles in degrees."""

    area: PatrolArea
    pattern: Pattern
    terrain: Terrain
    vehicle: VehicleProfile
    camera: CameraModel
    agl_m: float = 80.0
    home_deg: tuple[float, float] | None = None  # (lat, lon); default: a point of the area's edge
    more_homes_deg: tuple[tuple[float, float], ...] = ()  # other launch points; each sortie takes the best
    terrain_mode: TerrainMode = TerrainMode.RELATIVE
    side_overlap: float = 0.7
    front_overlap: float = 0.8
    width_m: float | None = None  # corridor width
    offset_m: float = 0.0  # perimeter: > 0 outside the outline, < 0 inside
    angle_deg: float | None = None  # survey heading; None chooses the best
    gimbal_pitch_deg: float = -90.0
    speed_m_s: float | None = None  # default: the vehicle's cruise speed
    tolerance_m: float = 10.0
    turnaround_m: float = 10.0
    fence_margin_m: float = 50.0
    exclusion_standoff_m: float = 5.0
    max_sortie_s: float | None = None  # cap on each sortie's flight time (default: battery)
    ceiling_agl_m: float | None = None  # default: the vehicle's (120 m unless configured)
    rally_deg: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlanStats:
    pattern: str
    area_m2: float
    length_m: float
    flight_time_s: float
    photo_count: int
    gsd_cm: float
    min_clearance_m: float | None  # None in terrain frame, where the vehicle keeps its own height
    waypoints: int
    items: int
    sorties: int
    spacing_m: float
    trigger_distance_m: float
    angle_deg: float | None

    def lines(self) -> list[str]:
        clearance = "n/a (terrain frame)" if self.min_clearance_m is None else f"{self.min_clearance_m:.1f} m"
        angle = "" if self.angle_deg is None else f", heading {self.angle_deg:.1f}°"
        return [
            f"pattern        {self.pattern}{angle}",
            f"area           {self.area_m2 / 1e6:.3f} km²",
            f"length         {self.length_m / 1000:.2f} km",
            f"flight time    {self.flight_time_s / 60:.1f} min in {self.sorties} sortie(s)",
            f"photos         {self.photo_count} (every {self.trigger_distance_m:.1f} m"
            + (f", lines {self.spacing_m:.1f} m apart)" if self.pattern != "perimeter" else ")"),
            f"GSD            {self.gsd_cm:.2f} cm/px",
            f"min clearance  {clearance}",
            f"waypoints      {self.waypoints} ({self.items} items)",
        ]


@dataclass(frozen=True, kw_only=True)
class Sortie:
    mission: Mission
    profile: AltitudeProfile | None
    xy: np.ndarray  # horizontal path, home to home (local metres)
    flight_time_s: float
    coverage_range: tuple[
        int, int
    ]  # coverage vertices [start, stop) this sortie flies; the next starts at stop - 1


@dataclass(frozen=True, kw_only=True)
class PlannedPatrol:
    request: PatrolRequest
    frame: LocalFrame
    homes: tuple[HomePosition, ...]  # the first is the default takeoff point
    coverage: CoveragePath
    region: Polygon  # what is covered, local metres
    allowed: Polygon  # where the vehicle may fly, local metres
    sorties: tuple[Sortie, ...]
    stats: PlanStats

    @property
    def missions(self) -> tuple[Mission, ...]:
        return tuple(s.mission for s in self.sorties)


# ----------------------------------------------------------------------------- helpers


def flight_time_s(
    xy: np.ndarray,
    altitude_amsl_m: np.ndarray,
    *,
    home_amsl_m: float,
    vehicle: VehicleProfile,
    speed_m_s: float,
) -> float:
    """Takeoff, every leg (slowed by climbs beyond the vehicle's rates, and by turns), landing."""
    d = np.hypot(*np.diff(xy, axis=0).T)
    dz = np.diff(altitude_amsl_m)
    vertical = np.where(dz > 0, dz / vehicle.climb_rate_m_s, -dz / vehicle.descent_rate_m_s)
    legs = float(np.maximum(d / speed_m_s, vertical).sum())
    turns = (
        FlightTime(speed_m_s=speed_m_s, acceleration_m_s2=vehicle.acceleration_m_s2)(xy)
        - float(d.sum()) / speed_m_s
    )
    climb = max(float(altitude_amsl_m[0]) - home_amsl_m, 0.0) / vehicle.climb_rate_m_s
    land = max(float(altitude_amsl_m[-1]) - home_amsl_m, 0.0) / vehicle.descent_rate_m_s
    return legs + turns + climb + land


def _default_home(area: PatrolArea, terrain: Terrain) -> tuple[float, float]:
    coords = outline_coords(area.geometry)
    lat, lon = coords[:, 1], coords[:, 0]
    land = ~np.asarray(terrain.is_water(lat, lon))  # the area is on the DEM: checked before
    k = int(np.argmax(land)) if land.any() else 0
    return float(lat[k]), float(lon[k])


def _item(command: int, frame: int, *params: float) -> MissionItem:
    p = [float(v) for v in params] + [0.0] * (7 - len(params))
    return MissionItem(
        command=command, frame=frame, param1=p[0], param2=p[1], param3=p[2], param4=p[3],
        lat_deg=p[4], lon_deg=p[5], altitude_m=p[6],
    )  # fmt: skip


# ----------------------------------------------------------------------------- planner


class PatrolPlanner:
    """Plans one request. ``plan()`` runs every stage; the stages are public for tests."""

    def __init__(self, request: PatrolRequest) -> None:
        r = request
        if not 0.0 <= r.side_overlap < 1.0 or not 0.0 <= r.front_overlap < 1.0:
            raise PlanLimitError(
                f"expected overlaps in [0, 1), got side {r.side_overlap}, front {r.front_overlap}"
            )
        self.ceiling_agl_m = r.ceiling_agl_m if r.ceiling_agl_m is not None else r.vehicle.max_altitude_agl_m
        if not 0 < r.agl_m <= self.ceiling_agl_m:
            raise PlanLimitError(
                f"expected a height above ground in (0, {self.ceiling_agl_m:.0f}] m (the ceiling), "
                f"got {r.agl_m} m"
            )
        if r.pattern is Pattern.CORRIDOR and not (r.width_m and r.width_m > 0):
            raise InvalidAreaError("a corridor patrol needs a positive --width-m")
        if (r.pattern is Pattern.CORRIDOR) != r.area.is_line:
            want = "a LineString" if r.pattern is Pattern.CORRIDOR else "a Polygon"
            raise InvalidAreaError(f"a {r.pattern.value} patrol needs {want} area")
        self.request = r
        self.speed_m_s = r.speed_m_s or r.vehicle.cruise_speed_m_s
        self.frame = local_frame_for(r.area.geometry)
        self._check_on_dem()
        first = r.home_deg if r.home_deg is not None else _default_home(r.area, r.terrain)
        self.homes: list[HomePosition] = []
        for lat, lon in (first, *r.more_homes_deg):
            try:
                alt = float(r.terrain.elevation(lat, lon))
            except GeoError as exc:
                raise InvalidAreaError(f"the home point ({lat}, {lon}) is not usable: {exc}") from exc
            self.homes.append(HomePosition(lat_deg=lat, lon_deg=lon, altitude_amsl_m=alt))
        hx, hy = self.frame.to_local(
            np.array([h.lat_deg for h in self.homes]), np.array([h.lon_deg for h in self.homes])
        )
        self.homes_xy = np.column_stack([hx, hy])
        self.region, self.allowed, self.inclusion = self.regions()
        self.footprint_m = r.camera.footprint_m(r.agl_m)  # (across, along) a pass
        self.spacing_m = self.footprint_m[0] * (1.0 - r.side_overlap)
        self.trigger_m = self.footprint_m[1] * (1.0 - r.front_overlap)

    def _check_on_dem(self) -> None:
        coords = outline_coords(self.request.area.geometry)
        inside = self.request.terrain.contains(coords[:, 1], coords[:, 0])
        if not np.all(inside):
            k = int(np.argmin(inside))
            lat0, lon0, lat1, lon1 = self.request.terrain.bounds_deg
            raise InvalidAreaError(
                f"the area leaves the DEM at ({coords[k, 1]:.5f}, {coords[k, 0]:.5f}); the DEM covers "
                f"lat {lat0:.4f}..{lat1:.4f}, lon {lon0:.4f}..{lon1:.4f}"
            )

    # -- geometry -----------------------------------------------------------------

    def regions(self) -> tuple[Polygon, Polygon, Polygon]:
        """(covered region, allowed flight region, fence inclusion) in local metres."""
        r = self.request
        local = to_local(self.frame, r.area.geometry)
        if isinstance(local, LineString):
            region = cast(Polygon, local.buffer(cast(float, r.width_m) / 2.0, cap_style="flat"))
            outer = region
            holes: list[Polygon] = []
        elif r.pattern is Pattern.PERIMETER:
            outer = Polygon(local.exterior).buffer(max(r.offset_m, 0.0), join_style="round")
            region = cast(Polygon, outer)
            holes = []
        else:
            region = local
            outer = Polygon(local.exterior)
            holes = [Polygon(h) for h in local.interiors]
        margin = r.fence_margin_m
        reaches = []
        for hx, hy in self.homes_xy:
            near = nearest_points(outer, Point(hx, hy))[0]
            reaches.append(LineString([(hx, hy), (near.x, near.y)]).buffer(margin, quad_segs=2))
        inclusion = unary_union([outer.buffer(margin, quad_segs=2), *reaches])
        inclusion = cast(Polygon, inclusion.simplify(margin / 4.0, preserve_topology=True))
        if not isinstance(inclusion, Polygon):
            inclusion = cast(Polygon, inclusion.convex_hull)
        allowed = inclusion.buffer(-margin / 4.0, quad_segs=2)
        if holes:
            keep_out = unary_union([h.buffer(r.exclusion_standoff_m, quad_segs=2) for h in holes])
            allowed = allowed.difference(keep_out)
            region = cast(Polygon, region.difference(keep_out))
        allowed = unary_union([allowed, *(Point(x, y).buffer(1.0) for x, y in self.homes_xy)])
        if not isinstance(allowed, Polygon):
            allowed = max(getattr(allowed, "geoms", []), key=lambda g: g.area)
        if not isinstance(region, Polygon):
            raise InvalidAreaError(
                "the exclusion zones split the area into pieces: plan each piece on its own"
            )
        if region.is_empty or region.area <= 0:
            raise InvalidAreaError("nothing is left of the area once the exclusion zones are taken out")
        return region, cast(Polygon, allowed), Polygon(inclusion.exterior)

    def coverage(self, region: Polygon, allowed: Polygon) -> CoveragePath:
        r = self.request
        objective = FlightTime(speed_m_s=self.speed_m_s, acceleration_m_s2=r.vehicle.acceleration_m_s2)
        local = to_local(self.frame, r.area.geometry)
        if r.pattern is Pattern.SURVEY:
            options = SurveyOptions(
                spacing_m=self.spacing_m,
                trigger_distance_m=self.trigger_m,
                turnaround_m=r.turnaround_m,
                angle_deg=r.angle_deg,
                objective=objective,
                footprint_across_m=self.footprint_m[0],
                footprint_along_m=self.footprint_m[1],
            )
            path = survey(region, options=options, allowed=allowed)
            return replace(path, covered=region)
        if r.pattern is Pattern.CORRIDOR:
            return corridor(
                cast(LineString, local),
                width_m=cast(float, r.width_m),
                spacing_m=self.spacing_m,
                trigger_distance_m=self.trigger_m,
                turnaround_m=r.turnaround_m,
            )
        path = perimeter(
            cast(Polygon, local),
            offset_m=r.offset_m,
            trigger_distance_m=self.trigger_m,
            start_near=(float(self.homes_xy[0, 0]), float(self.homes_xy[0, 1])),
        )
        return replace(path, covered=cast(Polygon, path.passes[0].buffer(self.footprint_m[0] / 2.0)))

    # -- sorties ------------------------------------------------------------------

    def _sortie_vertices(
        self, cov: CoveragePath, start: int, stop: int, router: Router, home: int
    ) -> list[RouteVertex]:
        """Home, transit, coverage[start:stop] with camera state carried in and out, transit, home."""
        verts = list(cov.vertices[start:stop])
        carried = next(
            (v.camera_trigger_m for v in reversed(cov.vertices[:start]) if v.camera_trigger_m is not None),
            0.0,
        )
        if carried and verts[0].camera_trigger_m is None:
            verts[0] = replace(verts[0], camera_trigger_m=carried)
        state = next((v.camera_trigger_m for v in reversed(verts) if v.camera_trigger_m is not None), 0.0)
        if state:
            verts[-1] = replace(verts[-1], camera_trigger_m=0.0)
        hx, hy = (float(v) for v in self.homes_xy[home])
        base = RouteVertex(x_m=hx, y_m=hy, role="home")
        out = [
            RouteVertex(x_m=x, y_m=y, role="transit")
            for x, y in router.route((hx, hy), (verts[0].x_m, verts[0].y_m))
        ]
        back = [
            RouteVertex(x_m=x, y_m=y, role="transit")
            for x, y in router.route((verts[-1].x_m, verts[-1].y_m), (hx, hy))
        ]
        return [base, *out, *verts, *back, base]

    def _profile(self, xy: np.ndarray, free_legs: np.ndarray) -> AltitudeProfile | None:
        r = self.request
        if r.terrain_mode is TerrainMode.TERRAIN_FRAME:
            return None
        try:
            return follow_terrain(
                xy,
                terrain=r.terrain,
                frame=self.frame,
                target_agl_m=r.agl_m,
                tolerance_m=r.tolerance_m,
                climb_slope=r.vehicle.climb_rate_m_s / self.speed_m_s,
                descent_slope=r.vehicle.descent_rate_m_s / self.speed_m_s,
                ceiling_agl_m=self.ceiling_agl_m,
                free_legs=free_legs,
            )
        except GeoError as exc:
            raise InvalidAreaError(f"the flight path leaves the usable DEM: {exc}") from exc

    def build_sortie(self, cov: CoveragePath, start: int, stop: int, router: Router, home: int = 0) -> Sortie:
        r = self.request
        base = self.homes[home]
        verts = self._sortie_vertices(cov, start, stop, router, home)
        xy = np.array([(v.x_m, v.y_m) for v in verts])
        camera = np.array([v.camera_trigger_m for v in verts], dtype=object)
        on = np.zeros(len(verts), dtype=bool)
        state = False
        for k, trig in enumerate(camera):
            state = bool(trig) if trig is not None else state
            on[k] = state
        profile = self._profile(xy, ~on[:-1])
        if profile is None:
            z_agl = np.full(len(verts), r.agl_m)
            lat, lon = self.frame.to_geodetic(xy[:, 0], xy[:, 1])
            ground = np.asarray(r.terrain.elevation(lat, lon), dtype=np.float64)
            amsl = ground + z_agl
            points = list(zip(xy[:, 0], xy[:, 1], z_agl, range(len(verts)), strict=True))
            time_s = flight_time_s(
                xy, amsl, home_amsl_m=base.altitude_amsl_m, vehicle=r.vehicle, speed_m_s=self.speed_m_s
            )
        else:
            offset = base.altitude_amsl_m if r.terrain_mode is TerrainMode.RELATIVE else 0.0
            points = list(
                zip(
                    profile.x_m,
                    profile.y_m,
                    profile.altitude_amsl_m - offset,
                    profile.vertex_index.tolist(),
                    strict=True,
                )
            )
            time_s = flight_time_s(
                np.column_stack([profile.x_m, profile.y_m]),
                profile.altitude_amsl_m,
                home_amsl_m=base.altitude_amsl_m,
                vehicle=r.vehicle,
                speed_m_s=self.speed_m_s,
            )
        items = self._items(points, verts, base)
        mission = Mission(
            home=base,
            items=tuple(items),
            fence_polygons=self._fence(),
            rally_points=self._rally(),
            cruise_speed_m_s=self.speed_m_s,
            hover_speed_m_s=min(5.0, self.speed_m_s),
            firmware=r.vehicle.firmware,
        )
        return Sortie(
            mission=mission, profile=profile, xy=xy, flight_time_s=time_s, coverage_range=(start, stop)
        )

    def _items(
        self, points: list[tuple[float, float, float, int]], verts: list[RouteVertex], base: HomePosition
    ) -> list[MissionItem]:
        r = self.request
        frame = {
            TerrainMode.ABSOLUTE: MavFrame.GLOBAL,
            TerrainMode.RELATIVE: MavFrame.GLOBAL_RELATIVE_ALT,
            TerrainMode.TERRAIN_FRAME: MavFrame.GLOBAL_TERRAIN_ALT,
        }[r.terrain_mode]
        xs = np.array([p[0] for p in points])
        ys = np.array([p[1] for p in points])
        lat, lon = self.frame.to_geodetic(xs, ys)
        first_alt = points[0][2]
        takeoff_rel = first_alt - (base.altitude_amsl_m if frame == MavFrame.GLOBAL else 0.0)
        items = [
            _item(MavCmd.NAV_TAKEOFF, MavFrame.GLOBAL_RELATIVE_ALT, 0, 0, 0, math.nan,
                  base.lat_deg, base.lon_deg, round(takeoff_rel, 2)),
            _item(MavCmd.DO_CHANGE_SPEED, MavFrame.MISSION, 1, self.speed_m_s, -1),
        ]  # fmt: skip
        if r.vehicle.firmware == "px4":
            items.append(_item(MavCmd.DO_GIMBAL_MANAGER_PITCHYAW, MavFrame.MISSION, r.gimbal_pitch_deg, 0,
                               math.nan, math.nan, 0, 0, 0))  # fmt: skip
        else:
            items.append(
                _item(MavCmd.DO_MOUNT_CONTROL, MavFrame.MISSION, r.gimbal_pitch_deg, 0, 0, 0, 0, 0, 2)
            )
        for k, (_, _, alt, vi) in enumerate(points):
            if k == 0:
                continue  # home: the takeoff climbs there
            items.append(
                _item(
                    MavCmd.NAV_WAYPOINT, frame, 0, 0, 0, math.nan, float(lat[k]), float(lon[k]), round(alt, 2)
                )
            )
            trig = verts[vi].camera_trigger_m if vi >= 0 else None
            if trig is not None:
                items.append(
                    _item(MavCmd.DO_SET_CAM_TRIGG_DIST, MavFrame.MISSION, round(trig, 2), 0, 1 if trig else 0)
                )
        items.append(_item(MavCmd.NAV_RETURN_TO_LAUNCH, MavFrame.MISSION))
        return items

    def _fence(self) -> tuple[FencePolygon, ...]:
        fences = [FencePolygon(inclusion=True, vertices_deg=polygon_to_geodetic(self.frame, self.inclusion))]
        area = self.request.area.geometry
        if isinstance(area, Polygon):
            for hole in area.interiors:
                coords = list(hole.coords)[:-1]
                fences.append(
                    FencePolygon(inclusion=False, vertices_deg=tuple((lat, lon) for lon, lat in coords))
                )
        return tuple(fences)

    def _rally(self) -> tuple[RallyPoint, ...]:
        alt = self.request.vehicle.rtl_altitude_m
        points = [*((h.lat_deg, h.lon_deg) for h in self.homes), *self.request.rally_deg]
        return tuple(RallyPoint(lat_deg=a, lon_deg=b, altitude_m=alt) for a, b in points)

    def split(self, cov: CoveragePath, router: Router) -> list[Sortie]:
        """Greedy sorties: each takes as much of the coverage path as its battery and item limit allow.

        Sortie ranges share their end vertex: [a, b) then [b - 1, c), so that no leg is lost.
        """
        r = self.request
        budget = r.vehicle.usable_endurance_s
        if r.max_sortie_s is not None:
            budget = min(budget, r.max_sortie_s)
        n = len(cov.vertices)
        xy = cov.xy
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        homes = self.homes_xy
        overhead = 2 * r.agl_m / min(r.vehicle.climb_rate_m_s, r.vehicle.descent_rate_m_s)

        def transit(a: int, b: int) -> np.ndarray:
            """Out and back from each home for a sortie flying coverage vertices [a, b)."""
            return np.hypot(*(homes - xy[a]).T) + np.hypot(*(homes - xy[b - 1]).T)

        def rough(a: int, b: int) -> float:
            d = cum[b - 1] - cum[a] + float(transit(a, b).min())
            return 1.1 * d / self.speed_m_s + overhead

        def fits(s: Sortie) -> bool:
            return s.flight_time_s <= budget and len(s.mission.items) <= r.vehicle.mission_item_limit

        sorties: list[Sortie] = []
        a = 0
        while a < n:
            least = min(a + 2, n)  # at least one leg of the coverage path
            b = least
            while b < n and rough(a, b + 1) <= budget:
                b += 1
            sortie = self.build_sortie(cov, a, b, router, int(np.argmin(transit(a, b))))
            while not fits(sortie) and b > least:
                b = max(least, b - max(1, (b - a) // 10))
                sortie = self.build_sortie(cov, a, b, router, int(np.argmin(transit(a, b))))
            if not fits(sortie):
                raise PlanLimitError(
                    f"one leg of the patrol needs {sortie.flight_time_s / 60:.1f} min and "
                    f"{len(sortie.mission.items)} items, over the vehicle's {budget / 60:.1f} min "
                    f"and {r.vehicle.mission_item_limit} items: add a launch point closer to it (homes) "
                    "or split the area"
                )
            sorties.append(sortie)
            if b >= n:
                break
            a = b - 1  # the next sortie flies the leg this one stopped before
        return sorties

    def plan(self) -> PlannedPatrol:
        region, allowed = self.region, self.allowed
        cov = self.coverage(region, allowed)
        if not cov.vertices:
            raise InvalidAreaError("the pattern produced no path: is the area smaller than one photo?")
        router = Router(allowed)
        sorties = self.split(cov, router)
        r = self.request
        photos = sum(int(p.length // self.trigger_m) + 1 for p in cov.camera_runs)
        clearances = [s.profile.clearance.min_clearance_m for s in sorties if s.profile is not None]
        positional = sum(1 for s in sorties for it in s.mission.items if it.command == MavCmd.NAV_WAYPOINT)
        covered = cov.covered if cov.covered is not None else region
        stats = PlanStats(
            pattern=r.pattern.value,
            area_m2=float(covered.area),
            length_m=float(sum(np.hypot(*np.diff(s.xy, axis=0).T).sum() for s in sorties)),
            flight_time_s=float(sum(s.flight_time_s for s in sorties)),
            photo_count=photos,
            gsd_cm=r.camera.gsd_m(r.agl_m) * 100.0,
            min_clearance_m=min(clearances) if clearances else None,
            waypoints=positional,
            items=sum(len(s.mission.items) for s in sorties),
            sorties=len(sorties),
            spacing_m=self.spacing_m,
            trigger_distance_m=self.trigger_m,
            angle_deg=cov.angle_deg,
        )
        shapely.prepare(region)
        return PlannedPatrol(
            request=r,
            frame=self.frame,
            homes=tuple(self.homes),
            coverage=replace(cov, covered=covered),
            region=region,
            allowed=allowed,
            sorties=tuple(sorties),
            stats=stats,
        )


def plan_patrol(request: PatrolRequest) -> PlannedPatrol:
    """Plan ``request`` end to end; see :class:`PatrolPlanner`."""
    return PatrolPlanner(request).plan()
