"""Mission file formats: .plan, WPL 110, MAVProxy fence/rally, GeoJSON, KML.

Real files: the three QGroundControl .plan files in ``tests/fixtures/missions`` (BSD-3-Clause,
always present) and the GPL-3.0 WPL/fence/rally files read from ``../shared`` (skipped when
that folder is absent).
"""

from __future__ import annotations

import copy
import json
import math
import os
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymavlink.dialects.v20 import common
from shapely.geometry import Point, Polygon

from geo.frames import LocalFrame
from ground_station.planning.errors import MissionFileError, PlanningError
from ground_station.planning.formats import (
    mavproxy_fence_from_text,
    mavproxy_fence_to_text,
    mavproxy_rally_from_text,
    mavproxy_rally_to_text,
    mission_to_geojson,
    mission_to_kml,
    plan_from_dict,
    plan_to_dict,
    qgc_plan,
    read_mavproxy_fence,
    read_mavproxy_rally,
    read_mission,
    read_plan,
    read_waypoints,
    waypoints_from_text,
    waypoints_to_text,
    write_geojson,
    write_kml,
    write_mavproxy_fence,
    write_mavproxy_rally,
    write_mission,
    write_plan,
    write_waypoints,
)
from ground_station.planning.mission import (
    FenceCircle,
    FencePolygon,
    HomePosition,
    MavCmd,
    MavFrame,
    Mission,
    MissionItem,
    RallyPoint,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "missions"
SHARED_MISSIONS = REPO_ROOT.parent / "shared" / "data" / "missions"
WPL_DIR = SHARED_MISSIONS / "wpl110"

SAMPLE_PLAN = FIXTURES / "mavsdk_qgroundcontrol_sample.plan"
SURVEY_PLAN = FIXTURES / "mavsdk_qgroundcontrol_sample_with_survey.plan"
STRUCTURE_PLAN = FIXTURES / "mavsdk_qgroundcontrol_sample_with_structured_scan.plan"
PLAN_FILES = (SAMPLE_PLAN, SURVEY_PLAN, STRUCTURE_PLAN)
WPL_MISSIONS = (
    "ardupilot_autotest_copter_mission.txt",
    "mavproxy_springvalley-foamy-mission-cw.txt",
    "mavproxy_cmac-foamy-mission-ccw.txt",
)
KML = "{http://www.opengis.net/kml/2.2}"


def shared_file(name: str) -> Path:
    path = WPL_DIR / name
    if not path.is_file():
        pytest.skip(
            f"GPL-3.0 reference file {name} is read from {WPL_DIR}, which is absent (not copied on purpose)"
        )
    return path


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def patrol_mission() -> Mission:
    """A small synthetic mission with every section and all three altitude frames."""
    home = HomePosition(lat_deg=30.25, lon_deg=120.125, altitude_amsl_m=12.5)
    items = (
        MissionItem(
            command=MavCmd.NAV_TAKEOFF, param4=math.nan, lat_deg=30.25, lon_deg=120.125, altitude_m=30.0
        ),
        MissionItem(
            command=MavCmd.DO_CHANGE_SPEED, frame=MavFrame.MISSION, param1=1.0, param2=8.0, param3=-1.0
        ),
        MissionItem(command=MavCmd.NAV_WAYPOINT, lat_deg=30.2501, lon_deg=120.1262, altitude_m=40.0),
        MissionItem(
            command=MavCmd.NAV_WAYPOINT,
            frame=MavFrame.GLOBAL,
            lat_deg=30.2512,
            lon_deg=120.1263,
            altitude_m=95.25,
        ),
        MissionItem(
            command=MavCmd.NAV_WAYPOINT,
            frame=MavFrame.GLOBAL_TERRAIN_ALT,
            lat_deg=30.2523,
            lon_deg=120.1264,
            altitude_m=60.0,
        ),
        MissionItem(
            command=MavCmd.NAV_LOITER_TIME,
            frame=MavFrame.GLOBAL_TERRAIN_ALT,
            param1=15.0,
            lat_deg=30.2524,
            lon_deg=120.1275,
            altitude_m=60.0,
        ),
        MissionItem(command=MavCmd.NAV_RETURN_TO_LAUNCH, frame=MavFrame.MISSION, autocontinue=False),
    )
    return Mission(
        home=home,
        items=items,
        fence_polygons=(
            FencePolygon(
                inclusion=True,
                vertices_deg=((30.24, 120.11), (30.26, 120.11), (30.26, 120.14), (30.24, 120.14)),
            ),
            FencePolygon(
                inclusion=False, vertices_deg=((30.251, 120.121), (30.252, 120.121), (30.252, 120.122))
            ),
        ),
        fence_circles=(FenceCircle(inclusion=False, lat_deg=30.245, lon_deg=120.13, radius_m=75.0),),
        rally_points=(RallyPoint(lat_deg=30.2505, lon_deg=120.1255, altitude_m=35.0),),
        cruise_speed_m_s=12.0,
        hover_speed_m_s=6.5,
        firmware="ardupilot",
        vehicle_type="multirotor",
    )


# --------------------------------------------------------------------------- constants


def test_mavlink_constants_equal_pymavlinks() -> None:
    for command in MavCmd:
        assert getattr(common, f"MAV_CMD_{command.name}") == command.value, command
    for frame in MavFrame:
        assert getattr(common, f"MAV_FRAME_{frame.name}") == frame.value, frame
    assert qgc_plan.MAV_CMD_DO_SET_ROI_WPNEXT_OFFSET == common.MAV_CMD_DO_SET_ROI_WPNEXT_OFFSET
    assert qgc_plan.MAV_CMD_DO_SET_ROI_NONE == common.MAV_CMD_DO_SET_ROI_NONE
    assert qgc_plan.FIRMWARE_TYPE_ARDUPILOT == common.MAV_AUTOPILOT_ARDUPILOTMEGA
    assert qgc_plan.FIRMWARE_TYPE_PX4 == common.MAV_AUTOPILOT_PX4
    written = {name: codes[0] for name, codes in qgc_plan._VEHICLE_CLASS_CODES.items()}
    assert written["multirotor"] == common.MAV_TYPE_QUADROTOR
    assert written["fixed_wing"] == common.MAV_TYPE_FIXED_WING
    assert written["vtol"] == common.MAV_TYPE_VTOL_QUADROTOR
    assert written["rover"] == common.MAV_TYPE_GROUND_ROVER
    assert written["helicopter"] == common.MAV_TYPE_HELICOPTER


# --------------------------------------------------------------------------- .plan, real files


def test_sample_plan_reads_as_mavsdk_does() -> None:
    mission = read_plan(SAMPLE_PLAN)
    assert mission.home == HomePosition(
        lat_deg=47.3977507, lon_deg=8.5456075, altitude_amsl_m=488.93101752001763
    )
    assert (mission.firmware, mission.vehicle_type) == ("px4", "multirotor")
    assert (mission.cruise_speed_m_s, mission.hover_speed_m_s) == (15.0, 5.0)
    assert [(i.command, i.frame) for i in mission.items] == [
        (22, 3),
        (16, 3),
        (2000, 2),
        (16, 3),
        (16, 3),
        (20, 2),
    ]
    takeoff = mission.items[0]
    assert takeoff == MissionItem(
        command=22,
        frame=3,
        param1=15.0,
        param4=math.nan,
        lat_deg=47.3977507,
        lon_deg=8.5456075,
        altitude_m=50.0,
    )
    assert mission.items[2].param3 == 1.0
    assert (mission.fence_polygons, mission.fence_circles, mission.rally_points) == ((), (), ())


def test_sample_plan_is_written_back_as_qgc_wrote_it() -> None:
    assert plan_to_dict(read_plan(SAMPLE_PLAN)) == load_json(SAMPLE_PLAN)


def test_vehicle_and_firmware_codes_survive() -> None:
    document = load_json(SAMPLE_PLAN)
    document["mission"].update(vehicleType=13, firmwareType=3)  # hexarotor on ArduPilot
    mission = plan_from_dict(document)
    assert (mission.vehicle_type, mission.firmware) == ("multirotor", "ardupilot")
    assert plan_to_dict(mission)["mission"]["vehicleType"] == 13
    document["mission"]["vehicleType"] = 1
    assert plan_from_dict(document).vehicle_type == "fixed_wing"


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda p: p.stem)
def test_plan_round_trip(path: Path, tmp_path: Path) -> None:
    first = read_plan(path)
    write_plan(first, tmp_path / "out.plan")
    second = read_plan(tmp_path / "out.plan")
    assert second == first
    assert second.items == first.items  # item for item, NaN params included
    write_plan(second, tmp_path / "again.plan")
    assert (tmp_path / "again.plan").read_bytes() == (tmp_path / "out.plan").read_bytes()


def test_survey_expands_to_the_items_the_file_lists() -> None:
    raw = load_json(SURVEY_PLAN)
    listed = 0
    for entry in raw["mission"]["items"]:
        if entry["type"] == "ComplexItem":
            assert entry["complexItemType"] == "survey"
            listed += len(entry["TransectStyleComplexItem"]["Items"])
        else:
            listed += 1
    mission = read_plan(SURVEY_PLAN)
    assert len(mission.items) == listed == 13
    generated = raw["mission"]["items"][1]["TransectStyleComplexItem"]["Items"]
    for item, entry in zip(mission.items[1:], generated, strict=True):
        assert item.command == entry["command"]
        assert item.frame == entry["frame"]
        expected = [math.nan if p is None else float(p) for p in entry["params"]]
        assert [round(p, 12) if not math.isnan(p) else "nan" for p in item.params] == [
            round(p, 12) if not math.isnan(p) else "nan" for p in expected
        ]
    # The same items MAVSDK's own test expects, in its int32 1e7 degrees.
    assert round(mission.items[1].lat_deg * 1e7) == 473977060
    assert round(mission.items[1].lon_deg * 1e7) == 85463397
    assert mission.items[-1].command == MavCmd.DO_SET_CAM_TRIGG_DIST and mission.items[-1].param1 == 0.0


def test_corridor_scan_expands_its_transect_items() -> None:
    document = load_json(SURVEY_PLAN)
    corridor = document["mission"]["items"][1]
    corridor.update(complexItemType="CorridorScan", version=2, CorridorWidth=30, EntryPoint=0)
    corridor["polyline"] = corridor.pop("polygon")[:2]
    assert plan_from_dict(document).items == read_plan(SURVEY_PLAN).items


def test_structure_scan_is_generated_as_qgc_does() -> None:
    raw = load_json(STRUCTURE_PLAN)["mission"]["items"][1]
    mission = read_plan(STRUCTURE_PLAN)
    vertices = len(raw["polygon"])
    layers = int(raw["Layers"])
    # QGC's StructureScanComplexItem::lastSequenceNumber: (vertices + 1 + 2) per layer, + 4.
    assert len(mission.items) == 1 + (vertices + 1 + 2) * layers + 4 == 19
    scan = mission.items[1:]
    entrance, roi, exit_wp, roi_none = scan[0], scan[1], scan[-1], scan[-2]
    assert entrance.command == MavCmd.NAV_WAYPOINT and entrance.altitude_m == raw["EntranceAltitude"]
    assert exit_wp == entrance
    assert (roi.command, roi.frame, roi.lat_deg, roi.altitude_m) == (
        196,
        MavFrame.MISSION,
        raw["GimbalPitch"],
        90.0,
    )
    assert roi_none.command == 197
    ring_items = [i for i in scan[2:-2] if i.command == MavCmd.NAV_WAYPOINT]
    assert sorted({i.altitude_m for i in ring_items}, reverse=True) == [
        87.5,
        62.5,
    ]  # from the top, 25 m layers
    triggers = [i for i in scan if i.command == MavCmd.DO_SET_CAM_TRIGG_DIST]
    assert [t.param1 for t in triggers] == [25.0, 0.0] * layers

    # The flight ring is the structure polygon pushed out by DistanceToSurface (50 m).
    frame = LocalFrame(origin_lat_deg=raw["polygon"][0][0], origin_lon_deg=raw["polygon"][0][1])
    structure = Polygon([frame.to_local(lat, lon) for lat, lon in raw["polygon"]])
    ring = [frame.to_local(i.lat_deg, i.lon_deg) for i in ring_items[: vertices + 1]]
    assert ring[0] == ring[-1]
    distance_m = raw["CameraCalc"]["DistanceToSurface"]
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        midpoint = Point((x0 + x1) / 2, (y0 + y1) / 2)
        assert structure.exterior.distance(midpoint) == pytest.approx(distance_m, abs=0.05)
        assert not structure.contains(midpoint)
    for x, y in ring:
        assert structure.exterior.distance(Point(x, y)) >= distance_m - 0.05


def test_structure_scan_winding_does_not_matter() -> None:
    document = load_json(STRUCTURE_PLAN)
    reversed_doc = copy.deepcopy(document)
    polygon = reversed_doc["mission"]["items"][1]["polygon"]
    reversed_doc["mission"]["items"][1]["polygon"] = [polygon[0], *polygon[:0:-1]]
    forward = plan_from_dict(document)
    backward = plan_from_dict(reversed_doc)
    forward_ring = {(round(i.lat_deg, 9), round(i.lon_deg, 9)) for i in forward.items if i.command == 16}
    backward_ring = {(round(i.lat_deg, 9), round(i.lon_deg, 9)) for i in backward.items if i.command == 16}
    assert forward_ring == backward_ring


# --------------------------------------------------------------------------- .plan, what we write


def assert_qgc_loadable(plan: dict[str, Any]) -> None:
    """The keys and types QGroundControl's loaders require (PlanMasterController, MissionController
    v2, SimpleMissionItem/MissionItem, GeoFenceController, QGCFencePolygon/Circle, RallyPointController)."""

    def number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    assert plan["fileType"] == "Plan" and plan["version"] == 1 and isinstance(plan["groundStation"], str)
    mission = plan["mission"]
    assert mission["version"] == 2
    for key in ("firmwareType", "vehicleType", "cruiseSpeed", "hoverSpeed", "globalPlanAltitudeMode"):
        assert number(mission[key]), key
    assert len(mission["plannedHomePosition"]) == 3 and all(map(number, mission["plannedHomePosition"]))
    for seq, item in enumerate(mission["items"], start=1):
        assert item["type"] == "SimpleItem"
        assert number(item["command"]) and number(item["frame"]) and isinstance(item["autoContinue"], bool)
        assert item["doJumpId"] == seq
        assert len(item["params"]) == 7 and all(p is None or number(p) for p in item["params"])
        altitude_keys = {"AltitudeMode", "Altitude", "AMSLAltAboveTerrain"} & item.keys()
        assert altitude_keys in (set(), {"AltitudeMode", "Altitude", "AMSLAltAboveTerrain"}), item
        if altitude_keys:
            assert item["AltitudeMode"] in (1, 2, 4)
            assert {1: 3, 2: 0, 4: 10}[item["AltitudeMode"]] == item["frame"]
            assert item["Altitude"] == item["params"][6]
    fence = plan["geoFence"]
    assert fence["version"] == 2
    for polygon in fence["polygons"]:
        assert polygon["version"] == 1 and isinstance(polygon["inclusion"], bool)
        assert len(polygon["polygon"]) >= 3 and all(len(v) == 2 for v in polygon["polygon"])
    for circle in fence["circles"]:
        assert circle["version"] == 1 and isinstance(circle["inclusion"], bool)
        assert len(circle["circle"]["center"]) == 2 and number(circle["circle"]["radius"])
    rally = plan["rallyPoints"]
    assert rally["version"] == 2 and all(len(p) == 3 for p in rally["points"])


def test_written_plan_has_what_qgc_requires(tmp_path: Path) -> None:
    mission = patrol_mission()
    write_plan(mission, tmp_path / "patrol.plan")
    plan = load_json(tmp_path / "patrol.plan")
    assert_qgc_loadable(plan)
    items = plan["mission"]["items"]
    assert [i.get("AltitudeMode") for i in items] == [1, None, 1, 2, 4, 4, None]
    assert items[0]["params"][3] is None  # NaN yaw is null
    assert plan["mission"]["globalPlanAltitudeMode"] == 0  # mixed
    assert plan["geoFence"]["circles"][0]["circle"] == {"center": [30.245, 120.13], "radius": 75}
    assert plan["rallyPoints"]["points"] == [[30.2505, 120.1255, 35]]
    assert read_plan(tmp_path / "patrol.plan") == mission


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda p: p.stem)
def test_rewritten_real_plans_have_what_qgc_requires(path: Path) -> None:
    assert_qgc_loadable(plan_to_dict(read_plan(path)))


# --------------------------------------------------------------------------- WPL 110


@pytest.mark.parametrize("name", WPL_MISSIONS)
def test_wpl_round_trip(name: str, tmp_path: Path) -> None:
    path = shared_file(name)
    first = read_waypoints(path)
    write_waypoints(first, tmp_path / "out.waypoints")
    assert read_waypoints(tmp_path / "out.waypoints") == first
    original = path.read_text().splitlines()
    written = (tmp_path / "out.waypoints").read_text().splitlines()
    # Byte for byte, but for the home line's "current" flag (we always set it, as Mission Planner does).
    assert written[0] == original[0] and written[2:] == original[2:]
    assert written[1].split("\t")[2:] == original[1].split("\t")[2:]


def test_copter_mission_values() -> None:
    mission = read_waypoints(shared_file("ardupilot_autotest_copter_mission.txt"))
    assert mission.home == HomePosition(lat_deg=-35.362881, lon_deg=149.165222, altitude_amsl_m=582.0)
    assert len(mission.items) == 12
    assert mission.items[0] == MissionItem(
        command=22, frame=3, lat_deg=-35.362881, lon_deg=149.165222, altitude_m=20.0
    )
    yaw = mission.items[2]
    assert (yaw.command, yaw.param1, yaw.param2, yaw.param3, yaw.param4) == (115, 640.0, 20.0, 1.0, 1.0)
    jump = mission.items[9]
    assert (jump.command, jump.param1, jump.param2) == (MavCmd.DO_JUMP, 8.0, 1.0)
    assert mission.firmware == "ardupilot"


@pytest.mark.parametrize("name", WPL_MISSIONS)
def test_wpl_to_plan_and_back(name: str, tmp_path: Path) -> None:
    mission = read_waypoints(shared_file(name))
    write_plan(mission, tmp_path / "converted.plan")
    back = read_plan(tmp_path / "converted.plan")
    assert back.home == mission.home
    assert len(back.items) == len(mission.items)
    for ours, theirs in zip(back.items, mission.items, strict=True):
        assert ours == theirs
    assert back == mission
    assert_qgc_loadable(load_json(tmp_path / "converted.plan"))


def test_wpl_accepts_spaces_crlf_comments_and_blank_lines() -> None:
    tabbed = waypoints_to_text(patrol_mission())
    lines = tabbed.splitlines()
    messy = "\r\n".join(
        [lines[0], "# written by hand", *(line.replace("\t", "  ") for line in lines[1:3]), "", *lines[3:]]
    )
    messy += "\r\n\r\n   \r\n"
    assert waypoints_from_text(messy) == waypoints_from_text(tabbed) == _without_fences(patrol_mission())


def _without_fences(mission: Mission) -> Mission:
    return Mission(home=mission.home, items=mission.items)


def test_wpl_writes_home_as_line_zero_and_nan_as_text() -> None:
    text = waypoints_to_text(patrol_mission())
    lines = text.splitlines()
    assert lines[0] == "QGC WPL 110"
    assert lines[1].split("\t") == [
        "0",
        "1",
        "0",
        "16",
        *["0.000000"] * 4,
        "30.250000",
        "120.125000",
        "12.500000",
        "1",
    ]
    assert lines[2].split("\t")[7] == "NaN"
    assert lines[-1].split("\t")[-1] == "0"  # autocontinue off on the RTL
    assert all(len(line.split("\t")) == 12 for line in lines[1:])


# --------------------------------------------------------------------------- MAVProxy fence and rally


def test_mavproxy_fence_round_trip(tmp_path: Path) -> None:
    path = shared_file("mavproxy_springvalley-foamy-fence.txt")
    return_point, polygon = read_mavproxy_fence(path)
    assert return_point == (-35.281086, 149.00737)
    assert polygon.inclusion and len(polygon.vertices_deg) == 4
    assert polygon.vertices_deg[0] == (-35.282536, 149.005096)
    write_mavproxy_fence(return_point, polygon, tmp_path / "fence.txt")
    assert (tmp_path / "fence.txt").read_bytes() == path.read_bytes()
    assert read_mavproxy_fence(tmp_path / "fence.txt") == (return_point, polygon)


def test_mavproxy_rally_round_trip(tmp_path: Path) -> None:
    path = shared_file("mavproxy_springvalley-foamy-rally.txt")
    points = read_mavproxy_rally(path)
    assert points == (RallyPoint(lat_deg=-35.281194, lon_deg=149.006725, altitude_m=100.0),)
    write_mavproxy_rally(points, tmp_path / "rally.txt")
    assert (tmp_path / "rally.txt").read_bytes() == path.read_bytes()


def test_mavproxy_text_round_trip() -> None:
    polygon = patrol_mission().fence_polygons[0]
    text = mavproxy_fence_to_text((30.25, 120.125), polygon)
    lines = text.splitlines()
    assert len(lines) == 1 + 4 + 1 and lines[1] == lines[-1]  # return point, vertices, closing vertex
    assert mavproxy_fence_from_text(text) == ((30.25, 120.125), polygon)
    unclosed = "\n".join(lines[:-1]) + "\n"  # a hand-written file without the closing vertex
    assert mavproxy_fence_from_text(unclosed) == ((30.25, 120.125), polygon)
    rally = patrol_mission().rally_points
    text = mavproxy_rally_to_text(rally, break_altitude_m=55.0, land_heading_deg=270.0, flags=1)
    assert text == "RALLY 30.250500\t120.125500\t35.000000\t55.000000\t270.000000\t1\n"
    assert mavproxy_rally_from_text(text) == rally


def test_mavproxy_writers_refuse_what_the_format_cannot_hold(tmp_path: Path) -> None:
    exclusion = FencePolygon(inclusion=False, vertices_deg=((1.0, 1.0), (1.0, 2.0), (2.0, 2.0)))
    with pytest.raises(MissionFileError, match="exclusion"):
        write_mavproxy_fence((1.5, 1.5), exclusion, tmp_path / "fence.txt")
    assert not (tmp_path / "fence.txt").exists()


# --------------------------------------------------------------------------- malformed input


def _plan_text(mutate: Callable[[dict[str, Any]], object]) -> str:
    document = load_json(SURVEY_PLAN)
    document["geoFence"]["polygons"] = [
        {"inclusion": True, "polygon": [[47.39, 8.54], [47.40, 8.54], [47.40, 8.55]], "version": 1}
    ]
    document["geoFence"]["circles"] = [
        {"circle": {"center": [47.39, 8.54], "radius": 50}, "inclusion": False, "version": 1}
    ]
    document["rallyPoints"]["points"] = [[47.395, 8.545, 30]]
    result = mutate(document)
    return json.dumps(document if result is None else result)


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set (or with ``...`` delete) the value at a dotted path with [i] indices."""

    def mutate(document: dict[str, Any]) -> None:
        parts = path.replace("[", ".[").split(".")
        target: Any = document
        for part in parts[:-1]:
            target = target[int(part[1:-1])] if part.startswith("[") else target[part]
        last = parts[-1]
        key: Any = int(last[1:-1]) if last.startswith("[") else last
        if value is ...:
            del target[key]
        else:
            target[key] = value

    return mutate


SURVEY = "mission.items[1]"
SURVEY_ITEMS = f"{SURVEY}.TransectStyleComplexItem.Items"

PLAN_CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("not JSON", '{\n  "fileType": ', ("line 2 column", "expected JSON")),
    ("array at top", "[]", ("$: expected an object", "array of 0")),
    ("wrong file type", _plan_text(_set("fileType", "GeoFence")), ("$.fileType", '"Plan"', "GeoFence")),
    (
        "plan version",
        _plan_text(_set("version", 2)),
        ("$.version", "unsupported version", "expected 1", "got 2"),
    ),
    ("no mission", _plan_text(_set("mission", ...)), ("$:", "expected key 'mission'")),
    ("mission version", _plan_text(_set("mission.version", 1)), ("$.mission.version", "unsupported version")),
    ("no items", _plan_text(_set("mission.items", ...)), ("$.mission", "'items'")),
    ("no command", _plan_text(_set("mission.items[0].command", ...)), ("$.mission.items[0]", "'command'")),
    ("six params", _plan_text(_set("mission.items[0].params", [0] * 6)), ("items[0].params", "array of 7")),
    (
        "text param",
        _plan_text(_set("mission.items[0].params[1]", "two")),
        ("$.mission.items[0].params[1]", "finite number or null", '"two"'),
    ),
    ("bool command", _plan_text(_set("mission.items[0].command", True)), ("items[0].command", "integer")),
    ("fraction frame", _plan_text(_set("mission.items[0].frame", 2.5)), ("items[0].frame", "integer", "2.5")),
    ("frame range", _plan_text(_set("mission.items[0].frame", 300)), ("items[0].frame", "0..255", "300")),
    (
        "autoContinue",
        _plan_text(_set("mission.items[0].autoContinue", "yes")),
        ("autoContinue", "true or false"),
    ),
    (
        "item type",
        _plan_text(_set("mission.items[0].type", "Fancy")),
        ("items[0].type", "SimpleItem", "Fancy"),
    ),
    (
        "unknown complex item",
        _plan_text(_set(f"{SURVEY}.complexItemType", "fwLandingPattern")),
        ("items[1].complexItemType", "unknown complex item type", "fwLandingPattern"),
    ),
    ("survey version", _plan_text(_set(f"{SURVEY}.version", 3)), ("items[1].version", "unsupported version")),
    (
        "survey without items",
        _plan_text(_set(f"{SURVEY}.TransectStyleComplexItem", ...)),
        ("$.mission.items[1]", "'TransectStyleComplexItem'"),
    ),
    (
        "bad generated item",
        _plan_text(_set(f"{SURVEY_ITEMS}[2].params[4]", {})),
        ("$.mission.items[1].TransectStyleComplexItem.Items[2].params[4]", "finite number"),
    ),
    (
        "home of two",
        _plan_text(_set("mission.plannedHomePosition", [47.0, 8.0])),
        ("plannedHomePosition", "array of 3"),
    ),
    (
        "home latitude",
        _plan_text(_set("mission.plannedHomePosition[0]", 97.0)),
        ("plannedHomePosition[0]", "latitude"),
    ),
    (
        "firmware",
        _plan_text(_set("mission.firmwareType", 0)),
        ("$.mission.firmwareType", "3 (ArduPilot) or 12 (PX4)"),
    ),
    (
        "cruise speed",
        _plan_text(_set("mission.cruiseSpeed", "fast")),
        ("$.mission.cruiseSpeed", "finite number"),
    ),
    ("no geofence", _plan_text(_set("geoFence", ...)), ("$:", "'geoFence'")),
    (
        "geofence version",
        _plan_text(_set("geoFence.version", 1)),
        ("$.geoFence.version", "unsupported version"),
    ),
    (
        "two-vertex polygon",
        _plan_text(_set("geoFence.polygons[0].polygon", [[47.0, 8.0], [47.1, 8.0]])),
        ("$.geoFence.polygons[0].polygon", "at least 3"),
    ),
    (
        "polygon inclusion",
        _plan_text(_set("geoFence.polygons[0].inclusion", ...)),
        ("$.geoFence.polygons[0]", "'inclusion'"),
    ),
    (
        "circle radius",
        _plan_text(_set("geoFence.circles[0].circle.radius", -5)),
        ("circle.radius", "radius > 0"),
    ),
    (
        "rally point",
        _plan_text(_set("rallyPoints.points[0]", [47.0, 8.0])),
        ("$.rallyPoints.points[0]", "array of 3"),
    ),
    ("no rally points", _plan_text(_set("rallyPoints", ...)), ("$:", "'rallyPoints'")),
]


def _structure_text(mutate: Callable[[dict[str, Any]], object]) -> str:
    document = load_json(STRUCTURE_PLAN)
    mutate(document)
    return json.dumps(document)


PLAN_CASES += [
    (
        "structure scan without camera",
        _structure_text(_set(f"{SURVEY}.CameraCalc", ...)),
        ("$.mission.items[1]", "'CameraCalc'"),
    ),
    (
        "structure scan layers",
        _structure_text(_set(f"{SURVEY}.Layers", 0)),
        ("$.mission.items[1].Layers", "integer in 1.."),
    ),
    (
        "structure scan flat polygon",
        _structure_text(_set(f"{SURVEY}.polygon", [[47.0, 8.0], [47.001, 8.0], [47.002, 8.0]])),
        ("$.mission.items[1].polygon", "area"),
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_malformed_plan(name: str, text: str, expected: tuple[str, ...], tmp_path: Path) -> None:
    path = tmp_path / "bad.plan"
    path.write_text(text)
    with pytest.raises(MissionFileError) as caught:
        read_plan(path)
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message, (part, message)
    with pytest.raises(MissionFileError):  # the same through the dispatcher
        read_mission(path)


GOOD_WPL = (
    "QGC WPL 110\n"
    "0\t1\t0\t16\t0\t0\t0\t0\t-35.36\t149.16\t582\t1\n"
    "1\t0\t3\t22\t0\t0\t0\t0\t-35.36\t149.16\t20\t1\n"
)
WPL_CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("empty", "", ("line 1", "bad header", "'QGC WPL 110'")),
    ("other version", "QGC WPL 120\n", ("line 1", "unsupported version", "QGC WPL 120")),
    ("no header", GOOD_WPL.split("\n", 1)[1], ("line 1", "bad header")),
    ("header only", "QGC WPL 110\n", ("expected the home line",)),
    (
        "eleven fields",
        GOOD_WPL + "2\t0\t3\t16\t0\t0\t0\t-35.36\t149.16\t20\t1\n",
        ("line 4", "12 fields", "got 11"),
    ),
    ("text param", GOOD_WPL.replace("\t22\t0\t", "\t22\tabc\t"), ("line 3", "param1", "number", "'abc'")),
    ("text frame", GOOD_WPL.replace("1\t0\t3\t22", "1\t0\tx\t22"), ("line 3", "frame", "integer", "'x'")),
    ("seq gap", GOOD_WPL.replace("1\t0\t3\t22", "5\t0\t3\t22"), ("line 3", "seq", "expected 1", "got 5")),
    ("autocontinue 2", GOOD_WPL[:-2] + "2\n", ("line 3", "autocontinue", "0..1")),
    ("infinite", GOOD_WPL.replace("\t20\t", "\tinf\t"), ("line 3", "alt", "finite")),
]


@pytest.mark.parametrize(("name", "text", "expected"), WPL_CASES, ids=[c[0] for c in WPL_CASES])
def test_malformed_waypoints(name: str, text: str, expected: tuple[str, ...], tmp_path: Path) -> None:
    path = tmp_path / "bad.waypoints"
    path.write_text(text)
    with pytest.raises(MissionFileError) as caught:
        read_waypoints(path)
    message = str(caught.value)
    assert str(path) in message
    for part in expected:
        assert part in message, (part, message)


FENCE_CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("three fields", "1 2\n1 2 3\n", ("line 2", "2 fields", "got 3")),
    ("text", "1 2\n1 x\n", ("line 2", "lon", "'x'")),
    ("too few", "1 2\n3 4\n5 6\n3 4\n", ("at least 3 polygon vertices",)),
    ("latitude", "95 2\n", ("line 1", "-90..90")),
]


@pytest.mark.parametrize(("name", "text", "expected"), FENCE_CASES, ids=[c[0] for c in FENCE_CASES])
def test_malformed_mavproxy_fence(name: str, text: str, expected: tuple[str, ...], tmp_path: Path) -> None:
    path = tmp_path / "fence.txt"
    path.write_text(text)
    with pytest.raises(MissionFileError) as caught:
        read_mavproxy_fence(path)
    assert str(path) in str(caught.value)
    for part in expected:
        assert part in str(caught.value), (part, str(caught.value))


RALLY_CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("six fields", "RALLY 1 2 3 4 5\n", ("line 1", "7 fields", "got 6")),
    ("keyword", "FENCE 1 2 3 4 5 0\n", ("line 1", "'RALLY'", "'FENCE'")),
    ("text", "\nRALLY 1 2 high 4 5 0\n", ("line 2", "alt", "'high'")),
    ("flags", "RALLY 1 2 3 4 5 0.5\n", ("line 1", "flags", "integer")),
]


@pytest.mark.parametrize(("name", "text", "expected"), RALLY_CASES, ids=[c[0] for c in RALLY_CASES])
def test_malformed_mavproxy_rally(name: str, text: str, expected: tuple[str, ...], tmp_path: Path) -> None:
    path = tmp_path / "rally.txt"
    path.write_text(text)
    with pytest.raises(MissionFileError) as caught:
        read_mavproxy_rally(path)
    assert str(path) in str(caught.value)
    for part in expected:
        assert part in str(caught.value), (part, str(caught.value))


def test_undecodable_bytes_and_unknown_files(tmp_path: Path) -> None:
    binary = tmp_path / "mission.waypoints"
    binary.write_bytes(b"QGC WPL 110\n\xff\xfe\n")
    with pytest.raises(MissionFileError, match="UTF-8"):
        read_waypoints(binary)
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    with pytest.raises(MissionFileError, match=r"unknown mission file.*'hello'"):
        read_mission(other)
    with pytest.raises(MissionFileError, match=r"unknown mission file suffix.*'\.csv'"):
        write_mission(patrol_mission(), tmp_path / "mission.csv")
    assert not (tmp_path / "mission.csv").exists()
    assert issubclass(MissionFileError, PlanningError) and issubclass(MissionFileError, ValueError)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_damaged_plan_reads_or_raises_mission_file_error(data: st.DataObject) -> None:
    document = load_json(SURVEY_PLAN if data.draw(st.booleans()) else STRUCTURE_PLAN)
    paths = _paths(document)[1:]
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths))
        parent: Any = document
        try:
            for step in where[:-1]:
                parent = parent[step]
            if data.draw(st.booleans()):
                del parent[where[-1]]
            else:
                parent[where[-1]] = data.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier damage removed this path
    try:
        mission = plan_from_dict(document)
    except MissionFileError as exc:
        assert str(exc).startswith("<plan>: ")
    else:
        assert isinstance(mission, Mission)


@settings(max_examples=150, deadline=None)
@given(
    line=st.integers(0, 2),
    field=st.integers(0, 12),
    replacement=st.text(alphabet=" \t0123456789.-eEnaifNx#", max_size=8),
)
def test_any_damaged_wpl_reads_or_raises_mission_file_error(line: int, field: int, replacement: str) -> None:
    lines = GOOD_WPL.splitlines()
    fields = lines[line].split("\t")
    if field < len(fields):
        fields[field] = replacement
    else:
        fields.append(replacement)
    lines[line] = "\t".join(fields)
    try:
        waypoints_from_text("\n".join(lines))
    except MissionFileError as exc:
        assert "<waypoints>: line " in str(exc)


# --------------------------------------------------------------------------- property round trips

FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
PARAM = st.floats(allow_infinity=False, width=64)


@st.composite
def missions(draw: st.DrawFn) -> Mission:
    items = draw(
        st.lists(
            st.builds(
                MissionItem,
                command=st.integers(0, 65535),
                frame=st.integers(0, 255),
                param1=PARAM,
                param2=PARAM,
                param3=PARAM,
                param4=PARAM,
                lat_deg=PARAM,
                lon_deg=PARAM,
                altitude_m=PARAM,
                autocontinue=st.booleans(),
            ),
            max_size=6,
        )
    )
    lat = st.floats(-90, 90)
    lon = st.floats(-180, 180)
    vertices = st.lists(st.tuples(lat, lon), min_size=3, max_size=5).map(tuple)
    return Mission(
        home=HomePosition(lat_deg=draw(lat), lon_deg=draw(lon), altitude_amsl_m=draw(FINITE)),
        items=tuple(items),
        fence_polygons=tuple(
            draw(
                st.lists(st.builds(FencePolygon, inclusion=st.booleans(), vertices_deg=vertices), max_size=2)
            )
        ),
        fence_circles=tuple(
            draw(
                st.lists(
                    st.builds(
                        FenceCircle,
                        inclusion=st.booleans(),
                        lat_deg=lat,
                        lon_deg=lon,
                        radius_m=st.floats(0.001, 1e6),
                    ),
                    max_size=2,
                )
            )
        ),
        rally_points=tuple(
            draw(st.lists(st.builds(RallyPoint, lat_deg=lat, lon_deg=lon, altitude_m=FINITE), max_size=2))
        ),
        cruise_speed_m_s=draw(FINITE),
        hover_speed_m_s=draw(FINITE),
        firmware=draw(st.sampled_from(["ardupilot", "px4"])),
        vehicle_type=draw(st.sampled_from(sorted(qgc_plan._VEHICLE_CLASS_CODES))),
    )


@settings(max_examples=60, deadline=None)
@given(mission=missions())
def test_any_mission_survives_plan_and_wpl(mission: Mission) -> None:
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(mission)))) == mission
    back = waypoints_from_text(waypoints_to_text(mission))
    assert back.home == mission.home and back.items == mission.items


# --------------------------------------------------------------------------- atomic writes


WRITERS: list[tuple[str, Callable[[Mission, Path], None]]] = [
    ("plan", write_plan),
    ("waypoints", write_waypoints),
    ("geojson", write_geojson),
    ("kml", write_kml),
]


@pytest.mark.parametrize(("suffix", "writer"), WRITERS, ids=[w[0] for w in WRITERS])
def test_failed_write_leaves_old_file_and_no_temporary(
    suffix: str, writer: Callable[[Mission, Path], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"mission.{suffix}"
    target.write_text("old content\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        writer(patrol_mission(), target)
    assert target.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_unwritable_mission_creates_nothing(tmp_path: Path) -> None:
    bad = Mission(home=patrol_mission().home, items=(), firmware="betaflight")
    with pytest.raises(MissionFileError, match="betaflight"):
        write_plan(bad, tmp_path / "bad.plan")
    infinite = Mission(home=patrol_mission().home, items=(MissionItem(command=16, altitude_m=math.inf),))
    with pytest.raises(MissionFileError, match="non-finite"):
        write_waypoints(infinite, tmp_path / "bad.waypoints")
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    write_plan(patrol_mission(), tmp_path / "new.plan")
    assert stat.S_IMODE((tmp_path / "new.plan").stat().st_mode) == 0o644
    private = tmp_path / "private.plan"
    private.write_text("{}")
    private.chmod(0o600)
    write_plan(patrol_mission(), private)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


# --------------------------------------------------------------------------- dispatch


@pytest.mark.parametrize("suffix", [".plan", ".waypoints", ".txt", ".geojson", ".json", ".kml", ".PLAN"])
def test_write_mission_by_suffix(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"mission{suffix}"
    write_mission(patrol_mission(), path)
    text = path.read_text()
    if suffix.lower() == ".plan":
        assert read_mission(path) == patrol_mission()
    elif suffix in (".waypoints", ".txt"):
        assert text.startswith("QGC WPL 110\n")
        assert read_mission(path) == _without_fences(patrol_mission())
    elif suffix in (".geojson", ".json"):
        assert json.loads(text)["type"] == "FeatureCollection"
    else:
        assert ET.fromstring(text).tag == f"{KML}kml"


def test_read_mission_sniffs_content(tmp_path: Path) -> None:
    plan_as_json = tmp_path / "exported.json"
    plan_as_json.write_text(SAMPLE_PLAN.read_text())
    assert read_mission(plan_as_json) == read_plan(SAMPLE_PLAN)
    wpl_as_mission = tmp_path / "route.mission"
    wpl_as_mission.write_text(waypoints_to_text(patrol_mission()))
    assert read_mission(wpl_as_mission) == _without_fences(patrol_mission())


# --------------------------------------------------------------------------- GeoJSON


def features(collection: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in collection["features"] if f["properties"]["kind"] == kind]


def test_geojson_of_a_mission() -> None:
    mission = patrol_mission()
    extra = {"type": "Feature", "geometry": None, "properties": {"kind": "note"}}
    collection = mission_to_geojson(mission, extra_features=[extra])
    json.dumps(collection, allow_nan=False)
    assert collection["type"] == "FeatureCollection"
    (home,) = features(collection, "home")
    assert home["geometry"]["coordinates"] == [120.125, 30.25, 12.5]
    (path,) = features(collection, "flight_path")
    coordinates = path["geometry"]["coordinates"]
    assert len(coordinates) == 5  # takeoff, 3 waypoints, loiter; not the speed change or RTL
    assert [c[2] for c in coordinates] == [12.5 + 30.0, 12.5 + 40.0, 95.25, 60.0, 60.0]
    assert path["properties"]["altitude_reference"] == "mixed"
    assert path["properties"]["vertex_altitude_references"] == ["amsl", "amsl", "amsl", "terrain", "terrain"]
    waypoints = features(collection, "waypoint")
    assert [w["properties"]["seq"] for w in waypoints] == [1, 3, 4, 5, 6]
    assert [w["properties"]["altitude_reference"] for w in waypoints] == [
        "home",
        "home",
        "amsl",
        "terrain",
        "terrain",
    ]
    assert waypoints[0]["properties"]["altitude_m"] == 30.0
    assert waypoints[0]["properties"]["altitude_amsl_m"] == 42.5
    assert waypoints[3]["properties"]["altitude_amsl_m"] is None
    fences = features(collection, "fence_polygon")
    assert [f["properties"]["inclusion"] for f in fences] == [True, False]
    for fence in fences:
        ring = fence["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]
        assert Polygon(ring).exterior.is_ccw  # RFC 7946 right-hand rule
    (circle,) = features(collection, "fence_circle")
    assert circle["properties"]["radius_m"] == 75.0
    (rally,) = features(collection, "rally_point")
    assert rally["geometry"]["coordinates"] == [120.1255, 30.2505, 12.5 + 35.0]
    assert collection["features"][-1] == extra


def test_geojson_follows_ardupilot_zero_means_here() -> None:
    mission = read_waypoints(shared_file("ardupilot_autotest_copter_mission.txt"))
    collection = mission_to_geojson(mission)
    waypoints = {w["properties"]["seq"]: w for w in features(collection, "waypoint")}
    loiter = waypoints[4]  # NAV_LOITER_TIME at 0, 0, 20 m: loiter where the previous waypoint was
    assert loiter["geometry"]["coordinates"][:2] == waypoints[2]["geometry"]["coordinates"][:2]
    assert loiter["properties"]["position_from_previous"] is True
    # seq 2 is a waypoint at 0 m: a copter keeps its altitude (20 m above home from the takeoff).
    assert waypoints[2]["geometry"]["coordinates"][2] == 582.0 + 20.0
    assert waypoints[2]["properties"]["altitude_from_previous"] is True


def test_geojson_file_of_a_real_plan(tmp_path: Path) -> None:
    write_geojson(read_plan(SURVEY_PLAN), tmp_path / "survey.geojson")
    collection = json.loads((tmp_path / "survey.geojson").read_text())
    (path,) = features(collection, "flight_path")
    assert len(path["geometry"]["coordinates"]) == 8  # the survey's 8 transect points
    assert all(c[2] == pytest.approx(483.4261075265049 + 50.0) for c in path["geometry"]["coordinates"])


# --------------------------------------------------------------------------- KML


def test_kml_of_a_mission(tmp_path: Path) -> None:
    write_kml(patrol_mission(), tmp_path / "patrol.kml")
    root = ET.parse(tmp_path / "patrol.kml").getroot()
    assert root.tag == f"{KML}kml"
    document = root.find(f"{KML}Document")
    assert document is not None
    lines = root.findall(f".//{KML}Placemark/{KML}MultiGeometry/{KML}LineString")
    assert [line.findtext(f"{KML}altitudeMode") for line in lines] == ["absolute", "relativeToGround"]
    counts = [len((line.findtext(f"{KML}coordinates") or "").split()) for line in lines]
    assert counts == [3, 2]
    first = (lines[0].findtext(f"{KML}coordinates") or "").split()[0]
    assert [float(v) for v in first.split(",")] == [120.125, 30.25, 42.5]
    folders = {f.findtext(f"{KML}name"): f for f in document.findall(f"{KML}Folder")}
    assert len(folders["Waypoints"].findall(f"{KML}Placemark")) == 5
    fence_rings = folders["Geofence"].findall(f".//{KML}LinearRing/{KML}coordinates")
    assert [len((r.text or "").split()) for r in fence_rings] == [5, 4, 73]  # closed rings; circle of 72
    assert len(folders["Rally points"].findall(f"{KML}Placemark")) == 1


def test_kml_of_a_real_plan_is_one_absolute_line() -> None:
    mission = read_plan(SAMPLE_PLAN)
    root = ET.fromstring(mission_to_kml(mission))
    (line,) = root.findall(f".//{KML}LineString")
    assert line.findtext(f"{KML}altitudeMode") == "absolute"
    coordinates = (line.findtext(f"{KML}coordinates") or "").split()
    assert len(coordinates) == sum(1 for i in mission.items if i.has_position) == 4
