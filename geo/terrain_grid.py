"""ArduPilot's terrain grid, as the MAVLink terrain protocol carries it.

ArduPilot (``AP_Terrain``) keeps terrain in blocks of 28 × 32 posts (north × east) spaced
``TERRAIN_SPACING`` metres apart (100 m by default). Blocks start on whole degrees and step
27 × 31 posts, so neighbours overlap by one post and every point can be interpolated inside
one block. A vehicle asks for a block with ``TERRAIN_REQUEST`` (the block's south-west corner,
the spacing and a 56-bit mask); each bit is a 4 × 4 patch of posts, 8 patches across (east)
and 7 up (north), and the ground station answers each bit with one ``TERRAIN_DATA`` holding
16 heights, row by row from the south-west (as MAVProxy's terrain module and QGroundControl do).

Offsets use ArduPilot's own flat-earth ``Location::offset`` and ``get_distance_NE`` so that
corners computed here are the corners a real vehicle requests.

- :func:`block_for` — the block a vehicle requests for a point.
- :func:`gridbit_points` / :func:`terrain_data` — the ground-station side: the 16 posts of a
  bit and their heights from a :class:`geo.terrain.Terrain`.
- :class:`TerrainDatabase` — the vehicle side: requests, stores answers, interpolates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from geo.errors import TerrainDataMissingError, TerrainInputError

if TYPE_CHECKING:
    from geo.terrain import Terrain

#: Metres per 1e-7 degree of latitude (ArduPilot's LOCATION_SCALING_FACTOR).
LOCATION_SCALING_FACTOR = 0.011131884502145034
PATCH_POSTS = 4  # TERRAIN_GRID_MAVLINK_SIZE: a TERRAIN_DATA carries 4 x 4 posts
PATCHES_NORTH = 7  # TERRAIN_GRID_BLOCK_MUL_X
PATCHES_EAST = 8  # TERRAIN_GRID_BLOCK_MUL_Y
BLOCK_POSTS_NORTH = PATCH_POSTS * PATCHES_NORTH  # 28
BLOCK_POSTS_EAST = PATCH_POSTS * PATCHES_EAST  # 32
BLOCK_STEP_NORTH = BLOCK_POSTS_NORTH - 1  # 27: one post of overlap between blocks
BLOCK_STEP_EAST = BLOCK_POSTS_EAST - 1  # 31
GRID_BITS = PATCHES_NORTH * PATCHES_EAST  # 56
FULL_MASK = (1 << GRID_BITS) - 1
DEFAULT_SPACING_M = 100


def _longitude_scale(lat_e7: float) -> float:
    return max(math.cos(math.radians(lat_e7 * 1e-7)), 0.01)


def _offset_e7(lat_e7: int, lon_e7: int, north_m: float, east_m: float) -> tuple[int, int]:
    """ArduPilot ``Location::offset``: move a point by metres north and east (integer 1e-7 degrees)."""
    dlat = int(north_m / LOCATION_SCALING_FACTOR)
    dlon = int((east_m / LOCATION_SCALING_FACTOR) / _longitude_scale(lat_e7 + dlat / 2))
    return lat_e7 + dlat, lon_e7 + dlon


def _distance_ne_m(lat0_e7: int, lon0_e7: int, lat_e7: float, lon_e7: float) -> tuple[float, float]:
    """ArduPilot ``Location::get_distance_NE``: metres north and east from the first point."""
    north = (lat_e7 - lat0_e7) * LOCATION_SCALING_FACTOR
    east = (lon_e7 - lon0_e7) * LOCATION_SCALING_FACTOR * _longitude_scale((lat0_e7 + lat_e7) / 2)
    return north, east


def _check_spacing(spacing_m: int) -> None:
    if not 1 <= spacing_m <= 65535 or int(spacing_m) != spacing_m:
        raise TerrainInputError(f"expected a grid spacing of 1-65535 whole metres, got {spacing_m!r}")


@dataclass(frozen=True, kw_only=True)
class GridPosition:
    """Where a point falls in ArduPilot's grid: its block, the post south-west of it, fractions."""

    lat_e7: int  # block south-west corner
    lon_e7: int
    spacing_m: int
    post_north: int  # 0 .. 26
    post_east: int  # 0 .. 30
    frac_north: float  # 0 .. 1 towards the next post
    frac_east: float


def grid_position(lat_deg: float, lon_deg: float, spacing_m: int = DEFAULT_SPACING_M) -> GridPosition:
    """ArduPilot ``calculate_grid_info`` for a point."""
    _check_spacing(spacing_m)
    if not (-90.0 <= lat_deg <= 90.0 and -180.0 <= lon_deg <= 180.0):
        raise TerrainInputError(
            f"expected latitude in [-90, 90] and longitude in [-180, 180], got {lat_deg}, {lon_deg}"
        )
    lat_e7, lon_e7 = lat_deg * 1e7, lon_deg * 1e7
    ref_lat = math.floor(lat_deg) * 10_000_000
    ref_lon = math.floor(lon_deg) * 10_000_000
    north, east = _distance_ne_m(ref_lat, ref_lon, lat_e7, lon_e7)
    post_n, post_e = int(north // spacing_m), int(east // spacing_m)
    block_n, block_e = post_n // BLOCK_STEP_NORTH, post_e // BLOCK_STEP_EAST
    corner_lat, corner_lon = _offset_e7(
        ref_lat, ref_lon, block_n * BLOCK_STEP_NORTH * spacing_m, block_e * BLOCK_STEP_EAST * spacing_m
    )
    return GridPosition(
        lat_e7=corner_lat,
        lon_e7=corner_lon,
        spacing_m=spacing_m,
        post_north=post_n % BLOCK_STEP_NORTH,
        post_east=post_e % BLOCK_STEP_EAST,
        frac_north=(north - post_n * spacing_m) / spacing_m,
        frac_east=(east - post_e * spacing_m) / spacing_m,
    )


@dataclass(frozen=True, kw_only=True)
class TerrainRequest:
    """The fields of one ``TERRAIN_REQUEST``: a block's south-west corner, spacing and wanted bits."""

    lat_e7: int
    lon_e7: int
    spacing_m: int
    mask: int


def block_for(lat_deg: float, lon_deg: float, spacing_m: int = DEFAULT_SPACING_M) -> TerrainRequest:
    """The whole-block request a vehicle sends for a point (every bit set)."""
    pos = grid_position(lat_deg, lon_deg, spacing_m)
    return TerrainRequest(lat_e7=pos.lat_e7, lon_e7=pos.lon_e7, spacing_m=spacing_m, mask=FULL_MASK)


def _check_gridbit(gridbit: int) -> None:
    if not 0 <= gridbit < GRID_BITS:
        raise TerrainInputError(f"expected a gridbit of 0-{GRID_BITS - 1}, got {gridbit}")


def gridbit_points(
    lat_e7: int, lon_e7: int, spacing_m: int, gridbit: int
) -> tuple[np.ndarray[tuple[int], np.dtype[np.float64]], np.ndarray[tuple[int], np.dtype[np.float64]]]:
    """Latitudes and longitudes (degrees) of the 16 posts of one bit, in ``TERRAIN_DATA`` order."""
    _check_spacing(spacing_m)
    _check_gridbit(gridbit)
    north0 = (gridbit // PATCHES_EAST) * PATCH_POSTS
    east0 = (gridbit % PATCHES_EAST) * PATCH_POSTS
    lats = np.empty(16)
    lons = np.empty(16)
    for i in range(16):
        lat, lon = _offset_e7(lat_e7, lon_e7, (north0 + i // 4) * spacing_m, (east0 + i % 4) * spacing_m)
        lats[i], lons[i] = lat * 1e-7, lon * 1e-7
    return lats, lons


def terrain_data(terrain: Terrain, lat_e7: int, lon_e7: int, spacing_m: int, gridbit: int) -> list[int]:
    """The 16 heights (whole metres AMSL) a ground station sends for one bit of a request.

    Raises :class:`geo.errors.OutsideDemError` (or ``DemVoidError``) when a post has no height.
    """
    lats, lons = gridbit_points(lat_e7, lon_e7, spacing_m, gridbit)
    heights = np.asarray(terrain.elevation(lats, lons))
    return [int(h) for h in np.clip(np.rint(heights), -32768, 32767)]


@dataclass(kw_only=True)
class _Block:
    heights_m: np.ndarray[tuple[int, int], np.dtype[np.int16]] = field(
        default_factory=lambda: np.zeros((BLOCK_POSTS_NORTH, BLOCK_POSTS_EAST), np.int16)
    )
    bitmap: int = 0


class TerrainDatabase:
    """A vehicle's terrain cache, filled from ``TERRAIN_DATA`` as ArduPilot fills it.

    A block is known (and accepts data) once :meth:`request_for` has been asked about a point in
    it, as ArduPilot only stores answers to blocks it asked for.
    """

    def __init__(self, spacing_m: int = DEFAULT_SPACING_M) -> None:
        _check_spacing(spacing_m)
        self.spacing_m = spacing_m
        self._blocks: dict[tuple[int, int], _Block] = {}

    def request_for(self, lat_deg: float, lon_deg: float) -> TerrainRequest | None:
        """What to ask for to complete the block holding a point; ``None`` when it is complete."""
        pos = grid_position(lat_deg, lon_deg, self.spacing_m)
        block = self._blocks.setdefault((pos.lat_e7, pos.lon_e7), _Block())
        missing = FULL_MASK & ~block.bitmap
        if not missing:
            return None
        return TerrainRequest(lat_e7=pos.lat_e7, lon_e7=pos.lon_e7, spacing_m=self.spacing_m, mask=missing)

    def add(self, lat_e7: int, lon_e7: int, spacing_m: int, gridbit: int, data: list[int]) -> bool:
        """Store one ``TERRAIN_DATA``; False when it answers no block this database asked for."""
        block = self._blocks.get((lat_e7, lon_e7))
        if block is None or spacing_m != self.spacing_m or not 0 <= gridbit < GRID_BITS or len(data) != 16:
            return False
        north0 = (gridbit // PATCHES_EAST) * PATCH_POSTS
        east0 = (gridbit % PATCHES_EAST) * PATCH_POSTS
        block.heights_m[north0 : north0 + 4, east0 : east0 + 4] = np.asarray(data, np.int16).reshape(4, 4)
        block.bitmap |= 1 << gridbit
        return True

    def _posts(self, lat_deg: float, lon_deg: float) -> tuple[GridPosition, _Block | None]:
        pos = grid_position(lat_deg, lon_deg, self.spacing_m)
        block = self._blocks.get((pos.lat_e7, pos.lon_e7))
        if block is None:
            return pos, None
        for dn in (0, 1):
            for de in (0, 1):
                n, e = pos.post_north + dn, pos.post_east + de
                bit = (n // PATCH_POSTS) * PATCHES_EAST + e // PATCH_POSTS
                if not block.bitmap >> bit & 1:
                    return pos, None
        return pos, block

    def covers(self, lat_deg: float, lon_deg: float) -> bool:
        """True when the four posts around a point have arrived."""
        return self._posts(lat_deg, lon_deg)[1] is not None

    def height_amsl(self, lat_deg: float, lon_deg: float) -> float:
        """Bilinear height between the four posts around a point, as ArduPilot's ``height_amsl``."""
        pos, block = self._posts(lat_deg, lon_deg)
        if block is None:
            raise TerrainDataMissingError(
                f"expected terrain data around {lat_deg:.7f}, {lon_deg:.7f}; "
                f"the block at {pos.lat_e7 * 1e-7:.7f}, {pos.lon_e7 * 1e-7:.7f} has not arrived"
            )
        h = block.heights_m[pos.post_north : pos.post_north + 2, pos.post_east : pos.post_east + 2]
        fn, fe = pos.frac_north, pos.frac_east
        west = (1 - fn) * float(h[0, 0]) + fn * float(h[1, 0])
        east = (1 - fn) * float(h[0, 1]) + fn * float(h[1, 1])
        return (1 - fe) * west + fe * east

    @property
    def loaded_blocks(self) -> int:
        """4 × 4 patches received, over every block asked for (TERRAIN_REPORT ``loaded``)."""
        return sum(b.bitmap.bit_count() for b in self._blocks.values())

    @property
    def pending_blocks(self) -> int:
        """4 × 4 patches asked for and not yet received (TERRAIN_REPORT ``pending``)."""
        return sum(GRID_BITS - b.bitmap.bit_count() for b in self._blocks.values())
