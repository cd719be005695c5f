"""KML 2.2 export of a mission (Google Earth, QGIS, most map viewers).

One Document with: the home Placemark; the flight path as LineStrings (``absolute`` altitude
mode with AMSL altitudes for frame 0/3 items, ``relativeToGround`` for frame 10 items; the
path splits where the mode changes, and a lone vertex between two changes shows only as its
waypoint); a "Waypoints" Folder with a Placemark per positional item; a "Geofence" Folder
with the fence polygons (circles drawn as 72-sided polygons); a "Rally points" Folder.
Coordinates are ``lon,lat,alt``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ground_station.planning.formats._io import PathLike, format_number, write_text_atomic
from ground_station.planning.formats._path import AMSL, PathVertex, flight_path
from ground_station.planning.mission import FenceCircle, Mission

__all__ = ["KML_NAMESPACE", "mission_to_kml", "write_kml"]

KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
_CIRCLE_SEGMENTS = 72

# KML colours are aabbggrr.
_STYLES = {
    "flight-path": ("LineStyle", "ff00a5ff", "3"),
    "fence-inclusion": ("LineStyle", "ff00c000", "2"),
    "fence-exclusion": ("LineStyle", "ff0000ff", "2"),
}


def _coordinate(lon: float, lat: float, alt: float | None = None) -> str:
    if alt is None or not math.isfinite(alt):
        return f"{format_number(lon)},{format_number(lat)}"
    return f"{format_number(lon)},{format_number(lat)},{format_number(alt)}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _placemark(parent: ET.Element, name: str, description: str | None = None) -> ET.Element:
    placemark = _sub(parent, "Placemark")
    _sub(placemark, "name", name)
    if description:
        _sub(placemark, "description", description)
    return placemark


def _point(parent: ET.Element, coordinate: str, altitude_mode: str) -> None:
    point = _sub(parent, "Point")
    _sub(point, "altitudeMode", altitude_mode)
    _sub(point, "coordinates", coordinate)


def _ring(parent: ET.Element, coordinates: list[str], style: str) -> None:
    _sub(parent, "styleUrl", f"#{style}")
    polygon = _sub(parent, "Polygon")
    _sub(polygon, "tessellate", "1")
    _sub(polygon, "altitudeMode", "clampToGround")
    ring = _sub(_sub(polygon, "outerBoundaryIs"), "LinearRing")
    _sub(ring, "coordinates", " ".join([*coordinates, coordinates[0]]))


def _runs(path: list[PathVertex]) -> list[list[PathVertex]]:
    """Consecutive vertices with the same altitude reference."""
    runs: list[list[PathVertex]] = []
    for vertex in path:
        if runs and runs[-1][-1].reference == vertex.reference:
            runs[-1].append(vertex)
        else:
            runs.append([vertex])
    return runs


def _altitude_mode(reference: str) -> str:
    return "absolute" if reference == AMSL else "relativeToGround"


def _circle_ring(circle: FenceCircle) -> list[str]:
    from geo.frames import LocalFrame  # pyproj only when a fence circle is drawn

    frame = LocalFrame(origin_lat_deg=circle.lat_deg, origin_lon_deg=circle.lon_deg)
    out = []
    for k in range(_CIRCLE_SEGMENTS):
        angle_rad = 2.0 * math.pi * k / _CIRCLE_SEGMENTS
        lat, lon = frame.to_geodetic(
            circle.radius_m * math.cos(angle_rad), circle.radius_m * math.sin(angle_rad)
        )
        out.append(_coordinate(lon, lat))
    return out


def _line(parent: ET.Element, run: Iterable[PathVertex], altitude_mode: str) -> None:
    line = _sub(parent, "LineString")
    _sub(line, "tessellate", "1")
    _sub(line, "altitudeMode", altitude_mode)
    _sub(line, "coordinates", " ".join(_coordinate(v.lon_deg, v.lat_deg, v.altitude_m) for v in run))


def mission_to_kml(mission: Mission, *, name: str = "Mission") -> str:
    """The KML 2.2 document text of ``mission`` (UTF-8 XML with its declaration)."""
    root = ET.Element("kml", {"xmlns": KML_NAMESPACE})
    document = _sub(root, "Document")
    _sub(document, "name", name)
    for style_id, (kind, colour, width) in _STYLES.items():
        style = _sub(document, "Style")
        style.set("id", style_id)
        line_style = _sub(style, kind)
        _sub(line_style, "color", colour)
        _sub(line_style, "width", width)

    home = mission.home
    _point(
        _placemark(document, "Home", f"{home.altitude_amsl_m!r} m AMSL"),
        _coordinate(home.lon_deg, home.lat_deg, home.altitude_amsl_m),
        "absolute",
    )

    path = flight_path(mission)
    runs = _runs(path)
    if len(path) >= 2:
        placemark = _placemark(document, "Flight path")
        _sub(placemark, "styleUrl", "#flight-path")
        if len(runs) == 1:
            _line(placemark, runs[0], _altitude_mode(runs[0][0].reference))
        else:
            multi = _sub(placemark, "MultiGeometry")
            for run in runs:
                if len(run) >= 2:
                    _line(multi, run, _altitude_mode(run[0].reference))

    waypoints = _sub(document, "Folder")
    _sub(waypoints, "name", "Waypoints")
    for vertex in path:
        item = vertex.item
        description = f"command {int(item.command)}, frame {int(item.frame)}, altitude {item.altitude_m!r} m"
        _point(
            _placemark(waypoints, f"{vertex.seq}", description),
            _coordinate(vertex.lon_deg, vertex.lat_deg, vertex.altitude_m),
            _altitude_mode(vertex.reference),
        )

    fence = _sub(document, "Folder")
    _sub(fence, "name", "Geofence")
    for index, polygon in enumerate(mission.fence_polygons, start=1):
        kind = "inclusion" if polygon.inclusion else "exclusion"
        placemark = _placemark(fence, f"Fence polygon {index} ({kind})")
        _ring(placemark, [_coordinate(lon, lat) for lat, lon in polygon.vertices_deg], f"fence-{kind}")
    for index, circle in enumerate(mission.fence_circles, start=1):
        kind = "inclusion" if circle.inclusion else "exclusion"
        placemark = _placemark(fence, f"Fence circle {index} ({kind})", f"radius {circle.radius_m!r} m")
        _ring(placemark, _circle_ring(circle), f"fence-{kind}")

    rally = _sub(document, "Folder")
    _sub(rally, "name", "Rally points")
    for index, point in enumerate(mission.rally_points, start=1):
        _point(
            _placemark(rally, f"Rally {index}", f"{point.altitude_m!r} m above home"),
            _coordinate(point.lon_deg, point.lat_deg, home.altitude_amsl_m + point.altitude_m),
            "absolute",
        )

    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_kml(mission: Mission, path: PathLike, *, name: str = "Mission") -> None:
    """Write ``mission`` as a KML file, atomically."""
    write_text_atomic(path, mission_to_kml(mission, name=name))
