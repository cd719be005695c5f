"""Tests for geo.terrain: readers (.hgt, GeoTIFF), bilinear heights, cells under legs, water,
the generated landscape, hillshade and ray-terrain intersection."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from geo.errors import (
    DemReadError,
    DemVoidError,
    GeoError,
    NoIntersectionError,
    OutsideDemError,
    TerrainInputError,
)
from geo.frames import LocalFrame
from geo.terrain import LegCells, Terrain, detect_water

REPO = Path(__file__).resolve().parents[2]
HGT = REPO / "missions" / "dem" / "N44W072.hgt"
SHARED_DEM = REPO.parent / "shared" / "data" / "dem"

MT_WASHINGTON = (44.2706, -71.3033)
UMBAGOG = (44.77, -71.04)
GEN_CENTER = (44.3, -71.3)
STEP_3S = 1.0 / 1200.0

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def tile() -> Terrain:
    return Terrain.from_hgt(HGT)


@functools.cache
def generated() -> Terrain:
    return Terrain.generate(seed=11, center_lat_deg=GEN_CENTER[0], center_lon_deg=GEN_CENTER[1])


@functools.cache
def local_frame(lat_deg: float, lon_deg: float) -> LocalFrame:
    return LocalFrame(origin_lat_deg=lat_deg, origin_lon_deg=lon_deg)


@functools.cache
def transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def shared(name: str) -> Path:
    path = SHARED_DEM / name
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent (only in the full project checkout)")
    return path


def toy(heights: np.ndarray, *, lat_top: float = 45.0, lon_left: float = 10.0, step: float = 0.01) -> Terrain:
    """A geographic terrain whose post (0, 0) is at (lat_top, lon_left), posts ``step`` apart."""
    transform = Affine(step, 0.0, lon_left - step / 2, 0.0, -step, lat_top + step / 2)
    return Terrain(heights_m=heights, transform=transform, crs="EPSG:4326", name="toy")


def post_latlon(terrain: Terrain, row: float, col: float) -> tuple[float, float]:
    """WGS84 position of (fractional) post coordinates, computed independently of Terrain."""
    x, y = terrain.transform @ (col + 0.5, row + 0.5)
    if terrain.crs.is_geographic:
        return float(y), float(x)
    lon, lat = transformer(terrain.crs.to_wkt(), "EPSG:4326").transform(x, y)
    return float(lat), float(lon)


def write_hgt(path: Path, grid: np.ndarray) -> Path:
    grid.astype(">i2").tofile(path)
    return path


# -- readers ------------------------------------------------------------------------------------


def test_project_hgt_is_the_shared_file_byte_for_byte() -> None:
    assert HGT.read_bytes() == shared("N44W072.hgt").read_bytes()


def test_hgt_matches_rasterio_heights_and_georeferencing() -> None:
    t = tile()
    with rasterio.open(HGT) as ds:
        ref = ds.read(1)
        ref_transform = ds.transform
        assert ds.crs.to_epsg() == 4326
        posts = [(0, 0), (0, 1200), (1200, 0), (1200, 1200), (600, 600), (875, 836), (13, 1177)]
        ref_xy = [ds.xy(r, c) for r, c in posts]  # post positions (pixel centres) by GDAL
    assert t.shape == (1201, 1201)
    np.testing.assert_array_equal(t.heights_m, ref.astype(np.float32))
    for ours, theirs in zip(t.transform[:6], ref_transform[:6], strict=True):
        assert ours == pytest.approx(theirs, abs=1e-12)
    for (r, c), (lon, lat) in zip(posts, ref_xy, strict=True):
        assert lat == pytest.approx(45.0 - r * STEP_3S, abs=1e-10)
        assert lon == pytest.approx(-72.0 + c * STEP_3S, abs=1e-10)
        assert t.elevation(lat, lon) == pytest.approx(float(ref[r, c]), abs=1e-6)


@pytest.mark.parametrize(
    ("row", "col"),
    [(0, 0), (0, 1200), (1200, 0), (1200, 1200), (875, 836), (500, 1), (1199, 700)],
)
def test_hgt_posts_sit_on_exact_degree_fractions(row: int, col: int) -> None:
    t = tile()
    lat, lon = 45.0 - row / 1200, -72.0 + col / 1200
    assert t.elevation(lat, lon) == pytest.approx(float(t.heights_m[row, col]), abs=1e-6)


def test_hgt_one_arcsecond_tile_in_the_south_east(tmp_path: Path) -> None:
    rows, cols = np.mgrid[0:3601, 0:3601]
    grid = ((rows * 7 + cols * 3) % 4000 - 100).astype(np.int16)
    t = Terrain.from_file(write_hgt(tmp_path / "S01E010.hgt", grid))
    assert t.shape == (3601, 3601)
    assert t.bounds_deg == pytest.approx((-1.0, 10.0, 0.0, 11.0), abs=1e-12)
    assert t.cell_size_m == pytest.approx((30.9, 30.7), abs=0.3)
    for r, c in [(0, 0), (1800, 1800), (3600, 3600), (100, 3599), (3000, 17)]:
        lat, lon = 0.0 - r / 3600, 10.0 + c / 3600
        assert t.elevation(lat, lon) == pytest.approx(float(grid[r, c]), abs=1e-6)
    # Halfway between two posts in a row where the pattern does not wrap: the mean.
    lat, lon = -10 / 3600, 10.0 + 20.5 / 3600
    assert t.elevation(lat, lon) == pytest.approx((grid[10, 20] + grid[10, 21]) / 2.0, abs=1e-6)


@pytest.mark.parametrize(
    ("name", "size_bytes", "message"),
    [
        ("N44W072.hgt", 1000, "expected an SRTM tile of"),
        ("N44W072.hgt", 2 * 1201 * 1200, "expected an SRTM tile of"),
        ("N44W072.hgt", 2 * 2048 * 2048, "expected an SRTM tile of"),
        ("tile.hgt", 2 * 1201 * 1201, "N44W072.hgt"),
        ("X44W072.hgt", 2 * 1201 * 1201, "N44W072.hgt"),
        ("N95W072.hgt", 2 * 1201 * 1201, "tile corner"),
    ],
)
def test_hgt_bad_files_say_what_was_expected(
    tmp_path: Path, name: str, size_bytes: int, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"\0" * size_bytes)
    with pytest.raises(DemReadError, match=message) as info:
        Terrain.from_file(path)
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, GeoError)


def test_missing_files_raise_dem_read_error(tmp_path: Path) -> None:
    with pytest.raises(DemReadError, match="could not read"):
        Terrain.from_hgt(tmp_path / "N44W072.hgt")
    with pytest.raises(DemReadError, match="could not read"):
        Terrain.from_geotiff(tmp_path / "nothing.tif")


def test_geotiff_in_utm_answers_at_known_posts(tmp_path: Path) -> None:
    heights = (100.0 + 10.0 * np.arange(6)[:, None] + np.arange(5)[None, :]).astype(np.float32)
    heights[5, 4] = -9999.0
    path = tmp_path / "utm.tif"
    profile = {
        "driver": "GTiff",
        "width": 5,
        "height": 6,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:32619",
        "transform": Affine(30.0, 0.0, 320000.0, 0.0, -30.0, 4905000.0),
        "nodata": -9999.0,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(heights, 1)
    t = Terrain.from_file(path)
    assert t.crs.to_epsg() == 32619
    assert math.isnan(t.heights_m[5, 4])
    assert t.cell_size_m == pytest.approx((30.0, 30.0), rel=2e-3)  # UTM scale factor ~0.9996
    to_ll = Transformer.from_crs("EPSG:32619", "EPSG:4326", always_xy=True)
    cases = [
        (0, 0, 100.0),
        (0, 4, 104.0),
        (3, 2, 132.0),
        (5, 0, 150.0),
        (2.5, 1.5, 126.5),
        (4.25, 0.75, 143.25),
    ]
    for r, c, expected in cases:
        lon, lat = to_ll.transform(320000.0 + 30.0 * (c + 0.5), 4905000.0 - 30.0 * (r + 0.5))
        assert t.elevation(lat, lon) == pytest.approx(expected, abs=1e-5)
    lon, lat = to_ll.transform(320000.0 + 30.0 * 4.5, 4905000.0 - 30.0 * 5.5)
    with pytest.raises(DemVoidError, match="void post at row 5, col 4"):
        t.elevation(lat, lon)
    lon, lat = to_ll.transform(320000.0 - 1.0, 4905000.0 - 50.0)
    with pytest.raises(OutsideDemError):
        t.elevation(lat, lon)


def test_rmnp_geotiff_reads_with_nodata_and_finds_lake_granby() -> None:
    path = shared("rmnp-dem.tif")
    t = Terrain.from_file(path)
    with rasterio.open(path) as ds:
        ref = ds.read(1, masked=True)
        r, c = 90, 70
        lon, lat = ds.xy(r, c)
    assert t.crs.is_geographic
    assert t.shape == (187, 152)
    assert np.isnan(t.heights_m).sum() == int(np.ma.count_masked(ref))
    assert (np.nanmin(t.heights_m), np.nanmax(t.heights_m)) == (2281.0, 4261.0)
    assert t.elevation(lat, lon) == pytest.approx(float(ref[r, c]), abs=1e-6)
    assert t.is_water(40.17, -105.87)  # Lake Granby, flat at 2523 m
    assert t.elevation(40.17, -105.87) == pytest.approx(2523.0, abs=1e-6)


# -- construction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"heights_m": np.zeros(5)}, "2-D height grid"),
        ({"heights_m": np.zeros((1, 5))}, "2-D height grid"),
        ({"transform": Affine(0.01, 0.001, 10.0, 0.0, -0.01, 45.0)}, "north-up"),
        ({"transform": "not an affine"}, "affine"),
        ({"crs": "EPSG:not-a-code"}, "coordinate reference system"),
        ({"water_mask": np.zeros((3, 3), dtype=bool)}, r"water mask of shape \(4, 4\)"),
    ],
)
def test_terrain_rejects_impossible_descriptions(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "heights_m": np.zeros((4, 4)),
        "transform": Affine(0.01, 0.0, 10.0, 0.0, -0.01, 45.0),
        "crs": "EPSG:4326",
    }
    args.update(kwargs)
    with pytest.raises(TerrainInputError, match=message):
        Terrain(**args)  # type: ignore[arg-type]


def test_heights_are_a_read_only_copy() -> None:
    source = np.arange(16, dtype=np.float64).reshape(4, 4)
    t = toy(source)
    source[0, 0] = 99.0
    assert t.heights_m[0, 0] == 0.0
    with pytest.raises(ValueError, match="read-only"):
        t.heights_m[0, 0] = 5.0


def test_bounds_and_cell_size_of_the_tile() -> None:
    t = tile()
    assert t.bounds_deg == pytest.approx((44.0, -72.0, 45.0, -71.0), abs=1e-12)
    geod = Geod(ellps="WGS84")
    expected_x = geod.inv(-71.5, 44.5, -71.5 + STEP_3S, 44.5)[2]
    expected_y = geod.inv(-71.5, 44.5, -71.5, 44.5 + STEP_3S)[2]
    assert t.cell_size_m == pytest.approx((expected_x, expected_y), rel=1e-3)


# -- bilinear heights ---------------------------------------------------------------------------


def test_elevation_scalar_in_float_out_and_arrays_keep_shape() -> None:
    t = tile()
    z = t.elevation(*MT_WASHINGTON)
    assert isinstance(z, float)
    assert 1880.0 < z < 1917.0  # Mt Washington summit, 1917 m; SRTM 3" posts read a little lower
    lat = np.full((2, 3), 44.5)
    lon = np.linspace(-71.9, -71.1, 6).reshape(2, 3)
    zz = t.elevation(lat, lon)
    assert isinstance(zz, np.ndarray)
    assert zz.shape == (2, 3)
    assert zz[1, 2] == pytest.approx(t.elevation(44.5, -71.1))
    assert t.elevation(44.5, np.array([-71.5, -71.4])).shape == (2,)  # broadcasting


def test_tile_maximum_is_at_mt_washington() -> None:
    t = tile()
    r, c = np.unravel_index(int(np.nanargmax(t.heights_m)), t.shape)
    lat, lon = 45.0 - r / 1200, -72.0 + c / 1200
    assert abs(lat - MT_WASHINGTON[0]) < 0.01
    assert abs(lon - MT_WASHINGTON[1]) < 0.01


@PROPERTY
@given(
    row=st.integers(min_value=0, max_value=1199),
    col=st.integers(min_value=0, max_value=1199),
    f=st.floats(min_value=0.0, max_value=1.0),
)
def test_bilinear_is_exact_at_posts_and_linear_along_edges(row: int, col: int, f: float) -> None:
    t = tile()
    h = t.heights_m.astype(np.float64)
    lat, lon = 45.0 - row / 1200, -72.0 + col / 1200
    assert t.elevation(lat, lon) == pytest.approx(h[row, col], abs=1e-6)
    east = t.elevation(lat, lon + f / 1200)
    assert east == pytest.approx((1 - f) * h[row, col] + f * h[row, col + 1], abs=1e-6)
    south = t.elevation(lat - f / 1200, lon)
    assert south == pytest.approx((1 - f) * h[row, col] + f * h[row + 1, col], abs=1e-6)


@PROPERTY
@given(
    r=st.floats(min_value=0.0, max_value=9.0),
    c=st.floats(min_value=0.0, max_value=7.0),
)
def test_bilinear_reproduces_a_bilinear_field_exactly(r: float, c: float) -> None:
    rows, cols = np.mgrid[0:10, 0:8].astype(np.float64)
    t = toy(50.0 + 3.0 * rows - 2.0 * cols + 0.5 * rows * cols)
    lat, lon = post_latlon(t, r, c)
    assert t.elevation(lat, lon) == pytest.approx(50.0 + 3.0 * r - 2.0 * c + 0.5 * r * c, abs=1e-6)


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (44.5, -71.5, True),
        (44.0, -72.0, True),  # the south-west post itself
        (45.0, -71.0, True),  # the north-east post
        (45.0 + 1e-7, -71.5, False),
        (44.0 - 1e-7, -71.5, False),
        (44.5, -72.0 - 1e-7, False),
        (44.5, -71.0 + 1e-7, False),
        (46.0, -70.0, False),
        (math.nan, -71.5, False),
    ],
)
def test_contains_and_outside_errors(lat: float, lon: float, inside: bool) -> None:
    t = tile()
    assert t.contains(lat, lon) is inside
    if inside:
        assert math.isfinite(t.elevation(lat, lon))
    else:
        with pytest.raises(
            OutsideDemError, match=r"expected point inside the post extent of DEM 'N44W072'"
        ) as info:
            t.elevation(lat, lon)
        assert "lat 44.000000..45.000000, lon -72.000000..-71.000000" in str(info.value)
        assert isinstance(info.value, ValueError)
        with pytest.raises(OutsideDemError):
            t.is_water(lat, lon)


def test_outside_error_names_the_first_bad_point_of_an_array() -> None:
    t = tile()
    with pytest.raises(OutsideDemError, match=r"got \(46\.0000000, -71\.5000000\) \(#2; 1 of 4 outside\)"):
        t.elevation(np.array([44.5, 44.6, 46.0, 44.7]), np.full(4, -71.5))
    np.testing.assert_array_equal(
        t.contains(np.array([44.5, 44.6, 46.0, 44.7]), np.full(4, -71.5)), [True, True, False, True]
    )


def test_voids_in_a_synthetic_hgt(tmp_path: Path) -> None:
    grid = np.full((1201, 1201), 500, dtype=np.int16)
    grid[600, 600] = -32768
    t = Terrain.from_hgt(write_hgt(tmp_path / "N10E020.hgt", grid))
    assert math.isnan(t.heights_m[600, 600])
    assert np.isnan(t.heights_m).sum() == 1
    lat, lon = 11.0 - 600 / 1200, 20.0 + 600 / 1200
    with pytest.raises(DemVoidError, match=r"void post at row 600, col 600 \(10\.500000, 20\.500000\)"):
        t.elevation(lat, lon)
    with pytest.raises(DemVoidError):
        t.elevation(lat + 0.3 / 1200, lon + 0.4 / 1200)  # inside a cell with the void as a corner
    # A neighbouring post needs no weight from the void.
    assert t.elevation(lat, lon + 1 / 1200) == 500.0
    assert t.elevation(lat, lon + 2.5 / 1200) == 500.0
    with pytest.raises(DemVoidError, match="under the leg"):
        t.cells_under_leg(lat - 0.01, lon - 0.01, lat + 0.01, lon + 0.01)
    assert t.max_along_leg(lat - 0.01, lon + 0.01, lat + 0.01, lon + 0.01) == 500.0
    # The flat 500 m plain is flat: detected as "water" except the void's neighbourhood.
    assert not t.water_mask[600, 600]


# -- cells under a leg --------------------------------------------------------------------------


def leg_cells_toy() -> Terrain:
    rows, cols = np.mgrid[0:6, 0:7]
    return toy((rows * 10 + cols).astype(np.float64))


@pytest.mark.parametrize(
    ("start", "end", "cells", "t_bounds"),
    [
        # horizontal through cell middles: cut at the vertical grid lines
        ((1.5, 0.5), (1.5, 3.5), [(1, 0), (1, 1), (1, 2), (1, 3)], [0, 1 / 6, 1 / 2, 5 / 6, 1]),
        # post to post along a grid line (the top edge): the cells below it
        ((0, 0), (0, 3), [(0, 0), (0, 1), (0, 2)], [0, 1 / 3, 2 / 3, 1]),
        # along the last column: clipped into the last cell column
        ((1, 6), (3, 6), [(1, 5), (2, 5)], [0, 1 / 2, 1]),
        # diagonal through grid corners: no zero-length pieces
        ((0, 0), (3, 3), [(0, 0), (1, 1), (2, 2)], [0, 1 / 3, 2 / 3, 1]),
        # backwards diagonal through corners
        ((4, 5), (2, 3), [(3, 4), (2, 3)], [0, 1 / 2, 1]),
        # starts and ends on grid lines, inside one cell row
        ((2, 1.25), (2.75, 1.25), [(2, 1)], [0, 1]),
        # zero-length leg: one piece, the cell holding the point
        ((2.5, 2.5), (2.5, 2.5), [(2, 2)], [0, 1]),
        # the south-east post alone
        ((5, 6), (5, 6), [(4, 5)], [0, 1]),
    ],
)
def test_cells_under_leg_cases(
    start: tuple[float, float], end: tuple[float, float], cells: list[tuple[int, int]], t_bounds: list[float]
) -> None:
    t = leg_cells_toy()
    got = t.cells_under_leg(*post_latlon(t, *start), *post_latlon(t, *end))
    assert isinstance(got, LegCells)
    assert list(zip(got.cell_row.tolist(), got.cell_col.tolist(), strict=True)) == cells
    np.testing.assert_allclose(np.append(got.t_start, got.t_end[-1]), t_bounds, atol=1e-9)
    h = t.heights_m
    for k, (r, c) in enumerate(cells):
        corners = h[r : r + 2, c : c + 2]
        assert got.max_height_m[k] == corners.max()
        assert got.min_height_m[k] == corners.min()
        assert corners.min() <= got.peak_height_m[k] <= corners.max()
    assert t.max_along_leg(*post_latlon(t, *start), *post_latlon(t, *end)) == got.peak_height_m.max()


def test_cells_under_leg_outside_raises() -> None:
    t = leg_cells_toy()
    with pytest.raises(OutsideDemError, match=r"expected leg end inside .* \(#1; 1 of 2 outside\)"):
        t.cells_under_leg(*post_latlon(t, 1, 1), *post_latlon(t, 1, 7.5))


def assert_cover(cells: LegCells) -> None:
    assert cells.t_start[0] == 0.0
    assert cells.t_end[-1] == 1.0
    np.testing.assert_array_equal(cells.t_start[1:], cells.t_end[:-1])
    assert np.all(cells.t_end > cells.t_start)
    steps = np.abs(np.diff(np.stack([cells.cell_row, cells.cell_col]), axis=1))
    assert np.all(steps <= 1)  # each cell touches the last (at an edge, or a corner)
    assert np.all(cells.max_height_m >= cells.min_height_m)


def leg_points(terrain: Terrain, a: tuple[float, float], b: tuple[float, float], t: np.ndarray) -> tuple:
    """Points at fractions ``t`` of a leg, straight in the terrain's own CRS."""
    if terrain.crs.is_geographic:
        return a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
    frame = local_frame(*GEN_CENTER)
    assert frame.crs == terrain.crs
    x0, y0 = frame.to_local(*a)
    x1, y1 = frame.to_local(*b)
    return frame.to_geodetic(x0 + t * (x1 - x0), y0 + t * (y1 - y0))


def check_upper_bound(terrain: Terrain, a: tuple[float, float], b: tuple[float, float], seed: int) -> None:
    cells = terrain.cells_under_leg(*a, *b)
    assert_cover(cells)
    t = np.sort(np.random.default_rng(seed).uniform(0.0, 1.0, 200))
    lat, lon = leg_points(terrain, a, b, t)
    z = terrain.elevation(lat, lon)
    piece = np.minimum(np.searchsorted(cells.t_end, t), len(cells) - 1)
    assert np.all(cells.max_height_m[piece] >= z - 1e-6)
    assert np.all(cells.peak_height_m[piece] >= z - 1e-6)
    assert np.all(cells.peak_height_m <= cells.max_height_m)
    assert np.all(cells.min_height_m[piece] <= z + 1e-6)
    # The peak is the exact maximum of the surface on each piece: dense sampling gets close to it.
    dense = np.unique(np.concatenate([np.linspace(0.0, 1.0, 20001), cells.t_start, cells.t_end]))
    z_dense = terrain.elevation(*leg_points(terrain, a, b, dense))
    assert terrain.max_along_leg(*a, *b) == cells.peak_height_m.max()
    assert z_dense.max() - 1e-6 <= cells.peak_height_m.max() <= z_dense.max() + 0.05


lat_on_tile = st.floats(min_value=44.0, max_value=45.0)
lon_on_tile = st.floats(min_value=-72.0, max_value=-71.0)


@PROPERTY
@given(lat0=lat_on_tile, lon0=lon_on_tile, lat1=lat_on_tile, lon1=lon_on_tile, seed=st.integers(0, 2**32 - 1))
def test_leg_cells_bound_the_surface_on_the_real_tile(
    lat0: float, lon0: float, lat1: float, lon1: float, seed: int
) -> None:
    check_upper_bound(tile(), (lat0, lon0), (lat1, lon1), seed)


@PROPERTY
@given(
    fx=st.tuples(*[st.floats(min_value=0.0, max_value=1.0)] * 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_leg_cells_bound_the_surface_on_generated_terrain(fx: tuple[float, ...], seed: int) -> None:
    g = generated()
    lat0, lon0, lat1, lon1 = g.bounds_deg
    # Stay inside the post extent (its WGS84 box is a little larger than the projected square).
    a = (lat0 + (0.02 + 0.96 * fx[0]) * (lat1 - lat0), lon0 + (0.02 + 0.96 * fx[1]) * (lon1 - lon0))
    b = (lat0 + (0.02 + 0.96 * fx[2]) * (lat1 - lat0), lon0 + (0.02 + 0.96 * fx[3]) * (lon1 - lon0))
    check_upper_bound(g, a, b, seed)


def dense_samples(terrain: Terrain, a: tuple[float, float], b: tuple[float, float]) -> tuple:
    """A dense sampling of the leg (every 1e-4 of it): fractions, cells (row, col) and whether each
    sample is clear of grid lines (farther than 1e-6 post spacings), computed without Terrain."""
    t = np.linspace(0.0, 1.0, 10001)
    lat, lon = leg_points(terrain, a, b, t)
    if terrain.crs.is_geographic:
        x, y = lon, lat
    else:
        x, y = transformer("EPSG:4326", terrain.crs.to_wkt()).transform(lon, lat)
    col, row = ~terrain.transform @ (np.asarray(x), np.asarray(y))
    col, row = col - 0.5, row - 0.5
    clear = (np.abs(col - np.rint(col)) > 1e-6) & (np.abs(row - np.rint(row)) > 1e-6)
    return t, np.floor(row).astype(int), np.floor(col).astype(int), clear


def check_dense(terrain: Terrain, a: tuple[float, float], b: tuple[float, float]) -> None:
    cells = terrain.cells_under_leg(*a, *b)
    assert_cover(cells)
    found = list(zip(cells.cell_row.tolist(), cells.cell_col.tolist(), strict=True))
    assert len(set(found)) == len(found)  # a straight leg never comes back to a cell
    t, row, col, clear = dense_samples(terrain, a, b)
    seen = set(zip(row[clear].tolist(), col[clear].tolist(), strict=True))
    # Each clear sample lies in the cell of the piece that holds it ...
    piece = np.minimum(np.searchsorted(cells.t_end, t[clear]), len(cells) - 1)
    np.testing.assert_array_equal(cells.cell_row[piece], row[clear])
    np.testing.assert_array_equal(cells.cell_col[piece], col[clear])
    # ... so the cells found are the cells sampled, but for pieces too short (or too close to a grid
    # line) to hold a clear sample.
    with_samples = set(np.unique(piece).tolist())
    assert {found[k] for k in with_samples} == seen
    for k in set(range(len(found))) - with_samples:
        inside = (t > cells.t_start[k]) & (t < cells.t_end[k])
        assert cells.t_end[k] - cells.t_start[k] < 2e-4 or not np.any(clear & inside)


@PROPERTY
@given(
    lat=st.floats(min_value=44.01, max_value=44.99),
    lon=st.floats(min_value=-71.99, max_value=-71.01),
    dlat=st.floats(min_value=-0.006, max_value=0.006),
    dlon=st.floats(min_value=-0.006, max_value=0.006),
)
def test_leg_cells_equal_a_dense_sampling_on_the_tile(
    lat: float, lon: float, dlat: float, dlon: float
) -> None:
    check_dense(tile(), (lat, lon), (lat + dlat, lon + dlon))


@PROPERTY
@given(
    fx=st.tuples(*[st.floats(min_value=0.2, max_value=0.8)] * 2),
    dx=st.tuples(*[st.floats(min_value=-0.03, max_value=0.03)] * 2),
)
def test_leg_cells_equal_a_dense_sampling_on_generated_terrain(
    fx: tuple[float, float], dx: tuple[float, float]
) -> None:
    g = generated()
    lat0, lon0, lat1, lon1 = g.bounds_deg
    a = (lat0 + fx[0] * (lat1 - lat0), lon0 + fx[1] * (lon1 - lon0))
    b = (a[0] + dx[0] * (lat1 - lat0), a[1] + dx[1] * (lon1 - lon0))
    check_dense(g, a, b)


def test_long_leg_across_the_tile_is_fast_and_exact() -> None:
    t = tile()
    cells = t.cells_under_leg(44.0, -72.0, 45.0, -71.0)  # the whole diagonal, post to post
    assert_cover(cells)
    assert len(cells) == 1200
    np.testing.assert_array_equal(cells.cell_row, np.arange(1199, -1, -1))
    np.testing.assert_array_equal(cells.cell_col, np.arange(1200))


# -- water --------------------------------------------------------------------------------------


def test_detected_water_on_the_tile_has_umbagog_not_mt_washington() -> None:
    t = tile()
    assert t.is_water(*UMBAGOG)
    assert t.elevation(*UMBAGOG) == pytest.approx(378.0)
    assert not t.is_water(*MT_WASHINGTON)
    lat = np.array([UMBAGOG[0], MT_WASHINGTON[0], 44.3535])
    lon = np.array([UMBAGOG[1], MT_WASHINGTON[1], -71.829])  # Moore Reservoir, 236 m
    np.testing.assert_array_equal(t.is_water(lat, lon), [True, False, True])
    assert t.water_mask is t.water_mask  # cached
    assert 5000 < int(t.water_mask.sum()) < 30000  # lakes, not the whole tile


@pytest.mark.parametrize(
    ("patch", "min_cells", "expected"),
    [
        (6, 30, 0),  # a 6x6 flat patch has 4x4 = 16 cores: too small for 30
        (6, 16, 36),  # ... enough for 16: grown back to the whole 6x6 patch
        (8, 30, 64),  # 6x6 = 36 cores
        (3, 1, 9),  # one core, grown to its 3x3 neighbourhood
        (2, 1, 0),  # no post of a 2x2 patch has a flat 3x3 neighbourhood
    ],
)
def test_detect_water_grows_flat_cores_to_their_shore(patch: int, min_cells: int, expected: int) -> None:
    h = np.add.outer(np.arange(20.0), np.arange(20.0) * 0.5)  # a slope: nothing flat
    h[5 : 5 + patch, 5 : 5 + patch] = 3.0
    wet = detect_water(h, min_water_cells=min_cells)
    assert int(wet.sum()) == expected
    if expected:
        assert wet[5 : 5 + patch, 5 : 5 + patch].all()


def test_given_water_mask_is_used_and_nearest_post_lookup() -> None:
    mask = np.zeros((6, 7), dtype=bool)
    mask[2, 3] = True
    t = Terrain(
        heights_m=np.zeros((6, 7)), transform=leg_cells_toy().transform, crs="EPSG:4326", water_mask=mask
    )
    assert t.is_water(*post_latlon(t, 2, 3))
    assert t.is_water(*post_latlon(t, 2.4, 2.6))
    assert not t.is_water(*post_latlon(t, 2.6, 3))
    assert not t.water_mask[0, 0]  # a flat grid, but the given mask wins


# -- generated terrain --------------------------------------------------------------------------


def test_generated_is_reproducible_and_seeded() -> None:
    a = Terrain.generate(seed=5, center_lat_deg=30.0, center_lon_deg=110.0, size_m=3000.0)
    b = Terrain.generate(seed=5, center_lat_deg=30.0, center_lon_deg=110.0, size_m=3000.0)
    c = Terrain.generate(seed=6, center_lat_deg=30.0, center_lon_deg=110.0, size_m=3000.0)
    np.testing.assert_array_equal(a.heights_m, b.heights_m)
    np.testing.assert_array_equal(a.water_mask, b.water_mask)
    assert not np.array_equal(a.heights_m, c.heights_m)
    assert a.name == "generated-5"


def test_generated_landscape_has_a_river_and_a_flat_reservoir() -> None:
    g = generated()
    frame = local_frame(*GEN_CENTER)
    assert g.crs == frame.crs
    assert g.shape == (268, 268)
    assert g.cell_size_m == pytest.approx((30.0, 30.0), abs=0.01)
    lat0, lon0, lat1, lon1 = g.bounds_deg
    assert ((lat0 + lat1) / 2, (lon0 + lon1) / 2) == pytest.approx(GEN_CENTER, abs=1e-3)
    h, wet = g.heights_m, g.water_mask
    assert np.isfinite(h).all()
    assert h.min() >= 300.0 - 1e-9  # base_m: the outlet
    assert h.max() - h.min() > 600.0  # mountains
    water_heights, counts = np.unique(h[wet], return_counts=True)
    surface = water_heights[np.argmax(counts)]
    assert counts.max() >= 300  # the reservoir: hundreds of posts at one height
    river = wet & (h != surface)
    assert river.sum() >= 200
    assert np.ptp(h[river]) > 50.0  # the river falls along its course
    detected = Terrain(heights_m=h, transform=g.transform, crs=g.crs).water_mask
    assert detected.any()
    assert np.all(wet[detected])  # flat detection finds the reservoir and nothing outside the water
    r, c = np.argwhere(detected)[0]
    assert g.is_water(*post_latlon(g, float(r), float(c)))


@pytest.mark.parametrize(
    "kwargs",
    [{"cell_m": 0.0}, {"size_m": -1.0}, {"relief_m": math.nan}, {"size_m": 100.0, "cell_m": 30.0}],
)
def test_generate_rejects_impossible_sizes(kwargs: dict[str, float]) -> None:
    with pytest.raises(TerrainInputError, match="expected"):
        Terrain.generate(seed=1, center_lat_deg=10.0, center_lon_deg=10.0, **kwargs)


# -- hillshade ----------------------------------------------------------------------------------


def test_hillshade_of_flat_ground_is_the_sun_height() -> None:
    t = toy(np.full((5, 5), 100.0))
    shade = t.hillshade(azimuth_deg=0.0, altitude_deg=30.0)
    assert shade.dtype == np.uint8
    assert shade.shape == (5, 5)
    assert np.all(np.abs(shade.astype(int) - 255 * 0.5) <= 1)


@pytest.mark.parametrize(
    ("azimuth_deg", "altitude_deg", "expected"),
    [
        (270.0, 45.0, 1.0),  # sun square on the west-facing 45 degree slope
        (90.0, 45.0, 0.0),  # sun grazing it from behind
        (0.0, 60.0, math.cos(math.radians(45.0)) * math.sin(math.radians(60.0))),
        (180.0, 30.0, math.cos(math.radians(45.0)) * math.sin(math.radians(30.0))),
    ],
)
def test_hillshade_uses_true_metric_spacing_at_high_latitude(
    azimuth_deg: float, altitude_deg: float, expected: float
) -> None:
    # At 60 N a post step of 0.001 deg of longitude is ~56 m (half what it is at the equator).
    # Heights rise east by exactly that per post: a 45 degree slope facing west. Spacing taken
    # from degrees at the equator would halve the slope and shade (90, 45) at 81, not 0.
    step = 0.001
    dx_m = Geod(ellps="WGS84").inv(10.0, 60.0, 10.0 + step, 60.0)[2]
    t = toy(np.tile(np.arange(7) * dx_m, (3, 1)), lat_top=60.0 + step, lon_left=10.0, step=step)
    shade = t.hillshade(azimuth_deg=azimuth_deg, altitude_deg=altitude_deg)
    assert shade.dtype == np.uint8
    assert np.all(np.abs(shade[1].astype(int) - 255 * expected) <= 1)


def test_hillshade_of_the_tile_lights_north_west_faces() -> None:
    t = tile()
    shade = t.hillshade()
    assert shade.shape == t.shape
    h = t.heights_m.astype(np.float64)
    # Ground rising east and south (rows run south) faces north-west, towards the default sun.
    facing = (np.gradient(h, axis=1) > 2.0) & (np.gradient(h, axis=0) > 2.0)
    away = (np.gradient(h, axis=1) < -2.0) & (np.gradient(h, axis=0) < -2.0)
    assert shade[facing].mean() > shade[away].mean() + 40


def test_hillshade_rejects_a_sun_below_the_horizon() -> None:
    with pytest.raises(TerrainInputError, match="altitude"):
        tile().hillshade(altitude_deg=-5.0)


# -- rays ---------------------------------------------------------------------------------------


def flat_local(height_m: float = 100.0, center: tuple[float, float] = (44.0, -71.0)) -> Terrain:
    frame = local_frame(*center)
    transform = Affine(10.0, 0.0, -2005.0, 0.0, -10.0, 2005.0)
    return Terrain(heights_m=np.full((401, 401), height_m), transform=transform, crs=frame.crs, name="flat")


def test_nadir_ray_hits_the_ground_below() -> None:
    t = tile()
    lat, lon, alt = t.intersect_ray(
        origin_lat_deg=MT_WASHINGTON[0],
        origin_lon_deg=MT_WASHINGTON[1],
        origin_altitude_amsl_m=2500.0,
        direction_enu=np.array([0.0, 0.0, -1.0]),
    )
    assert (lat, lon) == pytest.approx(MT_WASHINGTON, abs=1e-9)
    assert alt == pytest.approx(t.elevation(*MT_WASHINGTON), abs=0.05)


@pytest.mark.parametrize(
    ("azimuth_deg", "depression_deg", "height_m"),
    [(90.0, 45.0, 100.0), (0.0, 45.0, 100.0), (225.0, 45.0, 250.0), (30.0, 30.0, 120.0), (300.0, 70.0, 80.0)],
)
def test_oblique_ray_over_flat_ground_hits_at_the_expected_distance(
    azimuth_deg: float, depression_deg: float, height_m: float
) -> None:
    t = flat_local()
    frame = local_frame(44.0, -71.0)
    az, dep = math.radians(azimuth_deg), math.radians(depression_deg)
    direction = [math.sin(az) * math.cos(dep), math.cos(az) * math.cos(dep), -math.sin(dep)]
    lat, lon, alt = t.intersect_ray(
        origin_lat_deg=44.0,
        origin_lon_deg=-71.0,
        origin_altitude_amsl_m=100.0 + height_m,
        direction_enu=direction,
    )
    x, y = frame.to_local(lat, lon)
    expected = height_m / math.tan(dep)  # earth curvature adds < 1 cm at these distances
    assert math.hypot(x, y) == pytest.approx(expected, abs=0.05)
    assert math.degrees(math.atan2(x, y)) % 360.0 == pytest.approx(azimuth_deg, abs=1e-3)
    assert alt == pytest.approx(100.0, abs=0.01)


@PROPERTY
@given(
    fx=st.floats(min_value=0.3, max_value=0.7),
    fy=st.floats(min_value=0.3, max_value=0.7),
    azimuth_deg=st.floats(min_value=0.0, max_value=360.0),
    depression_deg=st.floats(min_value=7.0, max_value=90.0),
    agl_m=st.floats(min_value=20.0, max_value=600.0),
)
def test_ray_hits_on_the_real_tile_lie_on_the_surface(
    fx: float, fy: float, azimuth_deg: float, depression_deg: float, agl_m: float
) -> None:
    t = tile()
    lat0, lon0 = 44.0 + fy, -72.0 + fx
    az, dep = math.radians(azimuth_deg), math.radians(depression_deg)
    direction = np.array([math.sin(az) * math.cos(dep), math.cos(az) * math.cos(dep), -math.sin(dep)])
    origin_alt = t.elevation(lat0, lon0) + agl_m
    # At >= 7 degrees down from <= 2510 m it is below the tile's lowest post (115 m) within 20 km:
    # it meets the ground inside the tile.
    lat, lon, alt = t.intersect_ray(
        origin_lat_deg=lat0,
        origin_lon_deg=lon0,
        origin_altitude_amsl_m=origin_alt,
        direction_enu=direction,
        max_range_m=60000.0,
    )
    assert alt == pytest.approx(t.elevation(lat, lon), abs=0.1)
    # The hit is on the ray: along its azimuth, as far out as its drop says.
    fwd_az, _, ground_m = Geod(ellps="WGS84").inv(lon0, lat0, lon, lat)
    drop_m = origin_alt - alt + ground_m**2 / (2 * 6_371_008.8)
    assert ground_m == pytest.approx(drop_m / math.tan(dep), abs=0.01 + 1e-6 * ground_m)
    if ground_m > 1.0:
        assert (fwd_az - azimuth_deg + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("origin_alt", "direction", "error", "message"),
    [
        (200.0, [0.0, 0.0, 1.0], NoIntersectionError, "points upward"),
        (200.0, [1.0, 0.0, 0.1], NoIntersectionError, "points upward"),
        (200.0, [1.0, 0.0, 0.0], NoIntersectionError, "leaves the extent"),
        (200.0, [1.0, 0.0, -0.001], NoIntersectionError, "leaves the extent"),
        (50.0, [0.0, 0.0, -1.0], NoIntersectionError, "below the surface"),
        (200.0, [0.0, 0.0, 0.0], TerrainInputError, "non-zero"),
        (200.0, [1.0, 0.0], TerrainInputError, "non-zero"),
        (200.0, [math.nan, 0.0, -1.0], TerrainInputError, "non-zero"),
    ],
)
def test_rays_that_cannot_hit(origin_alt: float, direction: list[float], error: type, message: str) -> None:
    t = flat_local()
    with pytest.raises(error, match=message) as info:
        t.intersect_ray(
            origin_lat_deg=44.0,
            origin_lon_deg=-71.0,
            origin_altitude_amsl_m=origin_alt,
            direction_enu=direction,
        )
    assert isinstance(info.value, GeoError)
    assert isinstance(info.value, ValueError)


def test_ray_range_and_origin_outside() -> None:
    t = flat_local()
    with pytest.raises(NoIntersectionError, match="stays above it for 500 m"):
        t.intersect_ray(
            origin_lat_deg=44.0,
            origin_lon_deg=-71.0,
            origin_altitude_amsl_m=1000.0,
            direction_enu=[1.0, 0.0, -0.1],
            max_range_m=500.0,
        )
    with pytest.raises(OutsideDemError):
        t.intersect_ray(
            origin_lat_deg=45.0, origin_lon_deg=-71.0, origin_altitude_amsl_m=1000.0, direction_enu=[0, 0, -1]
        )


def test_ray_on_ground_returns_the_origin() -> None:
    t = flat_local()
    assert t.intersect_ray(
        origin_lat_deg=44.0, origin_lon_deg=-71.0, origin_altitude_amsl_m=100.0, direction_enu=[1, 0, -1]
    ) == (44.0, -71.0, 100.0)


def test_rasterio_crs_objects_are_accepted() -> None:
    t = Terrain(
        heights_m=np.zeros((3, 3)),
        transform=Affine(1.0, 0.0, 0.0, 0.0, -1.0, 3.0),
        crs=rasterio.crs.CRS.from_epsg(4326),
    )
    assert t.crs == CRS.from_epsg(4326)
