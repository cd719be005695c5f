"""GeoJSON (RFC 7946) export of a mission for maps and GIS tools.

A FeatureCollection; each feature's ``properties.kind`` says what it is:

* ``home``: Point ``[lon, lat, alt AMSL]``;
* ``flight_path``: LineString through the positional items in order (omitted with fewer
  than two). Altitudes are AMSL where computable (frame 0 as is, frame 3 home + z); a
  frame-10 vertex carries its z above terrain as given. ``altitude_reference`` is
  ``"amsl"``, ``"terrain"`` or ``"mixed"``, and ``vertex_altitude_references`` lists each;
* ``waypoint``: Point per positional item, with ``seq`` (home = 0, as uploaded to
  ArduPilot), ``command``, ``frame``, ``altitude_m`` (the item's z) and
  ``altitude_reference`` (``"amsl"``, ``"home"`` or ``"terrain"``: what z is above), and
  ``altitude_amsl_m`` (null when above terrain);
* ``fence_polygon``: Polygon (exterior ring counter-clockwise, closed) with ``inclusion``;
* ``fence_circle``: Point at the centre with ``radius_m`` and ``inclusion``;
* ``rally_point``: Point ``[lon, lat, alt AMSL]`` with ``altitude_m`` above home.

See :mod:`ground_station.planning.formats._path` for the ArduPilot "0 means here" rules.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ground_station.planning.errors import MissionFileError
from ground_station.planning.formats._io import PathLike, write_text_atomic
from ground_station.planning.formats._path import AMSL, HOME, flight_path, z_reference
from ground_station.planning.mission import Mission

__all__ = ["mission_to_geojson", "write_geojson"]


def _clean(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


def _position(lon: float, lat: float, alt: float) -> list[float]:
    clean_alt = _clean(alt)
    return [lon, lat] if clean_alt is None else [lon, lat, clean_alt]


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _counter_clockwise(ring: list[list[float]]) -> list[list[float]]:
    twice_area = sum(
        ring[i][0] * ring[(i + 1) % len(ring)][1] - ring[(i + 1) % len(ring)][0] * ring[i][1]
        for i in range(len(ring))
    )
    return ring if twice_area >= 0.0 else ring[::-1]


def mission_to_geojson(
    mission: Mission, *, extra_features: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``mission``; ``extra_features`` are appended as given."""
    home = mission.home
    features: list[dict[str, Any]] = [
        _feature(
            {"type": "Point", "coordinates": _position(home.lon_deg, home.lat_deg, home.altitude_amsl_m)},
            {"kind": "home", "altitude_amsl_m": _clean(home.altitude_amsl_m)},
        )
    ]
    path = flight_path(mission)
    if len(path) >= 2:
        references = [v.reference for v in path]
        features.append(
            _feature(
                {
                    "type": "LineString",
                    "coordinates": [_position(v.lon_deg, v.lat_deg, v.altitude_m) for v in path],
                },
                {
                    "kind": "flight_path",
                    "altitude_reference": references[0] if len(set(references)) == 1 else "mixed",
                    "vertex_altitude_references": references,
                    "seqs": [v.seq for v in path],
                },
            )
        )
    for vertex in path:
        item = vertex.item
        features.append(
            _feature(
                {
                    "type": "Point",
                    "coordinates": _position(vertex.lon_deg, vertex.lat_deg, vertex.altitude_m),
                },
                {
                    "kind": "waypoint",
                    "seq": vertex.seq,
                    "command": int(item.command),
                    "frame": int(item.frame),
                    "altitude_m": _clean(item.altitude_m),
                    "altitude_reference": z_reference(item.frame),
                    "altitude_amsl_m": _clean(vertex.altitude_m) if vertex.reference == AMSL else None,
                    "position_from_previous": vertex.position_from_previous,
                    "altitude_from_previous": vertex.altitude_from_previous,
                },
            )
        )
    for polygon in mission.fence_polygons:
        ring = [[lon, lat] for lat, lon in polygon.vertices_deg]
        ring = _counter_clockwise(ring)
        features.append(
            _feature(
                {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                {"kind": "fence_polygon", "inclusion": polygon.inclusion},
            )
        )
    for circle in mission.fence_circles:
        features.append(
            _feature(
                {"type": "Point", "coordinates": [circle.lon_deg, circle.lat_deg]},
                {"kind": "fence_circle", "inclusion": circle.inclusion, "radius_m": circle.radius_m},
            )
        )
    for rally in mission.rally_points:
        features.append(
            _feature(
                {
                    "type": "Point",
                    "coordinates": _position(
                        rally.lon_deg, rally.lat_deg, home.altitude_amsl_m + rally.altitude_m
                    ),
                },
                {"kind": "rally_point", "altitude_m": _clean(rally.altitude_m), "altitude_reference": HOME},
            )
        )
    features.extend(dict(f) for f in extra_features)
    return {"type": "FeatureCollection", "features": features}


def write_geojson(
    mission: Mission, path: PathLike, *, extra_features: Iterable[Mapping[str, Any]] = ()
) -> None:
    """Write ``mission`` as a GeoJSON file, atomically."""
    document = mission_to_geojson(mission, extra_features=extra_features)
    try:
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    except ValueError as exc:  # NaN or infinity in a coordinate or an extra feature
        raise MissionFileError(f"cannot write {os.fspath(path)}: {exc}; GeoJSON has no NaN") from exc
    write_text_atomic(path, text)
