"""Terrain: a grid of elevation posts, read from SRTM .hgt or GeoTIFF, or generated.

The grid is a raster of *posts* (point samples of the ground height, metres) placed at pixel
centres of an affine ``transform`` in rasterio's pixel-is-area convention: the post at
``(row, col)`` sits at ``transform @ (col + 0.5, row + 0.5)`` in the raster's CRS. Between
posts the surface is bilinear: each *cell* (the square between four adjacent posts, named by
its upper-left post ``(row, col)``) is interpolated from its four corners, so the highest of
those four corners bounds the surface anywhere in the cell. Voids (no data) are NaN.

Queries take WGS84 degrees. For a WGS84 geographic raster (.hgt) latitude and longitude map
straight to post coordinates through the transform; for any other CRS a cached pyproj
transformer (``always_xy``) carries them into the raster CRS first. A straight leg is straight
in the raster's own coordinates (for .hgt: straight in latitude/longitude).

Heavy optional modules (rasterio, affine) are imported only where a reader needs them.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import cv2
import numpy as np
import numpy.typing as npt
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError

from geo.errors import DemReadError, DemVoidError, NoIntersectionError, OutsideDemError, TerrainInputError
from geo.frames import LocalFrame

if TYPE_CHECKING:
    from affine import Affine

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.intp]

#: Posts of a flat patch (its 3x3 neighbourhood all one height) needed before it counts as water.
MIN_WATER_CELLS = 30
#: Points this far (in posts) outside the post extent still count as inside (floating-point slack).
_EDGE_TOL_POSTS = 1e-9
#: Pieces of a leg shorter than this (in posts) are degenerate and merged into their neighbours.
_MIN_PIECE_POSTS = 1e-9
#: Mean earth radius (IUGG), for the drop of the ground below a straight ray's tangent plane.
_EARTH_RADIUS_M = 6_371_008.8
#: SRTM void marker.
_HGT_VOID = -32768
#: SRTM tile sizes (posts per side) by their sampling, arc-seconds.
_HGT_SIZES = {1201: 3, 3601: 1}
_HGT_NAME = re.compile(r"^([NS])(\d{2})([EW])(\d{3})", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class LegCells:
    """Every interpolation cell a straight leg crosses, in order along the leg.

    Parallel arrays, one entry per piece of the leg inside one cell: the piece runs from
    fraction ``t_start`` to ``t_end`` of the leg (sorted, contiguous, covering ``[0, 1]``);
    ``max_height_m``/``min_height_m`` are the highest/lowest of the cell's four corner posts
    (bounds of the bilinear surface over the whole cell); ``peak_height_m`` is the exact highest
    point of the bilinear surface on the piece itself (the ground right under the leg);
    ``height_poly_m`` (n, 3) holds ``(a, b, c)`` with the surface under the leg at fraction
    ``t`` of it being ``a + b t + c t**2`` on that piece; ``cell_row``/``cell_col`` name the
    cell by its upper-left post.
    """

    t_start: FloatArray
    t_end: FloatArray
    max_height_m: FloatArray
    min_height_m: FloatArray
    peak_height_m: FloatArray
    height_poly_m: FloatArray
    cell_row: IndexArray
    cell_col: IndexArray

    def __len__(self) -> int:
        return int(self.t_start.size)


def detect_water(heights_m: npt.ArrayLike, *, min_water_cells: int = MIN_WATER_CELLS) -> BoolArray:
    """Water where a DEM is flattened: SRTM and most DEMs give lakes one constant height.

    A post is a *flat core* when its whole 3x3 neighbourhood (inside the grid, no voids) has
    exactly its height. Cores are grouped into 8-connected components; components with at least
    ``min_water_cells`` posts are kept and grown by one post, which takes in the shore posts at
    the same height (every neighbour of a core post has the core's height by construction).
    """
    h = np.asarray(heights_m)
    if h.ndim != 2:
        raise TerrainInputError(f"expected a 2-D height grid, got shape {h.shape}")
    if min_water_cells < 1:
        raise TerrainInputError(f"expected min_water_cells >= 1, got {min_water_cells}")
    rows, cols = h.shape
    if rows < 3 or cols < 3:
        return np.zeros(h.shape, dtype=bool)
    centre = h[1:-1, 1:-1]
    core_inner = np.isfinite(centre)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                core_inner &= h[1 + dr : rows - 1 + dr, 1 + dc : cols - 1 + dc] == centre
    core = np.zeros(h.shape, dtype=np.uint8)
    core[1:-1, 1:-1] = core_inner
    if not core.any():
        return np.zeros(h.shape, dtype=bool)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    big = stats[:, cv2.CC_STAT_AREA] >= min_water_cells
    big[0] = False  # background
    kept = big[labels].astype(np.uint8)
    grown = cv2.dilate(kept, np.ones((3, 3), dtype=np.uint8))
    log.debug("detected %d flat water bodies of %d flat patches", int(big.sum()), count - 1)
    return np.asarray(grown, dtype=bool)


class Terrain:
    """A grid of elevation posts with bilinear interpolation between them.

    ``heights_m``: (rows, cols) metres, NaN for voids. ``transform``: ``affine.Affine``, north-up,
    pixel-is-area (posts at pixel centres). ``crs``: a ``pyproj.CRS`` or anything
    ``CRS.from_user_input`` accepts. ``water_mask``: bool (rows, cols), or ``None`` to detect it
    from flat patches (:func:`detect_water`, at least ``min_water_cells`` posts) when first asked.
    """

    def __init__(
        self,
        *,
        heights_m: npt.ArrayLike,
        transform: Affine,
        crs: Any,
        water_mask: npt.ArrayLike | None = None,
        name: str = "",
        min_water_cells: int = MIN_WATER_CELLS,
    ) -> None:
        h = np.asarray(heights_m)
        if h.ndim != 2 or h.shape[0] < 2 or h.shape[1] < 2:
            raise TerrainInputError(f"expected a 2-D height grid of at least 2x2 posts, got shape {h.shape}")
        if np.issubdtype(h.dtype, np.floating) and h.dtype.itemsize >= 4:
            h = np.array(h, copy=True)
        elif np.issubdtype(h.dtype, np.integer) or np.issubdtype(h.dtype, np.floating):
            h = h.astype(np.float32 if h.dtype.itemsize <= 2 else np.float64)
        else:
            raise TerrainInputError(f"expected numeric heights, got dtype {h.dtype}")
        h.setflags(write=False)
        self._heights = h

        coeffs = [getattr(transform, k, None) for k in "abcdef"]
        if any(not isinstance(v, int | float) or not math.isfinite(v) for v in coeffs):
            raise TerrainInputError(
                f"expected an affine.Affine transform with finite terms, got {transform!r}"
            )
        a, b, c, d, e, f = (float(v) for v in coeffs)  # type: ignore[arg-type]
        if b != 0.0 or d != 0.0 or a == 0.0 or e == 0.0:
            raise TerrainInputError(
                f"expected a north-up transform (no rotation, non-zero pixel size), got {transform!r}"
            )
        self._transform = transform
        self._dx, self._dy = a, e
        self._x0, self._y0 = c + 0.5 * a, f + 0.5 * e  # CRS coordinates of post (0, 0)

        try:
            self._crs = CRS.from_user_input(crs)
        except CRSError as exc:
            raise TerrainInputError(f"expected a coordinate reference system, got {crs!r}: {exc}") from exc
        wgs84 = CRS.from_epsg(4326)
        self._direct = bool(self._crs.is_geographic and self._crs.equals(wgs84, ignore_axis_order=True))
        self._to_crs: Transformer | None = None
        self._from_crs: Transformer | None = None

        if min_water_cells < 1:
            raise TerrainInputError(f"expected min_water_cells >= 1, got {min_water_cells}")
        self._min_water_cells = int(min_water_cells)
        self._water: BoolArray | None = None
        if water_mask is not None:
            w = np.asarray(water_mask)
            if w.shape != h.shape:
                raise TerrainInputError(f"expected a water mask of shape {h.shape}, got {w.shape}")
            w = np.array(w, dtype=bool, copy=True)
            w.setflags(write=False)
            self._water = w
        self.name = str(name)

    # -- readers and generator ---------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> Terrain:
        """Read ``path``: SRTM ``.hgt`` by its suffix, anything else through rasterio."""
        p = Path(path)
        if p.suffix.lower() == ".hgt":
            return cls.from_hgt(p)
        return cls.from_geotiff(p)

    @classmethod
    def from_hgt(cls, path: str | Path) -> Terrain:
        """Read an SRTM tile: 1201² (3") or 3601² (1") big-endian int16, -32768 = void.

        The south-west corner comes from the file name (``N44W072.hgt``); the first row is the
        north edge (lat + 1), the first column sits exactly on the tile's western longitude.
        """
        from affine import Affine

        p = Path(path)
        m = _HGT_NAME.match(p.name)
        if m is None:
            raise DemReadError(f"expected an SRTM tile name like N44W072.hgt, got {p.name!r} ({p})")
        lat0 = int(m.group(2)) * (1 if m.group(1).upper() == "N" else -1)
        lon0 = int(m.group(4)) * (1 if m.group(3).upper() == "E" else -1)
        if not (-90 <= lat0 < 90 and -180 <= lon0 < 180):
            raise DemReadError(
                f"expected a tile corner with -90 <= lat < 90, -180 <= lon < 180, got {p.name!r}"
            )
        try:
            size_bytes = p.stat().st_size
            n = math.isqrt(size_bytes // 2)
            if size_bytes != 2 * n * n or n not in _HGT_SIZES:
                expected = " or ".join(f"{2 * k * k} bytes ({k}x{k})" for k in _HGT_SIZES)
                raise DemReadError(f"expected an SRTM tile of {expected}, got {size_bytes} bytes in {p}")
            raw = np.fromfile(p, dtype=">i2")
        except OSError as exc:
            if isinstance(exc, DemReadError):
                raise
            raise DemReadError(f"could not read SRTM tile {p}: {exc}") from exc
        if raw.size != n * n:
            raise DemReadError(f"expected {n * n} posts in {p}, read {raw.size}")
        grid = raw.reshape(n, n)
        heights = grid.astype(np.float32)
        heights[grid == _HGT_VOID] = np.nan
        step = 1.0 / (n - 1)
        transform = Affine(step, 0.0, lon0 - 0.5 * step, 0.0, -step, lat0 + 1 + 0.5 * step)
        voids = int(np.count_nonzero(grid == _HGT_VOID))
        log.debug('read %s: %dx%d posts (%d"), %d voids', p, n, n, _HGT_SIZES[n], voids)
        return cls(heights_m=heights, transform=transform, crs=CRS.from_epsg(4326), name=p.stem)

    @classmethod
    def from_geotiff(cls, path: str | Path) -> Terrain:
        """Read band 1 of any raster GDAL opens (GeoTIFF, ...), in any CRS; nodata becomes NaN."""
        import rasterio
        from rasterio.errors import RasterioError

        p = Path(path)
        try:
            with rasterio.open(p) as ds:
                if ds.crs is None:
                    raise DemReadError(f"expected a georeferenced raster with a CRS, got none in {p}")
                band = ds.read(1, masked=True)
                transform = ds.transform
                crs = CRS.from_user_input(ds.crs.to_wkt())
        except RasterioError as exc:
            raise DemReadError(f"could not read elevation raster {p}: {exc}") from exc
        dtype = np.float32 if band.dtype.itemsize <= 2 or band.dtype == np.float32 else np.float64
        heights = np.ma.filled(band.astype(dtype), np.nan)
        heights[~np.isfinite(heights)] = np.nan
        return cls(heights_m=heights, transform=transform, crs=crs, name=p.stem)

    @classmethod
    def generate(
        cls,
        *,
        seed: int,
        center_lat_deg: float,
        center_lon_deg: float,
        size_m: float = 8000.0,
        cell_m: float = 30.0,
        relief_m: float = 900.0,
        base_m: float = 300.0,
    ) -> Terrain:
        """A seeded synthetic landscape: mountains, a river valley and a dammed reservoir.

        Square, ``size_m`` across, posts every ``cell_m`` in a local transverse Mercator CRS
        centred on the given point (:class:`geo.frames.LocalFrame`). Mountains are a sum of
        gaussian massifs and fractal noise, ``relief_m`` high; a meandering river runs the
        length of the map, its bed sloping down to ``base_m`` at the outlet, in a valley
        carved around it; a dam across the valley holds a reservoir whose surface is one
        constant height. ``water_mask`` is True on the river and the reservoir, whose heights
        are the water surface. Same arguments, same arrays.
        """
        from affine import Affine

        for label, value in (("size_m", size_m), ("cell_m", cell_m), ("relief_m", relief_m)):
            if not (math.isfinite(value) and value > 0):
                raise TerrainInputError(f"expected a positive {label}, got {value}")
        if not math.isfinite(base_m):
            raise TerrainInputError(f"expected a finite base_m, got {base_m}")
        n = round(size_m / cell_m) + 1
        if n < 16:
            raise TerrainInputError(f"expected size_m >= 15 * cell_m, got size_m={size_m}, cell_m={cell_m}")
        frame = LocalFrame(origin_lat_deg=center_lat_deg, origin_lon_deg=center_lon_deg)
        rng = np.random.default_rng(seed)
        half = 0.5 * (n - 1) * cell_m
        axis = np.linspace(-half, half, n)
        x, y = np.meshgrid(axis, axis[::-1])  # row 0 is the north edge
        span = 2.0 * half

        # Mountains: gaussian massifs plus fractal detail, normalised to [0, 1].
        massifs = np.zeros_like(x)
        for _ in range(int(rng.integers(5, 10))):
            cx, cy = rng.uniform(-half, half, size=2)
            sigma = rng.uniform(0.07, 0.22) * span
            massifs += rng.uniform(0.4, 1.0) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * sigma**2))
        land = 0.65 * _unit(massifs) + 0.35 * _fractal_noise(rng, n)
        land = _unit(land)

        # River: flows along direction theta, meandering across it; its bed slopes downstream.
        theta = rng.uniform(0.0, 2.0 * math.pi)
        along = x * math.cos(theta) + y * math.sin(theta)
        amp = rng.uniform(0.04, 0.08, size=2) * span
        wavelength = np.array([rng.uniform(0.45, 0.7), rng.uniform(0.2, 0.3)]) * span
        phase = rng.uniform(0.0, 2.0 * math.pi, size=2)
        line_a = np.arange(-math.sqrt(2.0) * half, math.sqrt(2.0) * half, 0.25 * cell_m)
        line_b = amp[0] * np.sin(2.0 * math.pi * line_a / wavelength[0] + phase[0])
        line_b += amp[1] * np.sin(2.0 * math.pi * line_a / wavelength[1] + phase[1])
        line_x = line_a * math.cos(theta) - line_b * math.sin(theta)
        line_y = line_a * math.sin(theta) + line_b * math.cos(theta)
        dist = _distance_to_line_m(line_x, line_y, n=n, cell_m=cell_m)
        along_max = float(np.abs(along).max())
        drop = 0.15 * relief_m
        bed = base_m + drop * (along_max - along) / (2.0 * along_max)
        river_half_w = max(1.5 * cell_m, 0.006 * span)
        valley_w = 0.12 * span
        carve = np.where(dist <= river_half_w, 0.0, 1.0 - np.exp(-(((dist - river_half_w) / valley_w) ** 2)))
        heights = bed + (0.02 * relief_m + relief_m * land) * carve
        river = dist <= river_half_w

        # Reservoir: flood the valley upstream of a dam up to the crest minus freeboard.
        a_dam = rng.uniform(0.1, 0.35) * half
        surface = base_m + drop * (along_max - a_dam) / (2.0 * along_max) + max(0.05 * relief_m, 2.0)
        candidate = (along < a_dam) & (along > a_dam - 0.45 * span) & (heights < surface)
        seeds = np.where(river & candidate, along, -np.inf)
        reservoir = np.zeros_like(river)
        if np.isfinite(seeds).any():
            _, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=4)
            seed_label = labels.flat[int(np.argmax(seeds))]
            reservoir = labels == seed_label
            heights[reservoir] = surface
            dam = (along >= a_dam) & (along < a_dam + 2.5 * cell_m) & (dist < 2.0 * valley_w)
            dam &= heights < surface + 3.0
            heights[dam] = surface + 3.0
            river &= ~dam
        water = river | reservoir

        transform = Affine(cell_m, 0.0, -half - 0.5 * cell_m, 0.0, -cell_m, half + 0.5 * cell_m)
        return cls(
            heights_m=heights, transform=transform, crs=frame.crs, water_mask=water, name=f"generated-{seed}"
        )

    # -- properties ---------------------------------------------------------------------------

    @property
    def heights_m(self) -> np.ndarray:
        """The posts, metres, NaN for voids (read-only)."""
        return self._heights

    @property
    def transform(self) -> Affine:
        """Pixel-is-area affine transform: post ``(row, col)`` at ``transform @ (col + .5, row + .5)``."""
        return self._transform

    @property
    def crs(self) -> CRS:
        return self._crs

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self._heights.shape
        return int(rows), int(cols)

    @property
    def bounds_deg(self) -> tuple[float, float, float, float]:
        """``(min_lat, min_lon, max_lat, max_lon)`` enclosing the post extent, WGS84 degrees."""
        rows, cols = self.shape
        xs = (self._x0, self._x0 + (cols - 1) * self._dx)
        ys = (self._y0, self._y0 + (rows - 1) * self._dy)
        if self._direct:
            return min(ys), min(xs), max(ys), max(xs)
        lon_min, lat_min, lon_max, lat_max = self._inverse().transform_bounds(
            min(xs), min(ys), max(xs), max(ys), densify_pts=51
        )
        return float(lat_min), float(lon_min), float(lat_max), float(lon_max)

    @property
    def cell_size_m(self) -> tuple[float, float]:
        """Approximate post spacing ``(x, y)`` on the ground, metres, at the grid's centre."""
        rows, cols = self.shape
        dx, dy = self._ground_spacing_m(np.array([(rows - 1) // 2]), (cols - 1) // 2)
        return float(dx[0]), float(dy[0])

    @property
    def water_mask(self) -> BoolArray:
        """Water posts: as given, else detected from flat patches (computed once)."""
        if self._water is None:
            w = detect_water(self._heights, min_water_cells=self._min_water_cells)
            w.setflags(write=False)
            self._water = w
        return self._water

    def __repr__(self) -> str:
        rows, cols = self.shape
        return f"Terrain(name={self.name!r}, shape=({rows}, {cols}), crs={self._crs.to_string()!r})"

    # -- point queries ------------------------------------------------------------------------

    @overload
    def contains(self, lat_deg: float, lon_deg: float) -> bool: ...
    @overload
    def contains(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> BoolArray: ...
    def contains(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> bool | BoolArray:
        """True where a point lies inside the post extent (where :meth:`elevation` can answer)."""
        lat, lon = _as_points(lat_deg, lon_deg)
        col, row = self._post_coords(lat, lon)
        inside = self._inside(col, row)
        return bool(inside) if inside.ndim == 0 else inside

    @overload
    def elevation(self, lat_deg: float, lon_deg: float) -> float: ...
    @overload
    def elevation(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> FloatArray: ...
    def elevation(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> float | FloatArray:
        """Bilinear height between the four surrounding posts, metres; scalars or arrays.

        Raises :class:`OutsideDemError` for a point outside the post extent and
        :class:`DemVoidError` where a post it needs (one with non-zero weight) is void.
        """
        lat, lon = _as_points(lat_deg, lon_deg)
        col, row = self._post_coords(lat, lon)
        self._require_inside(col, row, lat, lon, what="point")
        z, void_post = self._bilinear(col, row)
        if void_post is not None:
            r, c = void_post
            raise DemVoidError(f"expected heights around every point, got {self._void_text(r, c)}")
        return float(z) if z.ndim == 0 else z

    @overload
    def is_water(self, lat_deg: float, lon_deg: float) -> bool: ...
    @overload
    def is_water(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> BoolArray: ...
    def is_water(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> bool | BoolArray:
        """The water mask at the nearest post; raises :class:`OutsideDemError` outside the extent."""
        lat, lon = _as_points(lat_deg, lon_deg)
        col, row = self._post_coords(lat, lon)
        self._require_inside(col, row, lat, lon, what="point")
        rows, cols = self.shape
        r = np.clip(np.rint(row), 0, rows - 1).astype(np.intp)
        c = np.clip(np.rint(col), 0, cols - 1).astype(np.intp)
        wet = self.water_mask[r, c]
        return bool(wet) if wet.ndim == 0 else wet

    # -- legs ---------------------------------------------------------------------------------

    def cells_under_leg(self, lat0_deg: float, lon0_deg: float, lat1_deg: float, lon1_deg: float) -> LegCells:
        """Every cell the straight leg (straight in the raster's coordinates) crosses, exactly.

        The leg is cut at each grid line it crosses (the parameters come straight from the line
        equations, all at once); each piece between two cuts lies in one cell, found from its
        midpoint. Pieces shorter than 1e-9 posts (a leg through a grid corner, or starting on a
        grid line) are merged into their neighbours. A zero-length leg gives one piece.
        """
        lat = np.array([lat0_deg, lat1_deg], dtype=np.float64)
        lon = np.array([lon0_deg, lon1_deg], dtype=np.float64)
        col, row = self._post_coords(lat, lon)
        self._require_inside(col, row, lat, lon, what="leg end")
        rows, cols = self.shape
        col = np.clip(col, 0.0, cols - 1.0)
        row = np.clip(row, 0.0, rows - 1.0)
        u0, u1 = float(col[0]), float(col[1])
        v0, v1 = float(row[0]), float(row[1])
        du, dv = u1 - u0, v1 - v0

        cuts = [np.array([0.0, 1.0])]
        for p0, dp in ((u0, du), (v0, dv)):
            if dp != 0.0:
                lo, hi = min(p0, p0 + dp), max(p0, p0 + dp)
                lines = np.arange(math.floor(lo) + 1, math.ceil(hi), dtype=np.float64)
                cuts.append((lines - p0) / dp)
        t = np.clip(np.sort(np.concatenate(cuts)), 0.0, 1.0)
        piece = np.diff(t)
        keep = piece * math.hypot(du, dv) > _MIN_PIECE_POSTS
        if not keep.any():
            keep[int(np.argmax(piece))] = True
        lo_t, hi_t = t[:-1][keep], t[1:][keep]
        mid = 0.5 * (lo_t + hi_t)
        cell_col = np.clip(np.floor(u0 + mid * du), 0, cols - 2).astype(np.intp)
        cell_row = np.clip(np.floor(v0 + mid * dv), 0, rows - 2).astype(np.intp)
        t_start = lo_t.copy()
        t_start[0] = 0.0
        t_end = np.empty_like(t_start)
        t_end[:-1] = t_start[1:]
        t_end[-1] = 1.0

        h = self._heights
        corners = np.stack(
            [
                h[cell_row, cell_col],
                h[cell_row, cell_col + 1],
                h[cell_row + 1, cell_col],
                h[cell_row + 1, cell_col + 1],
            ]
        ).astype(np.float64)
        void = np.isnan(corners)
        if void.any():
            k = int(np.flatnonzero(void.any(axis=0))[0])
            which = int(np.flatnonzero(void[:, k])[0])
            r, c = int(cell_row[k]) + which // 2, int(cell_col[k]) + which % 2
            raise DemVoidError(
                f"expected heights under the leg ({lat0_deg:.7f}, {lon0_deg:.7f}) -> "
                f"({lat1_deg:.7f}, {lon1_deg:.7f}), got {self._void_text(r, c)} "
                f"at fraction {t_start[k]:.4f}..{t_end[k]:.4f} of the leg"
            )
        # Along the leg the bilinear surface is a quadratic in t: its maximum on a piece is at an
        # end or at the vertex of the parabola.
        h00, h01, h10, h11 = corners
        b, c, d = h01 - h00, h10 - h00, h00 - h01 - h10 + h11
        x0, y0 = u0 - cell_col, v0 - cell_row
        c0 = h00 + b * x0 + c * y0 + d * x0 * y0
        c1 = b * du + c * dv + d * (x0 * dv + y0 * du)
        c2 = d * du * dv
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = np.where(c2 < 0, -c1 / (2.0 * c2), t_start)
        candidates = np.stack([t_start, t_end, np.clip(vertex, t_start, t_end)])
        peak = (c0 + c1 * candidates + c2 * candidates**2).max(axis=0)
        return LegCells(
            t_start=t_start,
            t_end=t_end,
            max_height_m=corners.max(axis=0),
            min_height_m=corners.min(axis=0),
            peak_height_m=np.minimum(peak, corners.max(axis=0)),
            height_poly_m=np.column_stack([c0, c1, c2]),
            cell_row=cell_row,
            cell_col=cell_col,
        )

    def max_along_leg(self, lat0_deg: float, lon0_deg: float, lat1_deg: float, lon1_deg: float) -> float:
        """The highest point of the (bilinear) terrain under the leg, exactly, cell by cell."""
        return float(self.cells_under_leg(lat0_deg, lon0_deg, lat1_deg, lon1_deg).peak_height_m.max())

    # -- rendering ----------------------------------------------------------------------------

    def hillshade(self, *, azimuth_deg: float = 315.0, altitude_deg: float = 45.0) -> npt.NDArray[np.uint8]:
        """Lambertian shading 0..255 under a sun at ``azimuth_deg`` (clockwise from north) and
        ``altitude_deg`` above the horizon, with slopes from the true ground spacing of each row
        (latitude-dependent for a geographic CRS). Voids and their neighbours are 0."""
        if not (math.isfinite(azimuth_deg) and math.isfinite(altitude_deg) and 0.0 <= altitude_deg <= 90.0):
            raise TerrainInputError(
                "expected a finite azimuth and 0 <= altitude <= 90 degrees, "
                f"got {azimuth_deg}, {altitude_deg}"
            )
        rows, cols = self.shape
        dx_m, dy_m = self._ground_spacing_m(np.arange(rows), (cols - 1) // 2)
        h = self._heights.astype(np.float64)
        dz_dcol = np.gradient(h, axis=1)
        dz_drow = np.gradient(h, axis=0)
        dz_de = dz_dcol / (math.copysign(1.0, self._dx) * dx_m)[:, None]
        dz_dn = dz_drow / (math.copysign(1.0, self._dy) * dy_m)[:, None]
        az, alt = math.radians(azimuth_deg), math.radians(altitude_deg)
        light = (math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt), math.sin(alt))
        shade = (-dz_de * light[0] - dz_dn * light[1] + light[2]) / np.sqrt(1.0 + dz_de**2 + dz_dn**2)
        shade = np.nan_to_num(shade, nan=0.0)
        return np.rint(np.clip(shade, 0.0, 1.0) * 255.0).astype(np.uint8)

    # -- rays ---------------------------------------------------------------------------------

    def intersect_ray(
        self,
        *,
        origin_lat_deg: float,
        origin_lon_deg: float,
        origin_altitude_amsl_m: float,
        direction_enu: npt.ArrayLike,
        max_range_m: float = 5000.0,
    ) -> tuple[float, float, float]:
        """Where a ray first meets the bilinear surface: ``(lat_deg, lon_deg, altitude_amsl_m)``.

        The ray starts at the origin and runs along ``direction_enu`` (east, north, up; normalised
        here) in the local tangent frame of the origin: its ground track is the geodesic leaving
        the origin at the ray's azimuth (metres along it = horizontal metres of the ray, as in a
        local metric frame at the origin), and the ground's drop below the tangent plane is allowed
        for (``d² / 2R``: 8 cm at 1 km, 2 m at 5 km). It is marched in steps of at most half a post
        spacing, then the first crossing is refined by bisection to < 0.05 m of range (and a final
        secant step).
        Raises :class:`NoIntersectionError` if the ray leaves the DEM or ``max_range_m`` first (or
        the origin is underground), :class:`OutsideDemError` for an origin outside the DEM and
        :class:`DemVoidError` if it runs into a void.
        """
        d = np.asarray(direction_enu, dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(d)) if d.shape == (3,) else 0.0
        if not (math.isfinite(norm) and norm > 0.0):
            raise TerrainInputError(
                f"expected a non-zero finite (east, north, up) vector, got {direction_enu!r}"
            )
        if not (math.isfinite(max_range_m) and max_range_m > 0.0):
            raise TerrainInputError(f"expected a positive max_range_m, got {max_range_m}")
        if not math.isfinite(origin_altitude_amsl_m):
            raise TerrainInputError(f"expected a finite origin altitude, got {origin_altitude_amsl_m}")
        d = d / norm
        ground0 = self.elevation(float(origin_lat_deg), float(origin_lon_deg))
        above0 = origin_altitude_amsl_m - ground0
        if above0 < 0.0:
            raise NoIntersectionError(
                "expected a ray origin above the terrain, "
                f"got ({origin_lat_deg:.7f}, {origin_lon_deg:.7f}) at "
                f"{origin_altitude_amsl_m:.2f} m, {-above0:.2f} m below the surface ({ground0:.2f} m)"
            )
        if above0 == 0.0:
            return float(origin_lat_deg), float(origin_lon_deg), float(origin_altitude_amsl_m)
        horizontal = math.hypot(d[0], d[1])
        azimuth_deg = math.degrees(math.atan2(d[0], d[1]))
        geod = Geod(ellps="WGS84")

        def ray(s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
            reach = s * horizontal  # metres along the ground, on the geodesic leaving at the azimuth
            lon, lat, _ = geod.fwd(
                np.full(s.shape, float(origin_lon_deg)),
                np.full(s.shape, float(origin_lat_deg)),
                np.full(s.shape, azimuth_deg),
                reach,
            )
            z = origin_altitude_amsl_m + s * d[2] + reach * reach / (2.0 * _EARTH_RADIUS_M)
            return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64), z

        step = 0.5 * min(self.cell_size_m)
        s = np.linspace(0.0, max_range_m, max(2, math.ceil(max_range_m / step) + 1))
        lat, lon, z = ray(s)
        col, row = self._post_coords(lat, lon)
        inside = self._inside(col, row)
        ground = np.full(s.shape, np.nan)
        ground[inside], _ = self._bilinear(col[inside], row[inside])
        void = inside & np.isnan(ground)
        hit = inside & (z - ground <= 0.0)
        stop = ~inside | void | hit
        where = (
            f"from ({origin_lat_deg:.7f}, {origin_lon_deg:.7f}, {origin_altitude_amsl_m:.2f} m) "
            f"along ENU ({d[0]:.4f}, {d[1]:.4f}, {d[2]:.4f})"
        )
        if not stop.any():
            why = "it points upward and" if d[2] > 0.0 else "it"
            raise NoIntersectionError(
                f"expected the ray {where} to meet the terrain; {why} stays above it for {max_range_m:.0f} m"
            )
        k = int(np.argmax(stop))
        if not inside[k]:
            raise NoIntersectionError(
                f"expected the ray {where} to meet the terrain inside the DEM "
                f"{self._label}; it{' points upward and' if d[2] > 0.0 else ''} leaves the extent "
                f"{self._extent_text()} after {s[k]:.1f} m"
            )
        if void[k]:
            raise DemVoidError(f"expected heights along the ray {where}, got a void {s[k]:.1f} m along it")

        def above(si: float) -> float:
            la, lo, zz = ray(np.array([si]))
            c, r = self._post_coords(la, lo)
            g, void_post = self._bilinear(np.clip(c, 0, self.shape[1] - 1), np.clip(r, 0, self.shape[0] - 1))
            if void_post is not None:
                raise DemVoidError(f"expected heights along the ray {where}, got a void {si:.2f} m along it")
            return float(zz[0] - g[0])

        lo_s, hi_s = float(s[k - 1]), float(s[k])
        f_lo, f_hi = float(z[k - 1] - ground[k - 1]), float(z[k] - ground[k])
        for _ in range(64):
            if hi_s - lo_s < 0.05:
                break
            mid = 0.5 * (lo_s + hi_s)
            f_mid = above(mid)
            if f_mid > 0.0:
                lo_s, f_lo = mid, f_mid
            else:
                hi_s, f_hi = mid, f_mid
        s_hit = hi_s if f_lo == f_hi else lo_s + (hi_s - lo_s) * f_lo / (f_lo - f_hi)
        la, lo, zz = ray(np.array([s_hit]))
        return float(la[0]), float(lo[0]), float(zz[0])

    # -- internals ----------------------------------------------------------------------------

    @property
    def _label(self) -> str:
        return repr(self.name) if self.name else "(unnamed)"

    def _forward(self) -> Transformer:
        if self._to_crs is None:
            self._to_crs = Transformer.from_crs(CRS.from_epsg(4326), self._crs, always_xy=True)
        return self._to_crs

    def _inverse(self) -> Transformer:
        if self._from_crs is None:
            self._from_crs = Transformer.from_crs(self._crs, CRS.from_epsg(4326), always_xy=True)
        return self._from_crs

    def _post_coords(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        """WGS84 degrees to fractional post coordinates ``(col, row)``."""
        if self._direct:
            x, y = lon, lat
        else:
            x, y = (np.asarray(v, dtype=np.float64) for v in self._forward().transform(lon, lat))
        return (x - self._x0) / self._dx, (y - self._y0) / self._dy

    def _lonlat_of_crs(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        if self._direct:
            return x, y
        lon, lat = self._inverse().transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def _inside(self, col: FloatArray, row: FloatArray) -> BoolArray:
        rows, cols = self.shape
        t = _EDGE_TOL_POSTS
        return np.asarray((col >= -t) & (col <= cols - 1 + t) & (row >= -t) & (row <= rows - 1 + t))

    def _extent_text(self) -> str:
        lat0, lon0, lat1, lon1 = self.bounds_deg
        return f"lat {lat0:.6f}..{lat1:.6f}, lon {lon0:.6f}..{lon1:.6f}"

    def _void_text(self, row: int, col: int) -> str:
        x = np.array([self._x0 + col * self._dx])
        y = np.array([self._y0 + row * self._dy])
        lon, lat = self._lonlat_of_crs(x, y)
        return f"a void post at row {row}, col {col} ({lat[0]:.6f}, {lon[0]:.6f}) of DEM {self._label}"

    def _require_inside(
        self, col: FloatArray, row: FloatArray, lat: FloatArray, lon: FloatArray, *, what: str
    ) -> None:
        inside = self._inside(col, row)
        if inside.all():
            return
        bad = np.flatnonzero(~inside.ravel())
        i = int(bad[0])
        which = "" if inside.size == 1 else f" (#{i}; {bad.size} of {inside.size} outside)"
        raise OutsideDemError(
            f"expected {what} inside the post extent of DEM {self._label} ({self._extent_text()}), "
            f"got ({float(lat.ravel()[i]):.7f}, {float(lon.ravel()[i]):.7f}){which}"
        )

    def _bilinear(self, col: FloatArray, row: FloatArray) -> tuple[FloatArray, tuple[int, int] | None]:
        """Bilinear heights at in-extent post coordinates; NaN where a post with weight > 0 is void,
        and the first such post (row, col), or None."""
        rows, cols = self.shape
        col = _snap(np.clip(col, 0.0, cols - 1.0))
        row = _snap(np.clip(row, 0.0, rows - 1.0))
        c0 = np.clip(np.floor(col), 0, cols - 2).astype(np.intp)
        r0 = np.clip(np.floor(row), 0, rows - 2).astype(np.intp)
        fx = col - c0
        fy = row - r0
        h = self._heights
        z = np.zeros(np.shape(col), dtype=np.float64)
        void = np.zeros(np.shape(col), dtype=bool)
        first: tuple[int, int] | None = None
        for dr, dc, w in (
            (0, 0, (1 - fx) * (1 - fy)),
            (0, 1, fx * (1 - fy)),
            (1, 0, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            post = h[r0 + dr, c0 + dc].astype(np.float64)
            needed = w > 0.0
            bad = needed & np.isnan(post)
            if first is None and bad.any():
                k = int(np.flatnonzero(bad.ravel())[0])
                first = int(r0.ravel()[k]) + dr, int(c0.ravel()[k]) + dc
            void |= bad
            z += np.where(needed & ~bad, w * np.nan_to_num(post), 0.0)
        z[void] = np.nan
        return z, first

    def _ground_spacing_m(self, rows: IndexArray, col: int) -> tuple[FloatArray, FloatArray]:
        """Ground distance (metres, WGS84 ellipsoid) from post ``(row, col)`` to its east/west and
        north/south neighbour, for each row."""
        r = np.asarray(rows, dtype=np.float64)
        x = np.full(r.shape, self._x0 + col * self._dx)
        y = np.asarray(self._y0 + r * self._dy, dtype=np.float64)
        lon, lat = self._lonlat_of_crs(x, y)
        lon_x, lat_x = self._lonlat_of_crs(x + self._dx, y)
        lon_y, lat_y = self._lonlat_of_crs(x, y + self._dy)
        geod = Geod(ellps="WGS84")
        _, _, dist_x = geod.inv(lon, lat, lon_x, lat_x)
        _, _, dist_y = geod.inv(lon, lat, lon_y, lat_y)
        return np.asarray(dist_x, dtype=np.float64), np.asarray(dist_y, dtype=np.float64)


def _as_points(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    if lat.shape != lon.shape:
        try:
            lat, lon = np.broadcast_arrays(lat, lon)
        except ValueError as exc:
            raise TerrainInputError(
                f"expected latitudes and longitudes of one shape, got {lat.shape} and {lon.shape}"
            ) from exc
    return lat, lon


def _distance_to_line_m(line_x: FloatArray, line_y: FloatArray, *, n: int, cell_m: float) -> FloatArray:
    """Euclidean distance (metres) from each post of a centred ``n x n`` grid to a polyline given
    in the grid's metres (x east, y north): the line is drawn on a supersampled raster and
    cv2's exact distance transform measures to it."""
    sub = max(1, min(4, 4096 // n))
    half = 0.5 * (n - 1) * cell_m
    size = (n - 1) * sub + 1
    fixed = 1 << 4  # polyline vertices in 1/16 pixel
    cols = (line_x + half) / cell_m * sub
    rows = (half - line_y) / cell_m * sub
    points = np.rint(np.stack([cols, rows], axis=1) * fixed).astype(np.int32)
    canvas = np.full((size, size), 255, dtype=np.uint8)
    cv2.polylines(canvas, [points], isClosed=False, color=0, thickness=1, lineType=cv2.LINE_8, shift=4)
    dist_px = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.asarray(dist_px[::sub, ::sub], dtype=np.float64) * (cell_m / sub)


def _snap(p: FloatArray) -> FloatArray:
    """Post coordinates within floating-point slack of a post are put on it, so that a point given
    at a post needs (and interpolates) that post alone."""
    nearest = np.rint(p)
    return np.where(np.abs(p - nearest) <= _EDGE_TOL_POSTS, nearest, p)


def _unit(a: FloatArray) -> FloatArray:
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _fractal_noise(rng: np.random.Generator, n: int, octaves: int = 5) -> FloatArray:
    """Smooth value noise on an ``n x n`` grid: octaves of coarse random grids, bicubically
    upsampled, each half the amplitude of the last; normalised to [0, 1]."""
    total = np.zeros((n, n), dtype=np.float64)
    for octave in range(octaves):
        coarse = rng.uniform(-1.0, 1.0, size=(2 ** (octave + 2) + 1,) * 2)
        total += 0.5**octave * cv2.resize(coarse, (n, n), interpolation=cv2.INTER_CUBIC)
    return _unit(total)
