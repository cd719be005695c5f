"""Patrol areas: reading, validating and moving them into a local metric frame.

Areas arrive as GeoJSON in WGS84 (a Polygon, holes being exclusion zones, or a
LineString for a corridor). Planning happens in a :class:`geo.frames.LocalFrame`;
this module also finds transit routes that stay inside a region and out of its holes.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LinearRing, LineString, Polygon, shape
from shapely.validation import explain_validity

from geo.frames import LocalFrame
from ground_station.planning.errors import InvalidAreaError


@dataclass(frozen=True, kw_only=True)
class PatrolArea:
    """An area in WGS84 (shapely geometry with x = lon, y = lat) and a name."""

    geometry: Polygon | LineString
    name: str = ""

    @property
    def is_line(self) -> bool:
        return isinstance(self.geometry, LineString)


def load_area(path: str | Path) -> PatrolArea:
    """Read a GeoJSON file holding one Polygon or LineString (bare, Feature or FeatureCollection)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidAreaError(f"{path}: cannot read the area file ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise InvalidAreaError(f"{path}: expected GeoJSON, got invalid JSON ({exc})") from exc
    return area_from_geojson(doc, source=str(path))


def area_from_geojson(doc: Any, *, source: str = "<geojson>") -> PatrolArea:
    if not isinstance(doc, dict):
        raise InvalidAreaError(f"{source}: expected a GeoJSON object, got {type(doc).__name__}")
    name = ""
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features") or []
        shapes = [f for f in features if isinstance(f, dict) and f.get("geometry")]
        if len(shapes) != 1:
            raise InvalidAreaError(
                f"{source}: expected a FeatureCollection with exactly one geometry, got {len(shapes)}"
            )
        doc = shapes[0]
        kind = "Feature"
    if kind == "Feature":
        name = str((doc.get("properties") or {}).get("name", ""))
        doc = doc.get("geometry")
        if not isinstance(doc, dict):
            raise InvalidAreaError(f"{source}: the Feature has no geometry")
    try:
        geom = shape(doc)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        raise InvalidAreaError(f"{source}: not a GeoJSON geometry ({exc})") from exc
    if not isinstance(geom, Polygon | LineString):
        raise InvalidAreaError(f"{source}: expected a Polygon or LineString, got {geom.geom_type}")
    validate_geometry(geom, source=source)
    return PatrolArea(geometry=geom, name=name)


def outline_coords(geom: Polygon | LineString) -> np.ndarray:
    """The line's points, or the polygon's outer ring, as an (n, 2) array of ``[lon, lat]``."""
    ring = geom.coords if isinstance(geom, LineString) else geom.exterior.coords
    return np.asarray(ring, dtype=np.float64)[:, :2]


def validate_geometry(geom: Polygon | LineString, *, source: str = "area") -> None:
    """Raise :class:`InvalidAreaError` for empty, degenerate or self-intersecting shapes."""
    if geom.is_empty:
        raise InvalidAreaError(f"{source}: the geometry is empty")
    coords = outline_coords(geom)
    if not np.isfinite(coords).all():
        raise InvalidAreaError(f"{source}: coordinates must be finite numbers")
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise InvalidAreaError(
            f"{source}: expected [lon, lat] in degrees (GeoJSON order), got values outside ±180/±90"
        )
    if isinstance(geom, LineString):
        if geom.length == 0:
            raise InvalidAreaError(f"{source}: the corridor line has zero length")
        if not geom.is_simple:
            raise InvalidAreaError(f"{source}: the corridor line crosses itself")
        return
    if len(set(geom.exterior.coords)) < 3:
        raise InvalidAreaError(f"{source}: the polygon has no area (needs 3 distinct corners)")
    if not geom.is_valid:
        raise InvalidAreaError(f"{source}: the polygon is not valid: {explain_validity(geom)}")
    if geom.area == 0:
        raise InvalidAreaError(f"{source}: the polygon has no area (its corners are in a line)")


def local_frame_for(geom: Polygon | LineString) -> LocalFrame:
    """A local frame centred on the geometry."""
    c = geom.centroid
    return LocalFrame(origin_lat_deg=c.y, origin_lon_deg=c.x)


def to_local(frame: LocalFrame, geom: Polygon | LineString) -> Polygon | LineString:
    """The geometry in local metres (x east, y north)."""

    def conv(coords: Any) -> np.ndarray:
        arr = np.asarray(coords, dtype=np.float64)
        x, y = frame.to_local(arr[:, 1], arr[:, 0])
        return np.column_stack([x, y])

    if isinstance(geom, LineString):
        return LineString(conv(geom.coords))
    return Polygon(conv(geom.exterior.coords), [conv(r.coords) for r in geom.interiors])


def to_geodetic_coords(frame: LocalFrame, xy: np.ndarray) -> np.ndarray:
    """(n, 2) local metres to (n, 2) ``(lat_deg, lon_deg)``."""
    lat, lon = frame.to_geodetic(xy[:, 0], xy[:, 1])
    return np.column_stack([lat, lon])


def polygon_to_geodetic(frame: LocalFrame, poly: Polygon) -> tuple[tuple[float, float], ...]:
    """A local polygon's exterior as ``(lat_deg, lon_deg)`` vertices, not closed, counter-clockwise."""
    ring = LinearRing(poly.exterior.coords)
    coords = np.asarray(ring.coords, dtype=np.float64)[:-1]
    if not ring.is_ccw:
        coords = coords[::-1]
    return tuple((float(a), float(b)) for a, b in to_geodetic_coords(frame, coords))


class Router:
    """Shortest routes between points that stay inside ``region`` (holes included).

    A visibility graph over the region's vertices, nudged a little inward, searched
    with Dijkstra. Straight lines are used whenever they fit.
    """

    def __init__(self, region: Polygon, *, clearance_m: float = 1.0) -> None:
        # Points on the boundary come back from rotations a hair outside: judge with a margin.
        self._judge = region.buffer(0.05, quad_segs=2)
        shapely.prepare(self._judge)
        inner = region.buffer(-clearance_m, join_style="mitre")
        nodes: list[tuple[float, float]] = []
        for geom in getattr(inner, "geoms", [inner]):
            if geom.is_empty:
                continue
            for ring in (geom.exterior, *geom.interiors):
                nodes.extend((float(x), float(y)) for x, y in list(ring.coords)[:-1])
        self._nodes = np.asarray(nodes, dtype=np.float64).reshape(-1, 2)
        self._adjacency: dict[int, list[tuple[int, float]]] | None = None

    def _visible(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For pairs of points (n, 2) each, whether the straight segment stays in the region."""
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        return np.asarray(shapely.covers(self._judge, lines), dtype=bool)

    def _graph(self) -> dict[int, list[tuple[int, float]]]:
        if self._adjacency is None:
            n = len(self._nodes)
            i, j = np.triu_indices(n, k=1)
            ok = self._visible(self._nodes[i], self._nodes[j]) if n > 1 else np.zeros(0, bool)
            adjacency: dict[int, list[tuple[int, float]]] = {k: [] for k in range(n)}
            lengths = np.hypot(*(self._nodes[j] - self._nodes[i]).T)
            for a, b, d in zip(i[ok], j[ok], lengths[ok], strict=True):
                adjacency[int(a)].append((int(b), float(d)))
                adjacency[int(b)].append((int(a), float(d)))
            self._adjacency = adjacency
        return self._adjacency

    def route(self, start: tuple[float, float], goal: tuple[float, float]) -> list[tuple[float, float]]:
        """The intermediate vertices of a shortest inside route (empty when straight is fine)."""
        s, g = np.asarray(start, dtype=np.float64), np.asarray(goal, dtype=np.float64)
        if self._visible(s[None], g[None])[0] or np.allclose(s, g):
            return []
        graph = self._graph()
        n = len(self._nodes)
        from_start = self._visible(np.repeat(s[None], n, 0), self._nodes)
        to_goal = self._visible(self._nodes, np.repeat(g[None], n, 0))
        dist = np.full(n, np.inf)
        prev = np.full(n, -1)
        heap: list[tuple[float, int]] = []
        for first in np.flatnonzero(from_start).tolist():
            dist[first] = float(np.hypot(*(self._nodes[first] - s)))
            heapq.heappush(heap, (float(dist[first]), first))
        best, best_node = np.inf, -1
        while heap:
            d, k = heapq.heappop(heap)
            if d > dist[k] or d >= best:
                continue
            if to_goal[k]:
                total = d + float(np.hypot(*(g - self._nodes[k])))
                if total < best:
                    best, best_node = total, k
            for m, w in graph[k]:
                if d + w < dist[m]:
                    dist[m] = d + w
                    prev[m] = k
                    heapq.heappush(heap, (d + w, m))
        if best_node < 0:
            raise InvalidAreaError(
                f"no route inside the allowed region from {tuple(np.round(s, 1))} to {tuple(np.round(g, 1))}"
            )
        path = []
        node = best_node
        while node >= 0:
            path.append((float(self._nodes[node][0]), float(self._nodes[node][1])))
            node = int(prev[node])
        return path[::-1]
