"""Terrain following: clearance and rate limits on every leg, over real and generated terrain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.frames import LocalFrame
from geo.terrain import Terrain
from ground_station.planning.altitude import follow_terrain, path_cells
from ground_station.planning.errors import PlanLimitError

REPO = Path(__file__).resolve().parents[3]
TARGET_M, TOL_M, CLIMB, DESCENT = 80.0, 10.0, 0.3, 0.2


@pytest.fixture(scope="module")
def srtm() -> Terrain:
    return Terrain.from_file(REPO / "missions" / "dem" / "N44W072.hgt")


@pytest.fixture(scope="module")
def generated() -> Terrain:
    return Terrain.generate(seed=3, center_lat_deg=44.6, center_lon_deg=-71.5, relief_m=500)


def dense_check(
    terrain: Terrain, frame: LocalFrame, xy: np.ndarray, profile: object, free: np.ndarray
) -> None:
    """An independent check: sample the ground every metre and compare with the flown line."""
    s_v = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    s = np.append(np.arange(0.0, s_v[-1], 1.0), s_v[-1])
    x, y = np.interp(s, s_v, xy[:, 0]), np.interp(s, s_v, xy[:, 1])
    ground = terrain.elevation(*frame.to_geodetic(x, y))
    z = np.interp(s, profile.s_m, profile.altitude_amsl_m)  # type: ignore[attr-defined]
    assert (z - ground).min() >= TARGET_M - TOL_M - 0.05
    # Rates: on camera legs no steeper than the vehicle climbs/descends at cruise speed.
    slope = np.diff(profile.altitude_amsl_m) / np.maximum(np.diff(profile.s_m), 1e-9)  # type: ignore[attr-defined]
    mid = 0.5 * (profile.s_m[1:] + profile.s_m[:-1])  # type: ignore[attr-defined]
    leg = np.clip(np.searchsorted(s_v, mid) - 1, 0, len(xy) - 2)
    camera = ~free[leg]
    assert np.all(slope[camera] <= CLIMB + 1e-6)  # rounding of z and s
    assert np.all(slope[camera] >= -DESCENT - 1e-6)


@st.composite
def paths(draw: st.DrawFn, half_m: float) -> np.ndarray:
    n = draw(st.integers(2, 6))
    pts = draw(
        st.lists(st.tuples(st.floats(-half_m, half_m), st.floats(-half_m, half_m)), min_size=n, max_size=n)
    )
    return np.array(pts, dtype=np.float64)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xy=paths(half_m=6000.0), free_first=st.booleans())
def test_clearance_and_rates_hold_on_every_leg_over_the_real_tile(
    srtm: Terrain, xy: np.ndarray, free_first: bool
) -> None:
    frame = LocalFrame(origin_lat_deg=44.3, origin_lon_deg=-71.3)  # the Presidential Range
    free = np.zeros(len(xy) - 1, dtype=bool)
    free[0] = free_first
    try:
        prof = follow_terrain(
            xy,
            terrain=srtm,
            frame=frame,
            target_agl_m=TARGET_M,
            tolerance_m=TOL_M,
            climb_slope=CLIMB,
            descent_slope=DESCENT,
            free_legs=free,
        )
    except PlanLimitError:
        return
    assert prof.clearance.violations == 0
    assert prof.clearance.min_clearance_m >= TARGET_M - TOL_M - 1e-6
    dense_check(srtm, frame, xy, prof, free)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xy=paths(half_m=3500.0))
def test_clearance_and_rates_hold_on_every_leg_over_generated_terrain(
    generated: Terrain, xy: np.ndarray
) -> None:
    frame = LocalFrame(origin_lat_deg=44.6, origin_lon_deg=-71.5)
    free = np.zeros(len(xy) - 1, dtype=bool)
    prof = follow_terrain(
        xy,
        terrain=generated,
        frame=frame,
        target_agl_m=TARGET_M,
        tolerance_m=TOL_M,
        climb_slope=CLIMB,
        descent_slope=DESCENT,
        free_legs=free,
    )
    assert prof.clearance.violations == 0
    dense_check(generated, frame, xy, prof, free)


def test_every_route_vertex_is_a_waypoint_and_flat_water_needs_no_more(generated: Terrain) -> None:
    # Over a flat water surface one straight leg holds the height: nothing is inserted.
    frame = LocalFrame(origin_lat_deg=44.6, origin_lon_deg=-71.5)
    flat = Terrain(heights_m=np.full((50, 50), 378.0), transform=generated.transform, crs=generated.crs)
    xy = np.array([[-3900.0, 3900.0], [-3000.0, 3900.0], [-3000.0, 3200.0]])
    prof = follow_terrain(
        xy,
        terrain=flat,
        frame=frame,
        target_agl_m=TARGET_M,
        tolerance_m=TOL_M,
        climb_slope=CLIMB,
        descent_slope=DESCENT,
    )
    assert prof.vertex_index.tolist() == [0, 1, 2]
    assert np.allclose(prof.altitude_amsl_m, 378.0 + TARGET_M)


def test_a_ridge_is_climbed_early_at_the_rate_limit() -> None:
    # A 1-D ridge: 200 m up over 100 m of ground. Climbing at 0.3 m/m needs ~670 m of run-up.
    heights = np.full((3, 400), 100.0)
    heights[:, 200:] = 300.0
    from affine import Affine

    t = Terrain(heights_m=heights, transform=Affine(10.0, 0, 498000.0, 0, -10.0, 15.0), crs="EPSG:32619")
    frame = LocalFrame(origin_lat_deg=0.0, origin_lon_deg=-69.0)
    x0, y0 = frame.to_local(*_utm_to_geo(-1500.0, 0.0))
    x1, y1 = frame.to_local(*_utm_to_geo(1500.0, 0.0))
    prof = follow_terrain(
        np.array([[x0, y0], [x1, y1]]),
        terrain=t,
        frame=frame,
        target_agl_m=80.0,
        tolerance_m=10.0,
        climb_slope=0.3,
        descent_slope=0.2,
    )
    cells = path_cells(t, frame, np.array([[x0, y0], [x1, y1]]))
    assert prof.clearance.violations == 0
    slopes = np.diff(prof.altitude_amsl_m) / np.diff(prof.s_m)
    assert slopes.max() <= 0.3 + 1e-9
    assert len(prof.s_m) <= 4  # start, start of climb, top of climb, end
    assert cells.s_end_m[-1] == pytest.approx(prof.s_m[-1])


def _utm_to_geo(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32619", "EPSG:4326", always_xy=True).transform(x + 500000.0, y)
    return lat, lon


def test_a_wall_too_steep_for_the_ceiling_is_refused(srtm: Terrain) -> None:
    frame = LocalFrame(origin_lat_deg=44.27, origin_lon_deg=-71.30)  # Mt Washington's headwalls
    with pytest.raises(PlanLimitError, match="ceiling"):
        follow_terrain(
            np.array([[-2500.0, 0.0], [2500.0, 0.0]]),
            terrain=srtm,
            frame=frame,
            target_agl_m=110.0,
            tolerance_m=5.0,
            climb_slope=0.05,
            descent_slope=0.05,
            ceiling_agl_m=120.0,
        )


@pytest.mark.parametrize(("target", "tol"), [(0.0, 0.0), (50.0, 50.0), (50.0, -1.0)])
def test_impossible_targets_are_refused(srtm: Terrain, target: float, tol: float) -> None:
    frame = LocalFrame(origin_lat_deg=44.5, origin_lon_deg=-71.5)
    with pytest.raises(PlanLimitError, match="tolerance"):
        follow_terrain(
            np.array([[0.0, 0.0], [100.0, 0.0]]),
            terrain=srtm,
            frame=frame,
            target_agl_m=target,
            tolerance_m=tol,
            climb_slope=0.3,
            descent_slope=0.2,
        )
