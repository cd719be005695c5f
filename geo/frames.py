"""Local metric frames through pyproj.

Planning and geometry run in metres on a transverse Mercator projection centred on
an origin (scale 1 at the origin): x east, y north, a local ENU frame for the few
kilometres a patrol spans. Every conversion goes through pyproj; nothing here is a
hand-written projection formula.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import overload

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class LocalFrame:
    """A metric east/north frame with its origin at ``origin_lat_deg, origin_lon_deg``."""

    origin_lat_deg: float
    origin_lon_deg: float
    crs: CRS = field(init=False, repr=False, compare=False)
    _forward: Transformer = field(init=False, repr=False, compare=False)
    _inverse: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (-90.0 < self.origin_lat_deg < 90.0) or not (-180.0 <= self.origin_lon_deg <= 180.0):
            raise ValueError(
                "expected an origin with -90 < lat < 90 and -180 <= lon <= 180 degrees, "
                f"got ({self.origin_lat_deg}, {self.origin_lon_deg})"
            )
        crs = CRS.from_proj4(
            f"+proj=tmerc +lat_0={self.origin_lat_deg!r} +lon_0={self.origin_lon_deg!r} "
            "+k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        object.__setattr__(self, "crs", crs)
        object.__setattr__(self, "_forward", Transformer.from_crs("EPSG:4326", crs, always_xy=True))
        object.__setattr__(self, "_inverse", Transformer.from_crs(crs, "EPSG:4326", always_xy=True))

    @overload
    def to_local(self, lat_deg: float, lon_deg: float) -> tuple[float, float]: ...
    @overload
    def to_local(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
    def to_local(self, lat_deg, lon_deg):  # type: ignore[no-untyped-def]
        """Geodetic degrees to local metres ``(x_east_m, y_north_m)``; scalars or arrays."""
        x, y = self._forward.transform(lon_deg, lat_deg)
        if np.ndim(x) == 0:
            return float(x), float(y)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    @overload
    def to_geodetic(self, x_m: float, y_m: float) -> tuple[float, float]: ...
    @overload
    def to_geodetic(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
    def to_geodetic(self, x_m, y_m):  # type: ignore[no-untyped-def]
        """Local metres to geodetic ``(lat_deg, lon_deg)``; scalars or arrays."""
        lon, lat = self._inverse.transform(x_m, y_m)
        if np.ndim(lat) == 0:
            return float(lat), float(lon)
        return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
