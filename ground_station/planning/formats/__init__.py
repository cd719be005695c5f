"""Mission files: QGroundControl ``.plan``, QGC WPL 110 ``.waypoints``, GeoJSON and KML.

:func:`write_mission` picks the format from the file suffix; :func:`read_mission` reads a
``.plan`` or a WPL 110 file (recognised by its header whatever the suffix). Every reader
raises :class:`~ground_station.planning.errors.MissionFileError` naming the file and the
line (text formats) or JSON path (``.plan``); every writer writes atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from ground_station.planning.errors import MissionFileError
from ground_station.planning.formats._io import PathLike, read_text
from ground_station.planning.formats.geojson import mission_to_geojson, write_geojson
from ground_station.planning.formats.kml import mission_to_kml, write_kml
from ground_station.planning.formats.qgc_plan import plan_from_dict, plan_to_dict, read_plan, write_plan
from ground_station.planning.formats.wpl import (
    WPL_HEADER,
    mavproxy_fence_from_text,
    mavproxy_fence_to_text,
    mavproxy_rally_from_text,
    mavproxy_rally_to_text,
    read_mavproxy_fence,
    read_mavproxy_rally,
    read_waypoints,
    waypoints_from_text,
    waypoints_to_text,
    write_mavproxy_fence,
    write_mavproxy_rally,
    write_waypoints,
)
from ground_station.planning.mission import Mission

__all__ = [
    "WPL_HEADER",
    "mavproxy_fence_from_text",
    "mavproxy_fence_to_text",
    "mavproxy_rally_from_text",
    "mavproxy_rally_to_text",
    "mission_to_geojson",
    "mission_to_kml",
    "plan_from_dict",
    "plan_to_dict",
    "read_mavproxy_fence",
    "read_mavproxy_rally",
    "read_mission",
    "read_plan",
    "read_waypoints",
    "waypoints_from_text",
    "waypoints_to_text",
    "write_geojson",
    "write_kml",
    "write_mavproxy_fence",
    "write_mavproxy_rally",
    "write_mission",
    "write_plan",
    "write_waypoints",
]

_WRITERS = {
    ".plan": write_plan,
    ".waypoints": write_waypoints,
    ".txt": write_waypoints,
    ".geojson": write_geojson,
    ".json": write_geojson,
    ".kml": write_kml,
}


def write_mission(mission: Mission, path: PathLike) -> None:
    """Write ``mission`` in the format its suffix names (case-insensitive): ``.plan``,
    ``.waypoints``/``.txt`` (WPL 110), ``.geojson``/``.json``, ``.kml``."""
    suffix = Path(path).suffix.lower()
    writer = _WRITERS.get(suffix)
    if writer is None:
        raise MissionFileError(
            f"{os.fspath(path)}: unknown mission file suffix: expected one of {', '.join(_WRITERS)}, "
            f"got {suffix or 'no suffix'!r}"
        )
    writer(mission, path)


def read_mission(path: PathLike) -> Mission:
    """Read a ``.plan`` (by suffix, or any file whose text is a JSON object) or a WPL 110 file
    (by its ``QGC WPL`` header, whatever the suffix)."""
    source = os.fspath(path)
    if Path(path).suffix.lower() == ".plan":
        return read_plan(path)
    text = read_text(path)
    head = text.lstrip()
    if head.startswith("QGC WPL"):
        return waypoints_from_text(text, source=source)
    if head.startswith("{"):
        return read_plan(path)
    first_line = head.splitlines()[0] if head else ""
    raise MissionFileError(
        f"{source}: line 1: unknown mission file: expected a .plan (JSON) or a {WPL_HEADER!r} header, "
        f"got {first_line[:60]!r}"
    )
