"""Tests for geo.terrain_grid: ArduPilot's terrain grid as TERRAIN_REQUEST / TERRAIN_DATA carry it."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.errors import OutsideDemError, TerrainDataMissingError, TerrainInputError
from geo.terrain import Terrain
from geo.terrain_grid import (
    BLOCK_STEP_EAST,
    BLOCK_STEP_NORTH,
    FULL_MASK,
    GRID_BITS,
    TerrainDatabase,
    block_for,
    grid_position,
    gridbit_points,
    terrain_data,
)

GEOD = Geod(ellps="WGS84")
MT_WASHINGTON = (44.2706, -71.3033)


def plane(
    lat0: float, lon0: float, *, slope_north: float, slope_east: float, base_m: float = 500.0
) -> Terrain:
    """A tilted plane over about 20 km around a point, heights linear in metres north and east."""
    step = 0.002
    n = 100
    lat_top, lon_left = lat0 + n * step / 2, lon0 - n * step / 2
    rows, cols = np.mgrid[0:n, 0:n]
    north_m = (lat_top - rows * step - lat0) * 111_000.0
    east_m = (lon_left + cols * step - lon0) * 111_000.0 * math.cos(math.radians(lat0))
    heights = base_m + slope_north * north_m + slope_east * east_m
    transform = Affine(step, 0.0, lon_left - step / 2, 0.0, -step, lat_top + step / 2)
    return Terrain(heights_m=heights, transform=transform, crs="EPSG:4326", name="plane")


@functools.cache
def srtm_tile() -> Terrain:
    return Terrain.from_hgt(Path(__file__).resolve().parents[2] / "missions" / "dem" / "N44W072.hgt")


def fill(db: TerrainDatabase, terrain: Terrain, lat: float, lon: float) -> int:
    """Answer every request the database makes for a point, as a ground station would; bits sent."""
    request = db.request_for(lat, lon)
    sent = 0
    while request is not None:
        for bit in range(GRID_BITS):
            if request.mask >> bit & 1:
                data = terrain_data(terrain, request.lat_e7, request.lon_e7, request.spacing_m, bit)
                assert db.add(request.lat_e7, request.lon_e7, request.spacing_m, bit, data)
                sent += 1
        request = db.request_for(lat, lon)
    return sent


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(44.2706, -71.3033), (44.0001, -71.9999), (-33.8568, 151.2153), (0.5, 0.5), (-0.0001, -0.0001)],
)
def test_block_corner_is_south_west_of_the_point_within_one_step(lat: float, lon: float) -> None:
    pos = grid_position(lat, lon)
    assert 0 <= pos.post_north < BLOCK_STEP_NORTH and 0 <= pos.post_east < BLOCK_STEP_EAST
    assert 0.0 <= pos.frac_north < 1.0 and 0.0 <= pos.frac_east < 1.0
    _, _, dist = GEOD.inv(pos.lon_e7 * 1e-7, pos.lat_e7 * 1e-7, lon, lat)
    az, _, _ = GEOD.inv(pos.lon_e7 * 1e-7, pos.lat_e7 * 1e-7, lon, lat)
    assert 0.0 <= az <= 90.0  # north-east of the corner
    assert dist < math.hypot(BLOCK_STEP_NORTH, BLOCK_STEP_EAST) * 100 * 1.01


def test_blocks_start_on_whole_degrees_and_overlap_by_one_post() -> None:
    first = grid_position(44.00001, -72.0 + 1e-6)
    assert (first.lat_e7, first.lon_e7) == (440_000_000, -720_000_000)
    # the point 27 posts north of the degree line is post 0 of the second block, which is post 27 of the first
    second = grid_position(44.0 + 27 * 100 / 111_318.0 + 1e-5, -71.99999)
    assert second.post_north == 0 and second.lat_e7 > first.lat_e7
    assert abs((second.lat_e7 - first.lat_e7) * 0.011131884502145034 - 2700) < 1.0


def test_block_for_asks_for_every_bit() -> None:
    request = block_for(*MT_WASHINGTON)
    assert request.mask == FULL_MASK == (1 << 56) - 1
    assert request.spacing_m == 100


def test_gridbit_points_follow_mavproxys_terrain_module() -> None:
    """MAVProxy answers TERRAIN_REQUEST with these posts (mavproxy_terrain.send_terrain_data_bit)."""
    mp_util = pytest.importorskip("MAVProxy.modules.lib.mp_util")
    request = block_for(*MT_WASHINGTON, spacing_m=30)
    for bit in (0, 7, 8, 30, 55):
        lats, lons = gridbit_points(request.lat_e7, request.lon_e7, 30, bit)
        corner = mp_util.gps_offset(
            request.lat_e7 * 1e-7, request.lon_e7 * 1e-7, east=120 * (bit % 8), north=120 * (bit // 8)
        )
        for i in range(16):
            lat2, lon2 = mp_util.gps_offset(corner[0], corner[1], east=30 * (i % 4), north=30 * (i // 4))
            _, _, err_m = GEOD.inv(lons[i], lats[i], lon2, lat2)
            assert err_m < 1.0, (bit, i, err_m)


@pytest.mark.parametrize(("slope_north", "slope_east"), [(0.0, 0.0), (0.3, -0.2), (-0.5, 0.6)])
def test_database_filled_from_a_dem_reproduces_a_plane(slope_north: float, slope_east: float) -> None:
    lat0, lon0 = MT_WASHINGTON
    terrain = plane(lat0, lon0, slope_north=slope_north, slope_east=slope_east)
    db = TerrainDatabase()
    assert fill(db, terrain, lat0, lon0) == GRID_BITS
    rng = np.random.default_rng(3)
    pos = grid_position(lat0, lon0)
    for _ in range(50):
        # points anywhere in the loaded block
        north = rng.uniform(0, BLOCK_STEP_NORTH * 100 - 1)
        east = rng.uniform(0, BLOCK_STEP_EAST * 100 - 1)
        lon, lat, _ = GEOD.fwd(pos.lon_e7 * 1e-7, pos.lat_e7 * 1e-7, 0.0, north)
        lon, lat, _ = GEOD.fwd(lon, lat, 90.0, east)
        if not db.covers(lat, lon):
            continue
        # ArduPilot measures east from the degree line with one longitude scale and places posts
        # from the block corner with another: a few metres apart at most, whole-metre heights on top
        tolerance_m = 0.5 + 8.0 * math.hypot(slope_north, slope_east)
        assert db.height_amsl(lat, lon) == pytest.approx(terrain.elevation(lat, lon), abs=tolerance_m)


@settings(max_examples=30, deadline=None)
@given(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5))
def test_database_answers_on_real_srtm_within_the_grid_error(dlat: float, dlon: float) -> None:
    terrain = srtm_tile()
    lat, lon = 44.5 + dlat * 0.8, -71.5 + dlon * 0.8
    db = TerrainDatabase(spacing_m=30)
    fill(db, terrain, lat, lon)
    # a 30 m grid over 90 m SRTM posts: bilinear of bilinear, within a few metres on steep ground
    assert db.height_amsl(lat, lon) == pytest.approx(terrain.elevation(lat, lon), abs=12.0)


def test_request_mask_shrinks_as_data_arrives_and_unknown_blocks_are_refused() -> None:
    terrain = plane(*MT_WASHINGTON, slope_north=0.1, slope_east=0.1)
    db = TerrainDatabase()
    request = db.request_for(*MT_WASHINGTON)
    assert request is not None and request.mask == FULL_MASK
    data = terrain_data(terrain, request.lat_e7, request.lon_e7, 100, 9)
    assert db.add(request.lat_e7, request.lon_e7, 100, 9, data)
    again = db.request_for(*MT_WASHINGTON)
    assert again is not None and again.mask == FULL_MASK & ~(1 << 9)
    assert (db.loaded_blocks, db.pending_blocks) == (1, GRID_BITS - 1)
    # a block nobody asked for, a wrong spacing, a bad bit, a short payload
    assert not db.add(request.lat_e7 + 1, request.lon_e7, 100, 9, data)
    assert not db.add(request.lat_e7, request.lon_e7, 30, 9, data)
    assert not db.add(request.lat_e7, request.lon_e7, 100, 56, data)
    assert not db.add(request.lat_e7, request.lon_e7, 100, 10, data[:15])


def test_missing_posts_raise_a_lookup_error_naming_the_block() -> None:
    db = TerrainDatabase()
    assert not db.covers(*MT_WASHINGTON)
    with pytest.raises(TerrainDataMissingError, match="has not arrived") as err:
        db.height_amsl(*MT_WASHINGTON)
    assert isinstance(err.value, LookupError)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: grid_position(91.0, 0.0), "latitude"),
        (lambda: grid_position(0.0, 0.0, spacing_m=0), "spacing"),
        (lambda: gridbit_points(0, 0, 100, 56), "gridbit"),
        (lambda: TerrainDatabase(spacing_m=70000), "spacing"),
    ],
)
def test_impossible_arguments_say_what_was_expected(call: object, message: str) -> None:
    with pytest.raises(TerrainInputError, match=message):
        call()  # type: ignore[operator]


def test_terrain_data_outside_the_dem_raises() -> None:
    terrain = plane(*MT_WASHINGTON, slope_north=0.0, slope_east=0.0)
    far = block_for(46.0, -70.0)
    with pytest.raises(OutsideDemError):
        terrain_data(terrain, far.lat_e7, far.lon_e7, 100, 0)
