"""Terrain following on a 25 km² survey over the real SRTM tile, against a QGC-style baseline.

Both run in this one command on the same horizontal survey path (passes, turnarounds):

- **ours**: :func:`ground_station.planning.altitude.follow_terrain`: exact terrain under every
  leg, DEM cell by DEM cell, rate limits on camera passes, greedy farthest-reach waypoints.
- **baseline**: what QGroundControl's terrain-follow does for a survey: sample the terrain every
  30 m along the path, put a point at ``ground + target`` on each sample, then keep a point only
  where its height differs from the last kept one by more than the tolerance.

Each result is judged the same way, exactly on every DEM cell under the path (clearance below
``target - tolerance`` is a violation) and by the climb/descent slopes of its camera legs.

Run: ``.venv/bin/python benchmarks/plan_terrain.py`` (prints a table; add ``--repeat N``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from shapely.geometry import Polygon

from geo.camera import camera_preset
from geo.frames import LocalFrame
from geo.terrain import Terrain
from ground_station.planning.altitude import clearance, follow_terrain, path_cells
from ground_station.planning.patterns import SurveyOptions, survey

REPO = Path(__file__).resolve().parents[1]
CENTER = (44.33, -71.22)  # the Carter-Moriah range, NH: 600-1450 m
SIDE_M = 5000.0
TARGET_M, TOLERANCE_M = 80.0, 10.0
SPEED_M_S, CLIMB_M_S, DESCENT_M_S = 8.0, 3.0, 2.0
SAMPLE_M = 30.0


def survey_path(angle_deg: float | None = 0.0) -> tuple[np.ndarray, np.ndarray, LocalFrame]:
    frame = LocalFrame(origin_lat_deg=CENTER[0], origin_lon_deg=CENTER[1])
    h = SIDE_M / 2
    square = Polygon([(-h, -h), (h, -h), (h, h), (-h, h)])
    across, along = camera_preset("dji-mavic-3e").footprint_m(TARGET_M)
    options = SurveyOptions(spacing_m=across * 0.7, trigger_distance_m=along * 0.4, angle_deg=angle_deg)
    path = survey(square, options=options, allowed=square.buffer(50.0, join_style="mitre"))
    xy = path.xy
    on = np.zeros(len(xy), dtype=bool)
    state = False
    for k, v in enumerate(path.vertices):
        state = bool(v.camera_trigger_m) if v.camera_trigger_m is not None else state
        on[k] = state
    return xy, ~on[:-1], frame


def baseline(terrain: Terrain, frame: LocalFrame, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """QGC's terrain adjustment: a point every 30 m at ground + target, then pruned within the
    tolerance as ``TransectStyleComplexItem::_adjustForTolerance`` does: walking forward, a
    terrain point is kept when its height differs from the last kept point's by more than the
    tolerance; route vertices are always kept."""
    s_v = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    s = np.unique(
        np.concatenate([s_v, *(np.arange(a, b, SAMPLE_M) for a, b in zip(s_v, s_v[1:], strict=False))])
    )
    x, y = np.interp(s, s_v, xy[:, 0]), np.interp(s, s_v, xy[:, 1])
    z = np.asarray(terrain.elevation(*frame.to_geodetic(x, y)), dtype=np.float64) + TARGET_M
    fixed = np.zeros(len(s), dtype=bool)
    fixed[np.searchsorted(s, s_v)] = True
    keep = [0]
    for k in range(1, len(s)):
        if fixed[k] or abs(z[k] - z[keep[-1]]) > TOLERANCE_M:
            keep.append(k)
    idx = np.asarray(keep)
    return s[idx], z[idx]


def judge(cells: object, s: np.ndarray, z: np.ndarray, free: np.ndarray, s_v: np.ndarray) -> dict[str, float]:
    c = clearance(cells, s, z, minimum_m=TARGET_M - TOLERANCE_M)  # type: ignore[arg-type]
    slope = np.diff(z) / np.maximum(np.diff(s), 1e-9)
    leg = np.clip(np.searchsorted(s_v, 0.5 * (s[1:] + s[:-1])) - 1, 0, len(free) - 1)
    camera = ~free[leg]
    too_steep = int(np.count_nonzero((slope[camera] > CLIMB_M_S / SPEED_M_S + 1e-9)
                                     | (slope[camera] < -DESCENT_M_S / SPEED_M_S - 1e-9)))  # fmt: skip
    return {
        "waypoints": float(len(s)),
        "min_clearance_m": c.min_clearance_m,
        "violations": float(c.violations),
        "too_steep_legs": float(too_steep),
        "max_agl_m": c.max_height_agl_m,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    terrain = Terrain.from_file(REPO / "missions" / "dem" / "N44W072.hgt")
    t0 = time.perf_counter()
    xy, free, frame = survey_path()
    t_pattern = time.perf_counter() - t0
    t0 = time.perf_counter()
    survey_path(angle_deg=None)
    t_search = time.perf_counter() - t0
    s_v = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    cells = path_cells(terrain, frame, xy)

    ours_s, base_s = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        prof = follow_terrain(
            xy, terrain=terrain, frame=frame, target_agl_m=TARGET_M, tolerance_m=TOLERANCE_M,
            climb_slope=CLIMB_M_S / SPEED_M_S, descent_slope=DESCENT_M_S / SPEED_M_S, free_legs=free,
        )  # fmt: skip
        ours_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bs, bz = baseline(terrain, frame, xy)
        base_s.append(time.perf_counter() - t0)
    ours = judge(cells, prof.s_m, prof.altitude_amsl_m, free, s_v)
    base = judge(cells, bs, bz, free, s_v)
    heights = terrain.elevation(*frame.to_geodetic(xy[:, 0], xy[:, 1]))
    print(f"survey {SIDE_M / 1000:.0f} x {SIDE_M / 1000:.0f} km at {CENTER}, terrain {heights.min():.0f}-"
          f"{heights.max():.0f} m, path {s_v[-1] / 1000:.1f} km, {len(xy)} route vertices, "
          f"{len(cells.s_start_m)} terrain pieces; pattern {t_pattern:.2f} s "
          f"({t_search:.2f} s with the sweep-angle search)")  # fmt: skip
    print(f"target {TARGET_M:.0f} m AGL, tolerance {TOLERANCE_M:.0f} m, camera legs within "
          f"{CLIMB_M_S / SPEED_M_S:.3f} up / {DESCENT_M_S / SPEED_M_S:.3f} down (m/m)")  # fmt: skip
    header = ("time s", 9), ("waypoints", 11), ("min clear m", 13), ("violations", 12), ("steep legs", 12)
    print(f"{'':10}" + "".join(f"{h:>{w}}" for h, w in header) + f"{'max AGL m':>11}")
    for name, t, r in (("ours", min(ours_s), ours), ("baseline", min(base_s), base)):
        print(f"{name:10}{t:9.3f}{r['waypoints']:11.0f}{r['min_clearance_m']:13.1f}{r['violations']:12.0f}"
              f"{r['too_steep_legs']:12.0f}{r['max_agl_m']:11.1f}")  # fmt: skip
    print(f"ratio ours/baseline: time {min(ours_s) / min(base_s):.2f}, waypoints "
          f"{ours['waypoints'] / base['waypoints']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
