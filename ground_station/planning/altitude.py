"""Terrain following for missions whose heights the planner computes (frames 0 and 3).

Along the horizontal path the terrain is known cell by cell (every DEM cell a leg
crosses, from :meth:`geo.Terrain.cells_under_leg`). Each cell demands that the vehicle be
at least ``target - tolerance`` above its highest post. That floor is raised where the
vehicle could not climb (or descend) to it in time at its rate limits, giving a piecewise
linear floor; the altitude may sit in a band above it. Waypoints are then placed greedily:
from each waypoint the straight leg runs as far along the path as it can while staying in
the band and within the climb and descent slopes, and the next waypoint goes at the
farthest knot it reaches. Route vertices (pass ends, turns) are always waypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.frames import LocalFrame
from geo.terrain import Terrain
from ground_station.planning.errors import PlanLimitError


@dataclass(frozen=True, kw_only=True)
class PathCells:
    """The terrain under a horizontal path, exactly, as pieces of distance along it.

    On each piece (a DEM cell a leg crosses, split where the surface peaks inside it) the
    ground is ``a + b u + c u**2`` with ``u`` the metres from the piece's start, and is
    monotone. ``vertex_s_m`` is the distance along the path of each input vertex.
    """

    s_start_m: np.ndarray
    s_end_m: np.ndarray
    poly: np.ndarray  # (n, 3): a, b, c
    vertex_s_m: np.ndarray

    def height_at_start(self) -> np.ndarray:
        return self.poly[:, 0]

    def height_at_end(self) -> np.ndarray:
        u = self.s_end_m - self.s_start_m
        return self.poly[:, 0] + self.poly[:, 1] * u + self.poly[:, 2] * u * u

    def bulge_m(self) -> np.ndarray:
        """How far the ground rises above the straight chord across each piece (concave pieces)."""
        u = self.s_end_m - self.s_start_m
        return np.maximum(-self.poly[:, 2], 0.0) * u * u / 4.0


def _split_at_peaks(
    s0: np.ndarray, s1: np.ndarray, poly: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut each piece where its parabola turns inside it, so every piece is monotone."""
    a, b, c = poly.T
    with np.errstate(divide="ignore", invalid="ignore"):
        u_turn = np.where(c != 0.0, -b / (2.0 * c), -1.0)
    cut = (u_turn > 1e-9) & (u_turn < (s1 - s0) - 1e-9)
    k = np.flatnonzero(cut)
    u = u_turn[k]
    second = np.column_stack([a[k] + b[k] * u + c[k] * u * u, b[k] + 2.0 * c[k] * u, c[k]])
    s0_all = np.concatenate([s0, s0[k] + u])
    s1_all = np.concatenate([np.where(cut, s0 + u_turn, s1), s1[k]])
    poly_all = np.concatenate([poly, second])
    order = np.argsort(s0_all, kind="stable")
    return s0_all[order], s1_all[order], poly_all[order]


#: Legs are walked in pieces no longer than this, so that a leg straight in the local frame
#: (as the vehicle flies it) and straight in the DEM's own coordinates differ by millimetres.
MAX_PIECE_M = 250.0


def path_cells(terrain: Terrain, frame: LocalFrame, xy: np.ndarray) -> PathCells:
    """The ground under the polyline ``xy`` (local metres), every DEM cell of every leg."""
    lengths = np.hypot(*np.diff(xy, axis=0).T)
    vertex_s = np.concatenate([[0.0], np.cumsum(lengths)])
    pieces = np.maximum(np.ceil(lengths / MAX_PIECE_M), 1).astype(int)
    f = np.concatenate([np.arange(n) / n for n in pieces] + [[1.0]])
    leg = np.concatenate([np.full(n, i) for i, n in enumerate(pieces)] + [[len(lengths) - 1]])
    px = xy[leg, 0] + f * (xy[np.minimum(leg + 1, len(xy) - 1), 0] - xy[leg, 0])
    py = xy[leg, 1] + f * (xy[np.minimum(leg + 1, len(xy) - 1), 1] - xy[leg, 1])
    ps = vertex_s[leg] + f * lengths[leg] if len(lengths) else np.zeros(1)
    lat, lon = frame.to_geodetic(px, py)
    starts, ends, polys = [], [], []
    for i in range(len(px) - 1):
        length = ps[i + 1] - ps[i]
        if length < 1e-6:
            continue
        cells = terrain.cells_under_leg(lat[i], lon[i], lat[i + 1], lon[i + 1])
        p0, p1, p2 = cells.height_poly_m.T
        ts = cells.t_start
        # h(t) = p0 + p1 t + p2 t^2 with t = ts + u / L: re-centre on each piece's start, in metres.
        polys.append(
            np.column_stack(
                [p0 + p1 * ts + p2 * ts * ts, (p1 + 2.0 * p2 * ts) / length, p2 / (length * length)]
            )
        )
        starts.append(ps[i] + ts * length)
        ends.append(ps[i] + cells.t_end * length)
    if not starts:
        h = float(terrain.elevation(lat[0], lon[0]))
        zero = np.array([0.0])
        return PathCells(s_start_m=zero, s_end_m=zero, poly=np.array([[h, 0.0, 0.0]]), vertex_s_m=vertex_s)
    s0, s1, poly = _split_at_peaks(np.concatenate(starts), np.concatenate(ends), np.concatenate(polys))
    return PathCells(s_start_m=s0, s_end_m=s1, poly=poly, vertex_s_m=vertex_s)


@dataclass(frozen=True, kw_only=True)
class Clearance:
    """How a 3-D path sits over the terrain, judged exactly, piece by piece."""

    min_clearance_m: float  # least height above the ground anywhere on the path
    max_height_agl_m: float  # most height above the ground at any piece end
    violations: int  # DEM cells (pieces) where the clearance drops below the asked minimum
    worst_s_m: float  # distance along the path of the least clearance


def clearance(
    cells: PathCells, s_m: np.ndarray, altitude_amsl_m: np.ndarray, *, minimum_m: float
) -> Clearance:
    """Judge a path whose altitude is linear between ``(s_m, altitude_amsl_m)`` points.

    On each piece the altitude is linear (waypoints sit on piece ends) and the ground a
    parabola, so the least clearance is at an end or where the two slopes match.
    """
    length = cells.s_end_m - cells.s_start_m
    z0 = np.interp(cells.s_start_m, s_m, altitude_amsl_m)
    z1 = np.interp(cells.s_end_m, s_m, altitude_amsl_m)
    a, b, c = cells.poly.T
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(length > 0, (z1 - z0) / length, 0.0)
        u = np.where(c < 0, (slope - b) / (2.0 * c), 0.0)
    u = np.clip(np.nan_to_num(u), 0.0, length)
    gap_start = z0 - a
    gap_end = z1 - cells.height_at_end()
    gap_mid = z0 + slope * u - (a + b * u + c * u * u)
    low = np.minimum(np.minimum(gap_start, gap_end), gap_mid)
    k = int(np.argmin(low))
    return Clearance(
        min_clearance_m=float(low[k]),
        max_height_agl_m=float(max(gap_start.max(), gap_end.max())),
        violations=int(np.count_nonzero(low < minimum_m - 1e-6)),
        worst_s_m=float(cells.s_start_m[k] + u[k]),
    )


@dataclass(frozen=True, kw_only=True)
class AltitudeProfile:
    """Waypoints of a terrain-following path: positions, AMSL heights and where they came from."""

    x_m: np.ndarray
    y_m: np.ndarray
    s_m: np.ndarray
    altitude_amsl_m: np.ndarray
    vertex_index: np.ndarray  # index into the input vertices, -1 for a waypoint the terrain added
    clearance: Clearance


def _knots(cells: PathCells, minimum_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knot positions, the ground there, and the floor a straight leg must clear there.

    A leg that is linear between knots stays ``minimum_m`` above a piece's monotone ground
    when it does so at both ends plus the piece's bulge above its chord.
    """
    bulge = cells.bulge_m()
    s = np.concatenate([cells.s_start_m, cells.s_end_m, cells.vertex_s_m])
    ground = np.concatenate(
        [cells.height_at_start(), cells.height_at_end(), np.full(len(cells.vertex_s_m), -np.inf)]
    )
    need = np.concatenate(
        [ground[: len(bulge)] + bulge, ground[len(bulge) : 2 * len(bulge)] + bulge, ground[2 * len(bulge) :]]
    )
    order = np.lexsort((-need, s))
    s, ground, need = s[order], ground[order], need[order]
    s_round = np.round(s, 6)
    first = np.concatenate([[True], s_round[1:] != s_round[:-1]])
    idx = np.flatnonzero(first)
    return s[idx], np.maximum.reduceat(ground, idx), np.maximum.reduceat(need, idx) + minimum_m


def rate_limited_floor(
    s_m: np.ndarray,
    floor_m: np.ndarray,
    *,
    climb_slope: np.ndarray | float,
    descent_slope: np.ndarray | float,
) -> np.ndarray:
    """Raise ``floor_m`` so that it never climbs faster than ``climb_slope`` nor descends faster
    than ``descent_slope`` (rise per metre travelled, per knot interval or one for all):
    climb early before a ridge, descend late after it."""
    out = floor_m.astype(np.float64).copy()
    ds = np.diff(s_m)
    up = np.broadcast_to(np.asarray(climb_slope, dtype=np.float64), ds.shape) * ds
    down = np.broadcast_to(np.asarray(descent_slope, dtype=np.float64), ds.shape) * ds
    for i in range(1, len(out)):  # descending too fast after a peak: stay high longer
        out[i] = max(out[i], out[i - 1] - down[i - 1])
    for i in range(len(out) - 2, -1, -1):  # climbing too fast before a rise: start earlier
        out[i] = max(out[i], out[i + 1] - up[i])
    return out


def follow_terrain(
    xy: np.ndarray,
    *,
    terrain: Terrain,
    frame: LocalFrame,
    target_agl_m: float,
    tolerance_m: float,
    climb_slope: float,
    descent_slope: float,
    band_m: float | None = None,
    ceiling_agl_m: float | None = None,
    free_legs: np.ndarray | None = None,
    free_slope: float = 1.0,
) -> AltitudeProfile:
    """Heights for the horizontal path ``xy`` that keep ``target - tolerance`` above every cell.

    ``climb_slope`` / ``descent_slope`` are the vehicle's climb / descent rate divided by its
    cruise speed. ``band_m`` (default ``2 * tolerance``) is how far above the floor a leg may run.
    Legs marked in ``free_legs`` (one flag per leg: transits, with the camera off) may climb
    and descend at up to ``free_slope``: the vehicle slows down there rather than overfly.
    Raises :class:`PlanLimitError` when the path cannot stay under ``ceiling_agl_m``.
    """
    if target_agl_m <= 0 or tolerance_m < 0 or tolerance_m >= target_agl_m:
        raise PlanLimitError(
            f"expected 0 <= tolerance < target height, got target {target_agl_m} m, tolerance {tolerance_m} m"
        )
    if climb_slope <= 0 or descent_slope <= 0:
        raise PlanLimitError(f"expected positive climb/descent slopes, got {climb_slope}, {descent_slope}")
    band = 2.0 * tolerance_m if band_m is None else band_m
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    cells = path_cells(terrain, frame, xy)
    minimum = target_agl_m - tolerance_m
    s, ground, req = _knots(cells, minimum)
    climb = np.full(max(len(s) - 1, 0), climb_slope)
    descent = np.full(max(len(s) - 1, 0), descent_slope)
    if free_legs is not None and len(s) > 1:
        leg = np.clip(np.searchsorted(cells.vertex_s_m, 0.5 * (s[1:] + s[:-1])) - 1, 0, len(xy) - 2)
        free = np.asarray(free_legs, dtype=bool)[leg]
        climb[free] = max(free_slope, climb_slope)
        descent[free] = max(free_slope, descent_slope)
    floor = rate_limited_floor(s, req, climb_slope=climb, descent_slope=descent)
    top = floor + band
    kx = np.interp(s, cells.vertex_s_m, xy[:, 0])
    ky = np.interp(s, cells.vertex_s_m, xy[:, 1])
    desired = np.clip(ground + target_agl_m, floor, top)
    forced = np.searchsorted(s, cells.vertex_s_m - 1e-6)
    forced = np.unique(np.clip(forced, 0, len(s) - 1))

    chosen = [0]
    z = [float(desired[0])]
    i = 0
    while i < len(s) - 1:
        f = int(forced[np.searchsorted(forced, i, side="right")]) if forced[-1] > i else len(s) - 1
        ds = s[i + 1 : f + 1] - s[i]
        max_up = np.minimum.accumulate(climb[i:f])
        max_down = np.minimum.accumulate(descent[i:f])
        lo = np.maximum.accumulate(np.maximum((floor[i + 1 : f + 1] - z[-1]) / ds, -max_down))
        hi = np.minimum.accumulate(np.minimum((top[i + 1 : f + 1] - z[-1]) / ds, max_up))
        ok = lo <= hi + 1e-12
        m = len(ok) if ok.all() else max(int(np.argmin(ok)), 1)
        j = i + m
        lo_z = z[-1] + lo[m - 1] * ds[m - 1]
        hi_z = z[-1] + hi[m - 1] * ds[m - 1]
        z.append(float(np.clip(desired[j], min(lo_z, hi_z), max(lo_z, hi_z))))
        chosen.append(j)
        i = j
    idx = np.asarray(chosen)
    zs = np.asarray(z)
    result_clearance = clearance(cells, s[idx], zs, minimum_m=minimum)
    if ceiling_agl_m is not None and result_clearance.max_height_agl_m > ceiling_agl_m + 1e-6:
        raise PlanLimitError(
            f"terrain following needs up to {result_clearance.max_height_agl_m:.0f} m above ground, over the "
            f"{ceiling_agl_m:.0f} m ceiling: the terrain rises faster than the vehicle may climb or descend; "
            "lower the target height, raise the ceiling or use the terrain frame"
        )
    vertex_of_knot = np.full(len(s), -1)
    vertex_of_knot[np.searchsorted(s, cells.vertex_s_m - 1e-6).clip(0, len(s) - 1)] = np.arange(len(xy))
    return AltitudeProfile(
        x_m=kx[idx],
        y_m=ky[idx],
        s_m=s[idx],
        altitude_amsl_m=zs,
        vertex_index=vertex_of_knot[idx],
        clearance=result_clearance,
    )
