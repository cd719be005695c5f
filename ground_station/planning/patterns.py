"""Coverage patterns in a local metric frame: area survey, corridor and perimeter.

Each pattern turns a local geometry into a :class:`CoveragePath`: an ordered list of
vertices, with the camera switched on at each pass's entry and off at its exit, plus the
passes themselves (for checks and statistics). Like Fields2Cover, the choice of sweep
angle minimises an objective passed in (:class:`FlightTime` by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, Polygon

from ground_station.planning.errors import InvalidAreaError
from ground_station.planning.geometry import Router


@dataclass(frozen=True, kw_only=True, slots=True)
class RouteVertex:
    """A vertex of the horizontal path in local metres.

    ``camera_trigger_m`` set means: on reaching this vertex, set the camera trigger
    distance to this value (0 switches triggering off).
    """

    x_m: float
    y_m: float
    role: str = "path"  # entry, exit, turnaround, transit, path
    camera_trigger_m: float | None = None


@dataclass(frozen=True, kw_only=True)
class CoveragePath:
    vertices: tuple[RouteVertex, ...]
    passes: tuple[LineString, ...]  # the passes over the area, in flight order
    camera_passes: tuple[LineString, ...] = ()  # where the camera runs: the passes, or longer
    angle_deg: float | None = None  # sweep heading (0 = north, clockwise) for surveys
    spacing_m: float = 0.0
    covered: Polygon | None = field(default=None, repr=False)  # what the pattern is meant to cover

    @property
    def camera_runs(self) -> tuple[LineString, ...]:
        return self.camera_passes or self.passes

    @property
    def xy(self) -> np.ndarray:
        return np.array([(v.x_m, v.y_m) for v in self.vertices], dtype=np.float64).reshape(-1, 2)


class PathObjective(Protocol):
    def __call__(self, xy: np.ndarray) -> float: ...


@dataclass(frozen=True, kw_only=True)
class FlightTime:
    """Estimated seconds to fly a polyline: cruise along it, slowing for each turn.

    A multirotor that turns by angle θ at a waypoint loses about (1 - cos θ)/2 of a full
    stop-and-go, which costs ``speed / acceleration`` seconds.
    """

    speed_m_s: float = 10.0
    acceleration_m_s2: float = 2.5

    def __call__(self, xy: np.ndarray) -> float:
        if len(xy) < 2:
            return 0.0
        d = np.diff(xy, axis=0)
        lengths = np.hypot(d[:, 0], d[:, 1])
        keep = lengths > 1e-9
        d, lengths = d[keep], lengths[keep]
        time = float(lengths.sum()) / self.speed_m_s
        if len(d) >= 2:
            u = d / lengths[:, None]
            cos_turn = np.clip(np.einsum("ij,ij->i", u[:-1], u[1:]), -1.0, 1.0)
            time += float(((1.0 - cos_turn) / 2.0).sum()) * self.speed_m_s / self.acceleration_m_s2
        return time


@dataclass(frozen=True, kw_only=True)
class PathLength:
    def __call__(self, xy: np.ndarray) -> float:
        return float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0


# --------------------------------------------------------------------------- survey


def _rotate(geom: Polygon, angle_deg: float) -> Polygon:
    """Rotate so that a heading of ``angle_deg`` (from north, clockwise) points along +x."""
    return cast(Polygon, affinity.rotate(geom, angle_deg - 90.0, origin=(0.0, 0.0)))


def _unrotate_xy(xy: np.ndarray, angle_deg: float) -> np.ndarray:
    a = math.radians(90.0 - angle_deg)
    c, s = math.cos(a), math.sin(a)
    return xy @ np.array([[c, s], [-s, c]])


def transect_segments(region: Polygon, *, angle_deg: float, spacing_m: float) -> list[np.ndarray]:
    """Segments of parallel lines ``spacing_m`` apart, heading ``angle_deg``, clipped to ``region``.

    Lines are centred across the region's extent. Returns, per line in order, an (k, 2, 2)
    array of its segments sorted along the heading, in the rotated frame.
    """
    rot = _rotate(region, angle_deg)
    minx, miny, maxx, maxy = rot.bounds
    height = maxy - miny
    n = max(1, math.ceil(height / spacing_m - 1e-9))
    y0 = miny + (height - (n - 1) * spacing_m) / 2.0
    ys = y0 + spacing_m * np.arange(n)
    lines = shapely.linestrings(
        np.stack(
            [np.column_stack([np.full(n, minx - 1.0), ys]), np.column_stack([np.full(n, maxx + 1.0), ys])],
            axis=1,
        )
    )
    shapely.prepare(rot)
    clipped = shapely.intersection(lines, rot)
    out: list[np.ndarray] = []
    for geom in clipped:
        parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, LineString) and g.length > 0.5]
        segs = np.array([np.asarray(p.coords)[[0, -1]] for p in parts], dtype=np.float64).reshape(-1, 2, 2)
        segs.sort(axis=1)  # each segment left to right (rows sorted by x since y equal)
        out.append(segs[np.argsort(segs[:, 0, 0])] if len(segs) else segs)
    return out


def _order_serpentine(lines: list[np.ndarray]) -> list[np.ndarray]:
    ordered: list[np.ndarray] = []
    forward = True
    for segs in lines:
        if not len(segs):
            continue
        seq = segs if forward else segs[::-1, ::-1]
        ordered.extend(seq)
        forward = not forward
    return ordered


def _order_nearest(lines: list[np.ndarray]) -> list[np.ndarray]:
    """Greedy nearest-end ordering: keeps lobes of concave areas together."""
    segs = [s for line in lines for s in line]
    if not segs:
        return []
    remaining = list(range(1, len(segs)))
    ordered = [segs[0]]
    here = segs[0][1, -2:]
    while remaining:
        ends = np.array([[segs[i][0, -2:], segs[i][1, -2:]] for i in remaining])  # (m, 2, 2)
        d = np.hypot(*(ends - here).transpose(2, 0, 1))  # (m, 2)
        k, end = np.unravel_index(int(np.argmin(d)), d.shape)
        seg = segs[remaining.pop(int(k))]
        seg = seg if end == 0 else seg[::-1]
        ordered.append(seg)
        here = seg[1, -2:]
    return ordered


@dataclass(frozen=True, kw_only=True)
class SurveyOptions:
    spacing_m: float
    trigger_distance_m: float
    turnaround_m: float = 10.0
    angle_deg: float | None = None  # None: choose by the objective
    objective: PathObjective = field(default_factory=FlightTime)
    # The camera's ground footprint across / along a pass; by default the least the spacing and
    # trigger distance allow (no overlap). Used to find slivers no pass sees.
    footprint_across_m: float | None = None
    footprint_along_m: float | None = None


def camera_extents(
    rot_region: Polygon, rot_allowed: Polygon, lines: list[np.ndarray], spacing_m: float
) -> list[np.ndarray]:
    """For each segment (rotated frame, one array per line), the x-range the camera must run.

    Every point of the region lies in the strip of half a spacing around some line; the
    part of that strip a segment answers for can reach past the segment's ends (the tip
    of a spike between two lines). The camera runs over the whole of it, as far as the
    vehicle may fly (``rot_allowed``, holes excluded), so the photos cover the region.
    """
    minx, _, maxx, _ = rot_region.bounds
    ys = np.array([float(segs[0, 0, 1]) if len(segs) else np.nan for segs in lines])
    live = np.flatnonzero(np.isfinite(ys))
    strips = shapely.box(minx - 1.0, ys[live] - spacing_m / 2.0, maxx + 1.0, ys[live] + spacing_m / 2.0)
    pieces_per_line = shapely.intersection(strips, rot_region)
    rays = shapely.linestrings(
        np.stack([np.column_stack([np.full(len(live), minx - 1e4), ys[live]]),
                  np.column_stack([np.full(len(live), maxx + 1e4), ys[live]])], axis=1)
    )  # fmt: skip
    reach_per_line = shapely.intersection(rays, rot_allowed)
    out: list[np.ndarray] = [np.empty((0, 2)) for _ in lines]
    for k, pieces, reach in zip(live, pieces_per_line, reach_per_line, strict=True):
        segs = lines[k]
        cam = segs[:, :, 0].copy()  # (n, 2): x0, x1
        for piece in getattr(pieces, "geoms", [pieces]):
            if piece.is_empty or piece.area <= 0:
                continue
            px0, _, px1, _ = piece.bounds
            j = int(np.argmax(np.minimum(cam[:, 1], px1) - np.maximum(cam[:, 0], px0)))
            cam[j] = (min(cam[j, 0], px0), max(cam[j, 1], px1))
        spans = np.array(
            [shapely.bounds(g)[[0, 2]] for g in getattr(reach, "geoms", [reach]) if isinstance(g, LineString)]
        ).reshape(-1, 2)
        mid = segs[:, :, 0].mean(axis=1)
        for j in range(len(segs)):
            hit = np.flatnonzero((spans[:, 0] - 0.01 <= mid[j]) & (mid[j] <= spans[:, 1] + 0.01))
            lo, hi = spans[hit[0]] if len(hit) else segs[j, :, 0]
            cam[j] = (min(max(cam[j, 0], lo), segs[j, 0, 0]), max(min(cam[j, 1], hi), segs[j, 1, 0]))
        out[k] = cam
    return out


def _gap_fillers(
    rot_region: Polygon, rows_per_line: list[np.ndarray], options: SurveyOptions
) -> list[np.ndarray]:
    """Short extra passes for slivers of the region that no camera run sees.

    A spike thinner than the line spacing can poke out between two lines where neither can
    reach it without leaving the area. Each such gap (judged with the camera's footprint)
    gets a pass along its long axis,
    clipped to the region; a few rounds catch what the first fillers leave.
    """
    half_w = (options.footprint_across_m or options.spacing_m) / 2.0
    half_l = (options.footprint_along_m or options.trigger_distance_m) / 2.0
    rows = np.concatenate([r for r in rows_per_line if len(r)])
    a, b = rows[:, 0, 2:], rows[:, 1, 2:]
    u = (b - a) / np.maximum(np.hypot(*(b - a).T), 1e-9)[:, None]
    runs = shapely.linestrings(np.stack([a - u * half_l, b + u * half_l], axis=1))
    seen = shapely.union_all(shapely.buffer(runs, half_w, cap_style="flat"))
    fillers: list[np.ndarray] = []
    for _ in range(3):
        gaps = shapely.difference(rot_region, seen)
        added = []
        for gap in getattr(gaps, "geoms", [gaps]):
            if gap.is_empty or gap.area < 1e-4 * rot_region.area:
                continue
            box = np.asarray(gap.minimum_rotated_rectangle.exterior.coords)[:4]
            sides = np.hypot(*np.diff(np.vstack([box, box[:1]]), axis=0).T)
            k = int(np.argmax(sides[:2]))  # the long pair of sides: 0-1 & 2-3, or 1-2 & 3-0
            p0 = 0.5 * (box[k] + box[(k + 3) % 4])
            p1 = 0.5 * (box[k + 1] + box[(k + 2) % 4])
            axis = shapely.intersection(LineString([p0, p1]), rot_region)
            parts = [
                g for g in getattr(axis, "geoms", [axis]) if isinstance(g, LineString) and g.length > 0.5
            ]
            if parts:
                c = np.asarray(max(parts, key=lambda g: g.length).coords)[[0, -1]]
                fillers.append(np.concatenate([c, c], axis=1)[None])
                added.append(LineString(c).buffer(half_w, cap_style="flat"))
        if not added:
            break
        seen = shapely.union_all([seen, *added])
    return fillers


@dataclass(frozen=True, kw_only=True)
class _Layout:
    """Passes at one heading, in flight order, in the rotated frame.

    ``rows[i]`` is ``[[x0, y0, cx0, cy0], [x1, y1, cx1, cy1]]``: the in-area segment and
    the camera run; ``run_in`` / ``run_out`` say whether a turnaround fits before / after.
    """

    angle_deg: float
    rows: np.ndarray  # (n, 2, 4)
    run_in: np.ndarray  # (n,) bool
    run_out: np.ndarray
    cost: float


def _layout(region: Polygon, allowed: Polygon, options: SurveyOptions, angle_deg: float) -> _Layout | None:
    """Lay the passes out at ``angle_deg`` and price the best ordering (no routing)."""
    lines = transect_segments(region, angle_deg=angle_deg, spacing_m=options.spacing_m)
    if not any(len(segs) for segs in lines):
        return None
    rot_region, rot_allowed = _rotate(region, angle_deg), _rotate(allowed, angle_deg)
    cams = camera_extents(rot_region, rot_allowed, lines, options.spacing_m)
    rows_per_line = [
        np.concatenate([segs, np.stack([cam, segs[:, :, 1]], axis=2)], axis=2) if len(segs) else segs
        for segs, cam in zip(lines, cams, strict=True)
    ]
    rows_per_line += _gap_fillers(rot_region, rows_per_line, options)
    rows_per_line.sort(key=lambda rows: float(rows[0, 0, 1]) if len(rows) else math.inf)
    best: _Layout | None = None
    for order in (_order_serpentine, _order_nearest):
        rows = np.array(order(rows_per_line), dtype=np.float64)
        a, b = rows[:, 0, 2:], rows[:, 1, 2:]
        u = (b - a) / np.maximum(np.hypot(*(b - a).T), 1e-9)[:, None]
        before, after = a - u * options.turnaround_m, b + u * options.turnaround_m
        if options.turnaround_m > 0:
            run_in = shapely.covers(rot_allowed, shapely.linestrings(np.stack([before, a], axis=1)))
            run_out = shapely.covers(rot_allowed, shapely.linestrings(np.stack([b, after], axis=1)))
        else:
            run_in = run_out = np.zeros(len(rows), dtype=bool)
        pts = np.stack(
            [np.where(run_in[:, None], before, a), a, b, np.where(run_out[:, None], after, b)], axis=1
        )
        cost = options.objective(_unrotate_xy(pts.reshape(-1, 2), angle_deg))
        if best is None or cost < best.cost:
            best = _Layout(angle_deg=angle_deg, rows=rows, run_in=run_in, run_out=run_out, cost=cost)
    return best


def _build_survey(
    layout: _Layout, router: Router | None, options: SurveyOptions
) -> tuple[CoveragePath, float]:
    """Vertices for a layout, with routes around holes between passes."""
    angle = layout.angle_deg
    vertices: list[RouteVertex] = []
    passes: list[LineString] = []
    camera_passes: list[LineString] = []
    for row, run_in, run_out in zip(layout.rows, layout.run_in, layout.run_out, strict=True):
        a, b = row[0, 2:], row[1, 2:]
        u = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
        pieces: list[tuple[np.ndarray, str, float | None]] = []
        if run_in:
            pieces.append((a - u * options.turnaround_m, "turnaround", None))
        pieces.append((a, "entry", options.trigger_distance_m))
        pieces.append((b, "exit", 0.0))
        if run_out:
            pieces.append((b + u * options.turnaround_m, "turnaround", None))
        xy = _unrotate_xy(np.array([p for p, _, _ in pieces]), angle)
        if router is not None and vertices:
            last = (vertices[-1].x_m, vertices[-1].y_m)
            for tx, ty in router.route(last, (float(xy[0, 0]), float(xy[0, 1]))):
                vertices.append(RouteVertex(x_m=tx, y_m=ty, role="transit"))
        for (x, y), (_, role, trig) in zip(xy, pieces, strict=True):
            vertices.append(RouteVertex(x_m=float(x), y_m=float(y), role=role, camera_trigger_m=trig))
        passes.append(LineString(_unrotate_xy(row[:, :2], angle)))
        camera_passes.append(LineString(_unrotate_xy(row[:, 2:], angle)))
    path = CoveragePath(
        vertices=tuple(vertices),
        passes=tuple(passes),
        camera_passes=tuple(camera_passes),
        angle_deg=angle % 180.0,
        spacing_m=options.spacing_m,
    )
    return path, options.objective(path.xy)


def candidate_angles(region: Polygon, *, step_deg: float = 1.0) -> np.ndarray:
    """A grid of headings plus every edge direction of the region and its hull (where width is least)."""
    grid = np.arange(0.0, 180.0, step_deg)
    edges = []
    for ring in (region.convex_hull.exterior, region.exterior, *region.interiors):
        c = np.asarray(ring.coords)
        d = np.diff(c, axis=0)
        edges.append((np.degrees(np.arctan2(d[:, 0], d[:, 1]))) % 180.0)
    return np.unique(np.round(np.concatenate([grid, *edges]), 6))


def survey(
    region: Polygon,
    *,
    options: SurveyOptions,
    allowed: Polygon | None = None,
) -> CoveragePath:
    """Cover ``region`` (local metres; holes are exclusion zones) with parallel passes.

    ``allowed`` is where the vehicle may fly (turnarounds and routes between passes);
    by default the region itself. When ``options.angle_deg`` is None, every candidate
    heading (a 1° grid and the region's edge directions) is laid out and priced by
    ``options.objective``, the best are refined to 0.1° then 0.02°, and the finalists are
    priced again with their routes around holes.
    """
    if options.spacing_m <= 0 or options.trigger_distance_m <= 0:
        raise InvalidAreaError(
            f"expected positive line spacing and trigger distance, got {options.spacing_m} and "
            f"{options.trigger_distance_m}"
        )
    allowed = allowed if allowed is not None else region
    router = Router(allowed) if region.interiors or _is_concave(allowed) else None
    narrow = InvalidAreaError(
        f"the area is narrower than one line spacing ({options.spacing_m:.1f} m) at every angle"
    )
    if options.angle_deg is not None:
        layout = _layout(region, allowed, options, options.angle_deg)
        if layout is None:
            raise narrow
        return _build_survey(layout, router, options)[0]
    layouts: dict[float, _Layout] = {}

    def price(angles: np.ndarray) -> None:
        for a in np.round(np.asarray(angles) % 180.0, 6):
            if float(a) not in layouts and (lay := _layout(region, allowed, options, float(a))) is not None:
                layouts[float(a)] = lay

    def best(count: int) -> list[_Layout]:
        return sorted(layouts.values(), key=lambda lay: lay.cost)[:count]

    price(candidate_angles(region, step_deg=1.0))
    if not layouts:
        raise narrow
    for count, half, step in ((3, 1.0, 0.1), (2, 0.1, 0.02)):
        for lay in best(count):
            price(np.arange(lay.angle_deg - half, lay.angle_deg + half + step / 2, step))
    finalists = best(4 if router is not None else 1)
    return min((_build_survey(lay, router, options) for lay in finalists), key=lambda pc: pc[1])[0]


def _is_concave(poly: Polygon) -> bool:
    return bool(poly.convex_hull.area - poly.area > 1e-6 * max(poly.area, 1.0))


# --------------------------------------------------------------------------- corridor


def _longest_line(geom: object) -> LineString:
    if isinstance(geom, LineString):
        return geom
    if isinstance(geom, MultiLineString):
        merged = shapely.line_merge(geom)
        parts = getattr(merged, "geoms", [merged])
        return max(parts, key=lambda g: g.length)
    raise InvalidAreaError(f"expected a line from the corridor offset, got {type(geom).__name__}")


def corridor(
    line: LineString,
    *,
    width_m: float,
    spacing_m: float,
    trigger_distance_m: float,
    turnaround_m: float = 10.0,
) -> CoveragePath:
    """Passes parallel to ``line`` (local metres) spread over ``width_m``, flown back and forth."""
    if width_m <= 0 or spacing_m <= 0:
        raise InvalidAreaError(f"expected a positive corridor width and spacing, got {width_m}, {spacing_m}")
    n = max(1, math.ceil(width_m / spacing_m - 1e-9))
    offsets = (np.arange(n) - (n - 1) / 2.0) * min(spacing_m, width_m / n)
    vertices: list[RouteVertex] = []
    passes: list[LineString] = []
    for k, off in enumerate(offsets):
        pass_line = (
            line if abs(off) < 1e-9 else _longest_line(line.offset_curve(float(off), join_style="round"))
        )
        pass_line = pass_line.simplify(0.5)
        xy = np.asarray(pass_line.coords, dtype=np.float64)
        if k % 2 == 1:
            xy = xy[::-1]
        start_dir = (xy[0] - xy[1]) / max(float(np.hypot(*(xy[0] - xy[1]))), 1e-9)
        end_dir = (xy[-1] - xy[-2]) / max(float(np.hypot(*(xy[-1] - xy[-2]))), 1e-9)
        if turnaround_m > 0:
            p = xy[0] + start_dir * turnaround_m
            vertices.append(RouteVertex(x_m=float(p[0]), y_m=float(p[1]), role="turnaround"))
        for i, (x, y) in enumerate(xy):
            role, trig = ("entry", trigger_distance_m) if i == 0 else ("path", None)
            if i == len(xy) - 1:
                role, trig = "exit", 0.0
            vertices.append(RouteVertex(x_m=float(x), y_m=float(y), role=role, camera_trigger_m=trig))
        if turnaround_m > 0:
            p = xy[-1] + end_dir * turnaround_m
            vertices.append(RouteVertex(x_m=float(p[0]), y_m=float(p[1]), role="turnaround"))
        passes.append(LineString(xy))
    covered = line.buffer(width_m / 2.0, cap_style="flat")
    return CoveragePath(vertices=tuple(vertices), passes=tuple(passes), spacing_m=spacing_m, covered=covered)


# --------------------------------------------------------------------------- perimeter


def perimeter(
    polygon: Polygon,
    *,
    offset_m: float,
    trigger_distance_m: float,
    start_near: tuple[float, float] | None = None,
    clockwise: bool = True,
) -> CoveragePath:
    """One loop around ``polygon``'s outline moved out (``offset_m`` > 0) or in (< 0).

    The loop starts at the vertex nearest ``start_near`` and closes on itself.
    """
    ring_poly = polygon.buffer(offset_m, join_style="round", quad_segs=4) if offset_m else polygon
    if ring_poly.is_empty:
        raise InvalidAreaError(f"an inset of {-offset_m:.0f} m leaves nothing of the area")
    if not isinstance(ring_poly, Polygon):
        ring_poly = max(getattr(ring_poly, "geoms", []), key=lambda g: g.area)
    ring = ring_poly.exterior.simplify(1.0)
    xy = np.asarray(ring.coords, dtype=np.float64)[:-1]
    signed = float(np.sum(xy[:, 0] * np.roll(xy[:, 1], -1) - np.roll(xy[:, 0], -1) * xy[:, 1]))
    if (signed > 0) == clockwise:  # positive = counter-clockwise
        xy = xy[::-1]
    if start_near is not None:
        k = int(np.argmin(np.hypot(*(xy - np.asarray(start_near)).T)))
        xy = np.roll(xy, -k, axis=0)
    xy = np.vstack([xy, xy[:1]])
    vertices = [
        RouteVertex(
            x_m=float(x),
            y_m=float(y),
            role="entry" if i == 0 else ("exit" if i == len(xy) - 1 else "path"),
            camera_trigger_m=trigger_distance_m if i == 0 else (0.0 if i == len(xy) - 1 else None),
        )
        for i, (x, y) in enumerate(xy)
    ]
    return CoveragePath(vertices=tuple(vertices), passes=(LineString(xy),), covered=None)
