"""QGroundControl ``.plan`` files (JSON): read and write a :class:`Mission`.

The layout (``fileType`` "Plan", ``version`` 1) holds three sections:

* ``mission`` (version 2): ``items``, ``plannedHomePosition`` ``[lat, lon, alt AMSL]``,
  ``firmwareType`` (MAV_AUTOPILOT: 3 ArduPilot, 12 PX4), ``vehicleType`` (MAV_TYPE),
  ``cruiseSpeed``, ``hoverSpeed`` and ``globalPlanAltitudeMode``;
* ``geoFence`` (version 2): ``polygons`` ``{inclusion, polygon [[lat, lon], ...], version 1}``
  and ``circles`` ``{inclusion, circle {center [lat, lon], radius}, version 1}``;
* ``rallyPoints`` (version 2): ``points`` ``[[lat, lon, alt above home], ...]``.

A mission item is a ``SimpleItem`` (``command``, ``frame``, ``params`` [7] with NaN as
null, ``autoContinue``, ``doJumpId``) or a ``ComplexItem``. QGC's ``AltitudeMode`` values
are 1 relative to home (frame 3), 2 absolute (frame 0), 3 calculated above terrain (frame 0,
AMSL computed by QGC; never written here) and 4 terrain frame (frame 10); 0 ("mixed") is
only used for ``globalPlanAltitudeMode``. Reading takes ``frame`` and ``params`` as the
truth, as QGC does when it uploads, and ignores ``AltitudeMode``/``Altitude``. The
``vehicleType`` code is kept in ``Mission.extra["qgc_vehicle_type"]`` so that a hexarotor
(13) is written back as 13 rather than as the quadrotor (2) that stands for "multirotor".

Complex items are expanded into the items QGC would upload:

* ``survey`` (versions 4, 5) and ``CorridorScan`` (versions 1, 2) carry the generated items
  in ``TransectStyleComplexItem.Items``; those are read as simple items.
* ``StructureScan`` (version 3) stores only its parameters; the items are generated here
  the way QGC's ``StructureScanComplexItem::appendMissionItems`` does: the structure
  polygon offset outwards by ``CameraCalc.DistanceToSurface``, an entrance waypoint at
  ``EntranceAltitude``, ROI-next-offset, one ring per layer (every vertex and back to the
  first, camera triggering by distance on the ring), ROI none, exit waypoint. The offset
  is computed on a local transverse Mercator plane (:mod:`geo.frames`) rather than QGC's
  tangent plane; for structure-sized polygons the vertices agree to well under a metre.

Other complex items (``fwLandingPattern``, ``vtolLandingPattern``) store no items and are
refused with :class:`MissionFileError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from ground_station.planning.errors import MissionFileError
from ground_station.planning.formats._io import PathLike, read_text, write_text_atomic
from ground_station.planning.formats._json import JsonReader
from ground_station.planning.mission import (
    NAV_POSITION_COMMANDS,
    FenceCircle,
    FencePolygon,
    HomePosition,
    MavCmd,
    MavFrame,
    Mission,
    MissionItem,
    RallyPoint,
)

__all__ = [
    "FIRMWARE_TYPE_ARDUPILOT",
    "FIRMWARE_TYPE_PX4",
    "plan_from_dict",
    "plan_to_dict",
    "read_plan",
    "write_plan",
]

FIRMWARE_TYPE_ARDUPILOT = 3  # MAV_AUTOPILOT_ARDUPILOTMEGA
FIRMWARE_TYPE_PX4 = 12  # MAV_AUTOPILOT_PX4

_FIRMWARE_BY_TYPE = {FIRMWARE_TYPE_ARDUPILOT: "ardupilot", FIRMWARE_TYPE_PX4: "px4"}
_TYPE_BY_FIRMWARE = {name: code for code, name in _FIRMWARE_BY_TYPE.items()}

# MAV_TYPE values, grouped into the vehicle classes a Mission names.
_VEHICLE_CLASS_CODES: dict[str, tuple[int, ...]] = {
    "multirotor": (2, 3, 13, 14, 15, 29, 35, 43),  # quad first: the code written
    "fixed_wing": (1,),
    "vtol": (20, 19, 21, 22, 23, 24, 25, 47),
    "helicopter": (4,),
    "rover": (10,),
    "boat": (11,),
    "submarine": (12,),
    "generic": (0,),
}
_VEHICLE_CLASS_BY_CODE = {code: name for name, codes in _VEHICLE_CLASS_CODES.items() for code in codes}

# QGroundControlQmlGlobal::AltMode.
ALT_MODE_MIXED = 0
ALT_MODE_RELATIVE = 1
ALT_MODE_ABSOLUTE = 2
ALT_MODE_CALC_ABOVE_TERRAIN = 3
ALT_MODE_TERRAIN_FRAME = 4
_ALT_MODE_BY_FRAME: dict[int, int] = {
    MavFrame.GLOBAL_RELATIVE_ALT: ALT_MODE_RELATIVE,
    MavFrame.GLOBAL: ALT_MODE_ABSOLUTE,
    MavFrame.GLOBAL_TERRAIN_ALT: ALT_MODE_TERRAIN_FRAME,
}

# Commands QGC edits as a coordinate (it saves AltitudeMode/Altitude for them).
_QGC_COORDINATE_COMMANDS = NAV_POSITION_COMMANDS | {
    MavCmd.DO_SET_HOME,
    MavCmd.DO_SET_ROI_LOCATION,
    82,  # NAV_SPLINE_WAYPOINT
    84,  # NAV_VTOL_TAKEOFF
    85,  # NAV_VTOL_LAND
    189,  # DO_LAND_START
    201,  # DO_SET_ROI
}

# Commands the structure scan emits that the planner's MavCmd does not list.
MAV_CMD_DO_SET_ROI_WPNEXT_OFFSET = 196
MAV_CMD_DO_SET_ROI_NONE = 197

_PLAN_VERSION = 1
_MISSION_VERSION = 2
_GEOFENCE_VERSION = 2
_RALLY_VERSION = 2
_FENCE_SHAPE_VERSION = 1
_SURVEY_VERSIONS = (4, 5)
_CORRIDOR_VERSIONS = (1, 2)
_STRUCTURE_SCAN_VERSIONS = (3,)
_COMPLEX_TYPES = "'survey', 'CorridorScan' or 'StructureScan'"


# --------------------------------------------------------------------------- writing


def _num(value: float) -> int | float | None:
    """JSON for a param: null for NaN, an int when integral (as QGC writes), else the float."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise MissionFileError(f"cannot write a non-finite number ({value!r}) to a .plan file")
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _finite(value: float, what: str) -> int | float:
    out = _num(float(value))
    if out is None:
        raise MissionFileError(f"cannot write {what} = NaN to a .plan file; expected a finite number")
    return out


def _item_to_dict(item: MissionItem, do_jump_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "autoContinue": bool(item.autocontinue),
        "command": int(item.command),
        "doJumpId": do_jump_id,
        "frame": int(item.frame),
        "params": [_num(float(p)) for p in item.params],
        "type": "SimpleItem",
    }
    mode = _ALT_MODE_BY_FRAME.get(item.frame)
    if mode is not None and item.command in _QGC_COORDINATE_COMMANDS:
        out["AMSLAltAboveTerrain"] = None
        out["Altitude"] = _num(float(item.altitude_m))
        out["AltitudeMode"] = mode
    return out


def _vehicle_type_code(mission: Mission) -> int:
    codes = _VEHICLE_CLASS_CODES.get(mission.vehicle_type)
    if codes is None:
        raise MissionFileError(
            f"cannot write vehicle_type {mission.vehicle_type!r} to a .plan file; "
            f"expected one of {', '.join(sorted(_VEHICLE_CLASS_CODES))}"
        )
    original = mission.extra.get("qgc_vehicle_type")
    if isinstance(original, int) and original in codes:
        return original
    return codes[0]


def plan_to_dict(mission: Mission) -> dict[str, Any]:
    """The ``.plan`` JSON object for ``mission`` (every item a ``SimpleItem``)."""
    firmware_type = _TYPE_BY_FIRMWARE.get(mission.firmware)
    if firmware_type is None:
        raise MissionFileError(
            f"cannot write firmware {mission.firmware!r} to a .plan file; expected 'ardupilot' or 'px4'"
        )
    items = [_item_to_dict(item, seq) for seq, item in enumerate(mission.items, start=1)]
    modes = {item["AltitudeMode"] for item in items if "AltitudeMode" in item}
    global_mode = modes.pop() if len(modes) == 1 else (ALT_MODE_MIXED if modes else ALT_MODE_RELATIVE)
    home = mission.home
    return {
        "fileType": "Plan",
        "geoFence": {
            "circles": [
                {
                    "circle": {
                        "center": [
                            _finite(c.lat_deg, "fence circle lat"),
                            _finite(c.lon_deg, "fence circle lon"),
                        ],
                        "radius": _finite(c.radius_m, "fence circle radius"),
                    },
                    "inclusion": bool(c.inclusion),
                    "version": _FENCE_SHAPE_VERSION,
                }
                for c in mission.fence_circles
            ],
            "polygons": [
                {
                    "inclusion": bool(p.inclusion),
                    "polygon": [
                        [_finite(lat, "fence vertex lat"), _finite(lon, "fence vertex lon")]
                        for lat, lon in p.vertices_deg
                    ],
                    "version": _FENCE_SHAPE_VERSION,
                }
                for p in mission.fence_polygons
            ],
            "version": _GEOFENCE_VERSION,
        },
        "groundStation": "QGroundControl",
        "mission": {
            "cruiseSpeed": _finite(mission.cruise_speed_m_s, "cruise_speed_m_s"),
            "firmwareType": firmware_type,
            "globalPlanAltitudeMode": global_mode,
            "hoverSpeed": _finite(mission.hover_speed_m_s, "hover_speed_m_s"),
            "items": items,
            "plannedHomePosition": [
                _finite(home.lat_deg, "home lat_deg"),
                _finite(home.lon_deg, "home lon_deg"),
                _finite(home.altitude_amsl_m, "home altitude_amsl_m"),
            ],
            "vehicleType": _vehicle_type_code(mission),
            "version": _MISSION_VERSION,
        },
        "rallyPoints": {
            "points": [
                [
                    _finite(r.lat_deg, "rally lat_deg"),
                    _finite(r.lon_deg, "rally lon_deg"),
                    _finite(r.altitude_m, "rally altitude_m"),
                ]
                for r in mission.rally_points
            ],
            "version": _RALLY_VERSION,
        },
        "version": _PLAN_VERSION,
    }


def write_plan(mission: Mission, path: PathLike) -> None:
    """Write ``mission`` as a QGroundControl ``.plan`` file, atomically."""
    text = json.dumps(plan_to_dict(mission), indent=4, sort_keys=True, allow_nan=False) + "\n"
    write_text_atomic(path, text)


# --------------------------------------------------------------------------- reading


def read_plan(path: PathLike) -> Mission:
    """Read a QGroundControl ``.plan`` file; complex items come back expanded."""
    source = str(path)
    text = read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MissionFileError(
            f"{source}: line {exc.lineno} column {exc.colno}: expected JSON, got invalid JSON ({exc.msg})"
        ) from exc
    return plan_from_dict(document, source=source)


def plan_from_dict(document: object, *, source: str = "<plan>") -> Mission:
    """The :class:`Mission` in a parsed ``.plan`` object; ``source`` names it in errors."""
    r = JsonReader(source)
    root = r.obj(document, "$")
    file_type = r.key(root, "fileType", "$")
    if file_type != "Plan":
        raise r.error("$.fileType", '"Plan"', file_type)
    _check_version(r, root, "$", (_PLAN_VERSION,))

    mission_obj = r.obj(r.key(root, "mission", "$"), "$.mission")
    _check_version(r, mission_obj, "$.mission", (_MISSION_VERSION,))
    home = _read_home(r, r.key(mission_obj, "plannedHomePosition", "$.mission"))
    firmware_path = "$.mission.firmwareType"
    firmware_code = r.integer(r.key(mission_obj, "firmwareType", "$.mission"), firmware_path, low=0, high=255)
    if firmware_code not in _FIRMWARE_BY_TYPE:
        raise r.error(firmware_path, "3 (ArduPilot) or 12 (PX4)", firmware_code)
    extra: dict[str, object] = {}
    vehicle_type = "multirotor"
    if "vehicleType" in mission_obj:
        code = r.integer(mission_obj["vehicleType"], "$.mission.vehicleType", low=0, high=255)
        vehicle_type = _VEHICLE_CLASS_BY_CODE.get(code, "generic")
        extra["qgc_vehicle_type"] = code
    defaults = {f.name: f.default for f in dataclasses.fields(Mission)}
    speeds: dict[str, float] = {}
    for key, field_name in (("cruiseSpeed", "cruise_speed_m_s"), ("hoverSpeed", "hover_speed_m_s")):
        if key in mission_obj:
            speeds[field_name] = r.number(mission_obj[key], f"$.mission.{key}")
        else:
            speeds[field_name] = float(defaults[field_name])  # type: ignore[arg-type]

    items: list[MissionItem] = []
    items_path = "$.mission.items"
    for index, raw in enumerate(r.array(r.key(mission_obj, "items", "$.mission"), items_path)):
        items.extend(_read_visual_item(r, raw, f"{items_path}[{index}]"))

    fence_obj = r.obj(r.key(root, "geoFence", "$"), "$.geoFence")
    _check_version(r, fence_obj, "$.geoFence", (_GEOFENCE_VERSION,))
    polygons = tuple(
        _read_fence_polygon(r, raw, f"$.geoFence.polygons[{i}]")
        for i, raw in enumerate(r.array(fence_obj.get("polygons", []), "$.geoFence.polygons"))
    )
    circles = tuple(
        _read_fence_circle(r, raw, f"$.geoFence.circles[{i}]")
        for i, raw in enumerate(r.array(fence_obj.get("circles", []), "$.geoFence.circles"))
    )

    rally_obj = r.obj(r.key(root, "rallyPoints", "$"), "$.rallyPoints")
    _check_version(r, rally_obj, "$.rallyPoints", (_RALLY_VERSION,))
    rally = tuple(
        _read_rally_point(r, raw, f"$.rallyPoints.points[{i}]")
        for i, raw in enumerate(r.array(rally_obj.get("points", []), "$.rallyPoints.points"))
    )

    return Mission(
        home=home,
        items=tuple(items),
        fence_polygons=polygons,
        fence_circles=circles,
        rally_points=rally,
        firmware=_FIRMWARE_BY_TYPE[firmware_code],
        vehicle_type=vehicle_type,
        cruise_speed_m_s=speeds["cruise_speed_m_s"],
        hover_speed_m_s=speeds["hover_speed_m_s"],
        extra=extra,
    )


def _check_version(r: JsonReader, obj: dict[str, Any], path: str, supported: tuple[int, ...]) -> int:
    version_path = f"{path}.version"
    raw = r.key(obj, "version", path)
    expected = " or ".join(str(v) for v in supported)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw not in supported:
        raise MissionFileError(
            f"{r.source}: {version_path}: unsupported version: expected {expected}, got {raw!r}"
        )
    return int(raw)


def _read_home(r: JsonReader, raw: object) -> HomePosition:
    path = "$.mission.plannedHomePosition"
    values = r.array(raw, path, length=3)
    lat, lon, alt = (r.number(v, f"{path}[{i}]") for i, v in enumerate(values))
    _check_lat_lon(r, lat, lon, path)
    return HomePosition(lat_deg=lat, lon_deg=lon, altitude_amsl_m=alt)


def _check_lat_lon(r: JsonReader, lat: float, lon: float, path: str) -> None:
    if not -90.0 <= lat <= 90.0:
        raise r.error(f"{path}[0]", "a latitude in -90..90 degrees", lat)
    if not -180.0 <= lon <= 180.0:
        raise r.error(f"{path}[1]", "a longitude in -180..180 degrees", lon)


def _read_lat_lon(r: JsonReader, raw: object, path: str) -> tuple[float, float]:
    values = r.array(raw, path, min_length=2)
    if len(values) > 3:
        raise r.error(path, "[lat, lon] or [lat, lon, alt]", values)
    lat = r.number(values[0], f"{path}[0]")
    lon = r.number(values[1], f"{path}[1]")
    _check_lat_lon(r, lat, lon, path)
    return lat, lon


def _read_visual_item(r: JsonReader, raw: object, path: str) -> list[MissionItem]:
    obj = r.obj(raw, path)
    kind = r.key(obj, "type", path)
    if kind == "SimpleItem":
        return [_read_simple_item(r, obj, path)]
    if kind == "ComplexItem":
        return _read_complex_item(r, obj, path)
    raise r.error(f"{path}.type", '"SimpleItem" or "ComplexItem"', kind)


def _read_simple_item(r: JsonReader, raw: object, path: str) -> MissionItem:
    obj = r.obj(raw, path)
    kind = r.key(obj, "type", path)
    if kind != "SimpleItem":
        raise r.error(f"{path}.type", '"SimpleItem"', kind)
    command = r.integer(r.key(obj, "command", path), f"{path}.command", low=0, high=65535)
    frame = r.integer(r.key(obj, "frame", path), f"{path}.frame", low=0, high=255)
    params_path = f"{path}.params"
    raw_params = r.array(r.key(obj, "params", path), params_path, length=7)
    p = [r.number(v, f"{params_path}[{i}]", nullable=True) for i, v in enumerate(raw_params)]
    autocontinue = r.boolean(r.key(obj, "autoContinue", path), f"{path}.autoContinue")
    return MissionItem(
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


def _read_complex_item(r: JsonReader, obj: dict[str, Any], path: str) -> list[MissionItem]:
    kind_path = f"{path}.complexItemType"
    kind = r.key(obj, "complexItemType", path)
    if kind == "survey":
        _check_version(r, obj, path, _SURVEY_VERSIONS)
        return _read_transect_items(r, obj, path)
    if kind == "CorridorScan":
        _check_version(r, obj, path, _CORRIDOR_VERSIONS)
        return _read_transect_items(r, obj, path)
    if kind == "StructureScan":
        _check_version(r, obj, path, _STRUCTURE_SCAN_VERSIONS)
        return _structure_scan_items(r, obj, path)
    raise MissionFileError(
        f"{r.source}: {kind_path}: unknown complex item type: expected {_COMPLEX_TYPES}, got {kind!r}"
    )


def _read_transect_items(r: JsonReader, obj: dict[str, Any], path: str) -> list[MissionItem]:
    transect_path = f"{path}.TransectStyleComplexItem"
    transect = r.obj(r.key(obj, "TransectStyleComplexItem", path), transect_path)
    items_path = f"{transect_path}.Items"
    raw_items = r.array(r.key(transect, "Items", transect_path), items_path)
    return [_read_simple_item(r, raw, f"{items_path}[{i}]") for i, raw in enumerate(raw_items)]


def _structure_scan_items(r: JsonReader, obj: dict[str, Any], path: str) -> list[MissionItem]:
    def number(container: dict[str, Any], key: str, container_path: str) -> float:
        return r.number(r.key(container, key, container_path), f"{container_path}.{key}")

    polygon_path = f"{path}.polygon"
    raw_polygon = r.array(r.key(obj, "polygon", path), polygon_path, min_length=3)
    polygon = [_read_lat_lon(r, v, f"{polygon_path}[{i}]") for i, v in enumerate(raw_polygon)]
    camera_path = f"{path}.CameraCalc"
    camera = r.obj(r.key(obj, "CameraCalc", path), camera_path)
    distance_m = number(camera, "DistanceToSurface", camera_path)
    layer_height_m = number(camera, "AdjustedFootprintFrontal", camera_path)
    trigger_distance_m = number(camera, "AdjustedFootprintSide", camera_path)
    entrance_alt_m = number(obj, "EntranceAltitude", path)
    bottom_alt_m = number(obj, "ScanBottomAlt", path)
    structure_height_m = number(obj, "StructureHeight", path)
    gimbal_pitch_deg = number(obj, "GimbalPitch", path)
    layers = r.integer(r.key(obj, "Layers", path), f"{path}.Layers", low=1, high=10_000)
    start_from_top = r.boolean(r.key(obj, "StartFromTop", path), f"{path}.StartFromTop")
    if distance_m < 0.0:
        raise r.error(f"{camera_path}.DistanceToSurface", "a distance >= 0", distance_m)

    ring = _offset_polygon(polygon, distance_m, r, polygon_path)
    rel = MavFrame.GLOBAL_RELATIVE_ALT

    def waypoint(lat: float, lon: float, alt: float) -> MissionItem:
        return MissionItem(
            command=MavCmd.NAV_WAYPOINT, frame=rel, param4=math.nan, lat_deg=lat, lon_deg=lon, altitude_m=alt
        )

    entry_lat, entry_lon = ring[0]
    items = [
        waypoint(entry_lat, entry_lon, entrance_alt_m),
        MissionItem(
            command=MAV_CMD_DO_SET_ROI_WPNEXT_OFFSET,
            frame=MavFrame.MISSION,
            lat_deg=gimbal_pitch_deg,
            altitude_m=90.0,
        ),
    ]
    half_layer_m = layer_height_m / 2.0
    step_m = -layer_height_m if start_from_top else layer_height_m
    layer_alt_m = structure_height_m - half_layer_m if start_from_top else bottom_alt_m + half_layer_m
    for _ in range(layers):
        for index, (lat, lon) in enumerate([*ring, ring[0]]):
            items.append(waypoint(lat, lon, layer_alt_m))
            if index == 0:
                items.append(
                    MissionItem(
                        command=MavCmd.DO_SET_CAM_TRIGG_DIST,
                        frame=MavFrame.MISSION,
                        param1=trigger_distance_m,
                        param3=1.0,
                    )
                )
        items.append(MissionItem(command=MavCmd.DO_SET_CAM_TRIGG_DIST, frame=MavFrame.MISSION))
        layer_alt_m += step_m
    items.append(MissionItem(command=MAV_CMD_DO_SET_ROI_NONE, frame=MavFrame.MISSION))
    items.append(waypoint(entry_lat, entry_lon, entrance_alt_m))
    return items


def _offset_polygon(
    vertices_deg: list[tuple[float, float]], distance_m: float, r: JsonReader, path: str
) -> list[tuple[float, float]]:
    """Each edge moved ``distance_m`` outwards, new vertices where neighbouring edges meet."""
    if distance_m == 0.0:
        return list(vertices_deg)
    from geo.frames import LocalFrame  # pyproj only when a structure scan is read

    frame = LocalFrame(origin_lat_deg=vertices_deg[0][0], origin_lon_deg=vertices_deg[0][1])
    points = [frame.to_local(lat, lon) for lat, lon in vertices_deg]
    count = len(points)
    twice_area = sum(
        points[i][0] * points[(i + 1) % count][1] - points[(i + 1) % count][0] * points[i][1]
        for i in range(count)
    )
    if abs(twice_area) < 1e-6:
        raise r.error(path, "a polygon with an area", "vertices that enclose no area")
    outward = 1.0 if twice_area < 0.0 else -1.0  # clockwise: the left normal points out
    lines: list[tuple[float, float, float, float]] = []  # point on the offset edge, unit direction
    for i in range(count):
        (x0, y0), (x1, y1) = points[i], points[(i + 1) % count]
        length = math.hypot(x1 - x0, y1 - y0)
        if length < 1e-6:
            raise r.error(
                f"{path}[{(i + 1) % count}]", "a vertex distinct from the one before", "a repeated vertex"
            )
        dx, dy = (x1 - x0) / length, (y1 - y0) / length
        nx, ny = -dy * outward, dx * outward
        lines.append((x0 + nx * distance_m, y0 + ny * distance_m, dx, dy))
    ring: list[tuple[float, float]] = []
    for i in range(count):
        ax, ay, adx, ady = lines[i - 1]
        bx, by, bdx, bdy = lines[i]
        cross = adx * bdy - ady * bdx
        if abs(cross) < 1e-9:  # collinear edges: the offset vertex is the shifted vertex
            x, y = bx, by
        else:
            t = ((bx - ax) * bdy - (by - ay) * bdx) / cross
            x, y = ax + t * adx, ay + t * ady
        lat, lon = frame.to_geodetic(x, y)
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # also false for NaN
            raise r.error(path, f"a polygon that stays on the globe when offset by {distance_m!r} m", lat)
        ring.append((lat, lon))
    return ring


def _read_fence_polygon(r: JsonReader, raw: object, path: str) -> FencePolygon:
    obj = r.obj(raw, path)
    _check_version(r, obj, path, (_FENCE_SHAPE_VERSION,))
    inclusion = r.boolean(r.key(obj, "inclusion", path), f"{path}.inclusion")
    vertices_path = f"{path}.polygon"
    raw_vertices = r.array(r.key(obj, "polygon", path), vertices_path, min_length=3)
    vertices = tuple(_read_lat_lon(r, v, f"{vertices_path}[{i}]") for i, v in enumerate(raw_vertices))
    return FencePolygon(inclusion=inclusion, vertices_deg=vertices)


def _read_fence_circle(r: JsonReader, raw: object, path: str) -> FenceCircle:
    obj = r.obj(raw, path)
    _check_version(r, obj, path, (_FENCE_SHAPE_VERSION,))
    inclusion = r.boolean(r.key(obj, "inclusion", path), f"{path}.inclusion")
    circle_path = f"{path}.circle"
    circle = r.obj(r.key(obj, "circle", path), circle_path)
    lat, lon = _read_lat_lon(r, r.key(circle, "center", circle_path), f"{circle_path}.center")
    radius_m = r.number(r.key(circle, "radius", circle_path), f"{circle_path}.radius")
    if radius_m <= 0.0:
        raise r.error(f"{circle_path}.radius", "a radius > 0", radius_m)
    return FenceCircle(inclusion=inclusion, lat_deg=lat, lon_deg=lon, radius_m=radius_m)


def _read_rally_point(r: JsonReader, raw: object, path: str) -> RallyPoint:
    values = r.array(raw, path, length=3)
    lat = r.number(values[0], f"{path}[0]")
    lon = r.number(values[1], f"{path}[1]")
    _check_lat_lon(r, lat, lon, path)
    return RallyPoint(lat_deg=lat, lon_deg=lon, altitude_m=r.number(values[2], f"{path}[2]"))
