"""Errors of the geo package: one root, each subclass also a builtin."""

from __future__ import annotations


class GeoError(Exception):
    """Root of every error raised by :mod:`geo`."""


class OutsideDemError(GeoError, ValueError):
    """A point or leg lies outside the elevation model's extent."""


class DemVoidError(GeoError, ValueError):
    """A point or leg touches a void (no-data) cell of the elevation model."""


class DemReadError(GeoError, OSError):
    """An elevation file could not be read or is not what its name says."""


class CameraModelError(GeoError, ValueError):
    """A camera description is impossible (non-positive sizes, unknown preset, ...)."""


class TerrainInputError(GeoError, ValueError):
    """A terrain description or query argument is impossible (bad shapes, sizes, directions, ...)."""


class NoIntersectionError(GeoError, ValueError):
    """A ray leaves the elevation model, or its range, without meeting the terrain."""


class TerrainDataMissingError(GeoError, LookupError):
    """A terrain-database query where the grid posts around the point have not arrived yet."""
