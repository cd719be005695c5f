"""QGC WPL 110 waypoint files, and MAVProxy's fence and rally files.

A WPL 110 file (``.waypoints``/``.txt``, written by Mission Planner, MAVProxy, QGC) is the
header line ``QGC WPL 110`` then one line per item, 12 fields separated by tabs::

    seq  current  frame  command  param1  param2  param3  param4  x(lat)  y(lon)  z  autocontinue

Line ``seq 0`` is home, with ``z`` its altitude above mean sea level (ArduPilot's convention);
the mission items follow from ``seq 1``. Reading also accepts spaces, CRLF line ends, blank
lines and ``#`` comment lines (as pymavlink does); a NaN param is written ``NaN``.

MAVProxy's fence file (``fence save``) is one ``lat lon`` pair per line: the first is the
return (breach) point, the rest the inclusion polygon, closed by repeating its first vertex.
MAVProxy's rally file (``rally save``) has one ``RALLY lat lon alt break_alt land_dir flags``
line per point, ``alt`` and ``break_alt`` in metres above home, ``land_dir`` in degrees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from ground_station.planning.errors import MissionFileError
from ground_station.planning.formats._io import PathLike, format_number, read_text, write_text_atomic
from ground_station.planning.mission import (
    FencePolygon,
    HomePosition,
    MavCmd,
    MavFrame,
    Mission,
    MissionItem,
    RallyPoint,
)

__all__ = [
    "WPL_HEADER",
    "mavproxy_fence_from_text",
    "mavproxy_fence_to_text",
    "mavproxy_rally_from_text",
    "mavproxy_rally_to_text",
    "read_mavproxy_fence",
    "read_mavproxy_rally",
    "read_waypoints",
    "waypoints_from_text",
    "waypoints_to_text",
    "write_mavproxy_fence",
    "write_mavproxy_rally",
    "write_waypoints",
]

WPL_HEADER = "QGC WPL 110"
_WPL_FIELDS = "seq, current, frame, command, param1..param4, lat, lon, alt, autocontinue"
_WPL_FIELD_NAMES = (
    "seq", "current", "frame", "command", "param1", "param2", "param3", "param4",
    "lat", "lon", "alt", "autocontinue",
)  # fmt: skip


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, stripped text)`` of each line that is neither blank nor a comment."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _where(source: str, line_number: int) -> str:
    return f"{source}: line {line_number}"


def _lat_lon_error(source: str, line_number: int, lat: float, lon: float) -> MissionFileError:
    where = _where(source, line_number)
    return MissionFileError(f"{where}: expected lat in -90..90 and lon in -180..180, got {lat} {lon}")


def _float(field: str, source: str, line_number: int, name: str) -> float:
    try:
        value = float(field)
    except ValueError:
        raise MissionFileError(
            f"{_where(source, line_number)}: {name}: expected a number, got {field!r}"
        ) from None
    if math.isinf(value):
        raise MissionFileError(
            f"{_where(source, line_number)}: {name}: expected a finite number, got {field!r}"
        )
    return value


def _int(field: str, source: str, line_number: int, name: str, *, low: int, high: int) -> int:
    try:
        value = int(field)
    except ValueError:
        raise MissionFileError(
            f"{_where(source, line_number)}: {name}: expected an integer in {low}..{high}, got {field!r}"
        ) from None
    if not low <= value <= high:
        raise MissionFileError(
            f"{_where(source, line_number)}: {name}: expected an integer in {low}..{high}, got {field!r}"
        )
    return value


# --------------------------------------------------------------------------- WPL 110


def _row(
    seq: int, current: int, frame: int, command: int, params: Iterable[float], autocontinue: bool
) -> str:
    numbers = "\t".join(format_number(float(p)) for p in params)
    return f"{seq}\t{current}\t{int(frame)}\t{int(command)}\t{numbers}\t{int(bool(autocontinue))}"


def waypoints_to_text(mission: Mission) -> str:
    """The WPL 110 text of ``mission``: home as line 0 (frame 0, AMSL), then the items."""
    home = mission.home
    home_params = (0.0, 0.0, 0.0, 0.0, home.lat_deg, home.lon_deg, home.altitude_amsl_m)
    rows = [WPL_HEADER, _row(0, 1, MavFrame.GLOBAL, MavCmd.NAV_WAYPOINT, home_params, True)]
    for seq, item in enumerate(mission.items, start=1):
        rows.append(_row(seq, 0, item.frame, item.command, item.params, item.autocontinue))
    return "\n".join(rows) + "\n"


def write_waypoints(mission: Mission, path: PathLike) -> None:
    """Write ``mission`` as a QGC WPL 110 file, atomically."""
    write_text_atomic(path, waypoints_to_text(mission))


def waypoints_from_text(text: str, *, source: str = "<waypoints>") -> Mission:
    """The :class:`Mission` in WPL 110 text; ``source`` names it in errors.

    The mission has ArduPilot's defaults (``firmware="ardupilot"``) since the format names
    no firmware, vehicle or speeds.
    """
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first != WPL_HEADER:
        if first.startswith("QGC WPL "):
            raise MissionFileError(
                f"{_where(source, 1)}: unsupported version: expected header {WPL_HEADER!r}, got {first!r}"
            )
        raise MissionFileError(
            f"{_where(source, 1)}: bad header: expected {WPL_HEADER!r}, got {first[:60]!r}"
        )

    home: HomePosition | None = None
    items: list[MissionItem] = []
    for line_number, line in _content_lines("\n".join(lines[1:])):
        line_number += 1  # the header was line 1
        fields = line.split()
        if len(fields) != len(_WPL_FIELD_NAMES):
            raise MissionFileError(
                f"{_where(source, line_number)}: expected {len(_WPL_FIELD_NAMES)} fields ({_WPL_FIELDS}), "
                f"got {len(fields)}: {line[:80]!r}"
            )
        expected_seq = 0 if home is None else len(items) + 1
        seq = _int(fields[0], source, line_number, "seq", low=0, high=65535)
        if seq != expected_seq:
            raise MissionFileError(
                f"{_where(source, line_number)}: seq: expected {expected_seq} "
                f"(items numbered in order from 0), got {seq}"
            )
        _int(fields[1], source, line_number, "current", low=0, high=1)
        frame = _int(fields[2], source, line_number, "frame", low=0, high=255)
        command = _int(fields[3], source, line_number, "command", low=0, high=65535)
        p = [_float(fields[i], source, line_number, _WPL_FIELD_NAMES[i]) for i in range(4, 11)]
        autocontinue = _int(fields[11], source, line_number, "autocontinue", low=0, high=1) == 1
        if home is None:
            home = HomePosition(lat_deg=p[4], lon_deg=p[5], altitude_amsl_m=p[6])
            continue
        items.append(
            MissionItem(
                command=command,
                frame=frame,
                param1=p[0],
                param2=p[1],
                param3=p[2],
                param4=p[3],
                lat_deg=p[4],
                lon_deg=p[5],
                altitude_m=p[6],
                autocontinue=autocontinue,
            )
        )
    if home is None:
        raise MissionFileError(
            f"{_where(source, len(lines) + 1)}: expected the home line (seq 0) after the header, "
            "got end of file"
        )
    return Mission(home=home, items=tuple(items))


def read_waypoints(path: PathLike) -> Mission:
    """Read a QGC WPL 110 file (home from line 0)."""
    return waypoints_from_text(read_text(path), source=str(path))


# --------------------------------------------------------------------------- MAVProxy fence


def mavproxy_fence_to_text(return_point_deg: tuple[float, float], polygon: FencePolygon) -> str:
    """MAVProxy fence text: the return point, the vertices, the first vertex again."""
    if not polygon.inclusion:
        raise MissionFileError("a MAVProxy fence file holds one inclusion polygon; got an exclusion polygon")
    if len(polygon.vertices_deg) < 3:
        raise MissionFileError(
            f"a MAVProxy fence polygon needs at least 3 vertices; got {len(polygon.vertices_deg)}"
        )
    points = [return_point_deg, *polygon.vertices_deg, polygon.vertices_deg[0]]
    return "".join(f"{format_number(lat)}\t{format_number(lon)}\n" for lat, lon in points)


def mavproxy_fence_from_text(
    text: str, *, source: str = "<fence>"
) -> tuple[tuple[float, float], FencePolygon]:
    """``(return point (lat, lon), inclusion polygon)`` from MAVProxy fence text.

    The closing vertex (a repeat of the first polygon vertex) is dropped.
    """
    points: list[tuple[float, float]] = []
    last_line = 0
    for line_number, line in _content_lines(text):
        last_line = line_number
        fields = line.split()
        if len(fields) != 2:
            raise MissionFileError(
                f"{_where(source, line_number)}: expected 2 fields (lat lon), "
                f"got {len(fields)}: {line[:80]!r}"
            )
        lat = _float(fields[0], source, line_number, "lat")
        lon = _float(fields[1], source, line_number, "lon")
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise _lat_lon_error(source, line_number, lat, lon)
        points.append((lat, lon))
    vertices = points[1:]
    if len(vertices) > 1 and vertices[-1] == vertices[0]:
        vertices = vertices[:-1]
    if len(vertices) < 3:
        raise MissionFileError(
            f"{_where(source, last_line)}: expected a return point and at least 3 polygon vertices, "
            f"got {len(points)} point(s)"
        )
    return points[0], FencePolygon(inclusion=True, vertices_deg=tuple(vertices))


def read_mavproxy_fence(path: PathLike) -> tuple[tuple[float, float], FencePolygon]:
    """Read a MAVProxy fence file: ``(return point (lat, lon), inclusion polygon)``."""
    return mavproxy_fence_from_text(read_text(path), source=str(path))


def write_mavproxy_fence(
    return_point_deg: tuple[float, float], polygon: FencePolygon, path: PathLike
) -> None:
    """Write a MAVProxy fence file, atomically."""
    write_text_atomic(path, mavproxy_fence_to_text(return_point_deg, polygon))


# --------------------------------------------------------------------------- MAVProxy rally


def mavproxy_rally_to_text(
    rally_points: Iterable[RallyPoint],
    *,
    break_altitude_m: float = 40.0,
    land_heading_deg: float = 0.0,
    flags: int = 0,
) -> str:
    """MAVProxy rally text; every point gets the same break altitude, landing heading and flags
    (MAVProxy's defaults), which a :class:`RallyPoint` does not carry."""
    tail = f"{format_number(break_altitude_m)}\t{format_number(land_heading_deg)}\t{int(flags)}"
    lines = []
    for point in rally_points:
        position = "\t".join(format_number(v) for v in (point.lat_deg, point.lon_deg, point.altitude_m))
        lines.append(f"RALLY {position}\t{tail}\n")
    return "".join(lines)


def mavproxy_rally_from_text(text: str, *, source: str = "<rally>") -> tuple[RallyPoint, ...]:
    """The rally points in MAVProxy rally text (break altitude, heading and flags are
    checked, then dropped: a :class:`RallyPoint` does not carry them)."""
    points: list[RallyPoint] = []
    for line_number, line in _content_lines(text):
        fields = line.split()
        if len(fields) != 7:
            raise MissionFileError(
                f"{_where(source, line_number)}: expected 7 fields "
                f"(RALLY lat lon alt break_alt land_dir flags), got {len(fields)}: {line[:80]!r}"
            )
        if fields[0].upper() != "RALLY":
            raise MissionFileError(f"{_where(source, line_number)}: expected 'RALLY', got {fields[0]!r}")
        lat = _float(fields[1], source, line_number, "lat")
        lon = _float(fields[2], source, line_number, "lon")
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise _lat_lon_error(source, line_number, lat, lon)
        altitude_m = _float(fields[3], source, line_number, "alt")
        _float(fields[4], source, line_number, "break_alt")
        _float(fields[5], source, line_number, "land_dir")
        _int(fields[6], source, line_number, "flags", low=0, high=255)
        points.append(RallyPoint(lat_deg=lat, lon_deg=lon, altitude_m=altitude_m))
    return tuple(points)


def read_mavproxy_rally(path: PathLike) -> tuple[RallyPoint, ...]:
    """Read a MAVProxy rally file."""
    return mavproxy_rally_from_text(read_text(path), source=str(path))


def write_mavproxy_rally(
    rally_points: Iterable[RallyPoint],
    path: PathLike,
    *,
    break_altitude_m: float = 40.0,
    land_heading_deg: float = 0.0,
    flags: int = 0,
) -> None:
    """Write a MAVProxy rally file, atomically."""
    text = mavproxy_rally_to_text(
        rally_points, break_altitude_m=break_altitude_m, land_heading_deg=land_heading_deg, flags=flags
    )
    write_text_atomic(path, text)
