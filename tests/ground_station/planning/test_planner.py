"""The planner end to end: the example missions, fences, sorties, limits, resume, the CLI."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, Polygon
from typer.testing import CliRunner

from ground_station.planning.errors import InvalidAreaError, MissionFileError, PlanLimitError
from ground_station.planning.formats import read_mission, read_plan, write_plan
from ground_station.planning.geometry import area_from_geojson
from ground_station.planning.mission import MavCmd, MavFrame, Mission
from ground_station.planning.planner import PatrolPlanner, PlannedPatrol, plan_patrol
from ground_station.planning.resume import resume_mission
from ground_station.planning.spec import load_spec
from shanshui.cli import app

REPO = Path(__file__).resolve().parents[3]
SPECS = sorted((REPO / "missions").glob("*.yaml"))


@pytest.fixture(scope="module")
def wildcat() -> PlannedPatrol:
    return plan_patrol(load_spec(REPO / "missions" / "wildcat-fire-survey.yaml").request())


def test_there_are_four_example_missions() -> None:
    assert {p.stem for p in SPECS} >= {
        "wildcat-fire-survey",
        "androscoggin-corridor",
        "umbagog-shore-perimeter",
        "valley-reservoir-survey",
    }


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_example_missions_plan_and_their_plan_files_load_back_equal(spec_path: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_path)
    plan = plan_patrol(spec.request())
    assert plan.sorties
    for k, mission in enumerate(plan.missions):
        path = tmp_path / f"sortie{k}.plan"
        write_plan(mission, path)
        assert read_plan(path) == mission
        check_flyable(plan, mission)


def check_flyable(plan: PlannedPatrol, mission: Mission) -> None:
    """Every position inside the inclusion fence, out of exclusions, within limits."""
    req = plan.request
    fences = mission.fence_polygons
    inclusion = Polygon([(lon, lat) for lat, lon in fences[0].vertices_deg])
    exclusions = [Polygon([(lon, lat) for lat, lon in f.vertices_deg]) for f in fences[1:]]
    assert fences[0].inclusion and not any(f.inclusion for f in fences[1:])
    positions = [it for it in mission.items if it.has_position]
    for it in positions:
        p = Point(it.lon_deg, it.lat_deg)
        assert inclusion.covers(p)
        assert not any(e.contains(p) for e in exclusions)
    assert len(mission.items) <= req.vehicle.mission_item_limit
    assert mission.items[0].command == MavCmd.NAV_TAKEOFF
    assert mission.items[-1].command == MavCmd.NAV_RETURN_TO_LAUNCH
    triggers = [it.param1 for it in mission.items if it.command == MavCmd.DO_SET_CAM_TRIGG_DIST]
    assert triggers and triggers[-1] == 0  # the camera is off on the way home


def test_sorties_fit_the_battery_and_cover_the_path_once(wildcat: PlannedPatrol) -> None:
    budget = wildcat.request.vehicle.usable_endurance_s
    ranges = [s.coverage_range for s in wildcat.sorties]
    assert ranges[0][0] == 0 and ranges[-1][1] == len(wildcat.coverage.vertices)
    assert all(a[1] - 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # every leg flown
    assert all(s.flight_time_s <= budget for s in wildcat.sorties)
    assert len(wildcat.sorties) >= 2


def test_a_sortie_that_starts_mid_pass_switches_the_camera_on(wildcat: PlannedPatrol) -> None:
    for sortie in wildcat.sorties[1:]:
        start = sortie.coverage_range[0]
        before = [
            v.camera_trigger_m
            for v in wildcat.coverage.vertices[: start + 1]
            if v.camera_trigger_m is not None
        ]
        if before and before[-1]:
            cams = [it for it in sortie.mission.items if it.command == MavCmd.DO_SET_CAM_TRIGG_DIST]
            assert cams[0].param1 == pytest.approx(before[-1], abs=0.01)


def test_survey_respects_the_exclusion_zone(wildcat: PlannedPatrol) -> None:
    hole = Polygon(wildcat.request.area.geometry.interiors[0])
    for sortie in wildcat.sorties:
        lat, lon = wildcat.frame.to_geodetic(sortie.xy[:, 0], sortie.xy[:, 1])
        from shapely.geometry import LineString

        assert not hole.intersects(LineString(np.column_stack([lon, lat])))


def test_heights_follow_the_terrain_in_relative_frame(wildcat: PlannedPatrol) -> None:
    req = wildcat.request
    for sortie in wildcat.sorties:
        home = sortie.mission.home
        wps = [it for it in sortie.mission.items if it.command == MavCmd.NAV_WAYPOINT]
        assert {it.frame for it in wps} == {MavFrame.GLOBAL_RELATIVE_ALT}
        agl = [
            home.altitude_amsl_m + it.altitude_m - req.terrain.elevation(it.lat_deg, it.lon_deg) for it in wps
        ]
        assert min(agl) >= req.agl_m - req.tolerance_m - 1e-6
        assert max(agl) <= 120.0
        assert sortie.profile is not None and sortie.profile.clearance.violations == 0


@pytest.mark.parametrize(("mode", "frame"), [("absolute", 0), ("relative", 3), ("terrain-frame", 10)])
def test_altitude_modes_write_their_frame(mode: str, frame: int) -> None:
    spec = load_spec(REPO / "missions" / "valley-reservoir-survey.yaml", terrain_mode=mode, agl_m=70)
    plan = plan_patrol(spec.request())
    m = plan.missions[0]
    wps = [it for it in m.items if it.command == MavCmd.NAV_WAYPOINT]
    assert {it.frame for it in wps} == {frame}
    if frame == 10:
        assert {it.altitude_m for it in wps} == {70.0}
        assert plan.stats.min_clearance_m is None
    else:
        terrain = plan.request.terrain
        base = m.home.altitude_amsl_m if frame == 3 else 0.0
        agl = [base + it.altitude_m - terrain.elevation(it.lat_deg, it.lon_deg) for it in wps]
        assert min(agl) >= 70 - 10 - 1e-6


def test_item_limit_and_sortie_cap_split_more(tmp_path: Path) -> None:
    spec = load_spec(REPO / "missions" / "valley-reservoir-survey.yaml")
    req = spec.request()
    few = dataclasses.replace(req, vehicle=dataclasses.replace(req.vehicle, mission_item_limit=40))
    plan = plan_patrol(few)
    assert all(len(m.items) <= 40 for m in plan.missions)
    assert len(plan.sorties) > len(plan_patrol(req).sorties)
    capped = plan_patrol(dataclasses.replace(req, max_sortie_s=600.0))
    assert all(s.flight_time_s <= 600.0 for s in capped.sorties)


def geojson_polygon(coords: list[tuple[float, float]]) -> dict:
    return {"type": "Polygon", "coordinates": [coords]}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            geojson_polygon(
                [(-71.23, 44.22), (-71.22, 44.23), (-71.23, 44.23), (-71.22, 44.22), (-71.23, 44.22)]
            ),
            "not valid: Self-intersection",
        ),
        (geojson_polygon([(-71.23, 44.22), (-71.22, 44.22), (-71.23, 44.22)]), "no area"),
        ({"type": "Point", "coordinates": [-71.2, 44.2]}, "expected a Polygon or LineString"),
        (geojson_polygon([(44.22, -71.23), (44.23, -71.23), (44.23, -71.22), (44.22, -71.23)]), None),
        ({"type": "FeatureCollection", "features": []}, "exactly one geometry"),
        ([1, 2], "expected a GeoJSON object"),
    ],
)
def test_bad_areas_get_clear_errors(doc: object, message: str | None) -> None:
    if message is None:  # lat/lon swapped: still a valid shape, but off the DEM
        area = area_from_geojson(doc)
        spec = load_spec(REPO / "missions" / "wildcat-fire-survey.yaml")
        with pytest.raises(InvalidAreaError, match="leaves the DEM"):
            PatrolPlanner(dataclasses.replace(spec.request(), area=area))
        return
    with pytest.raises(InvalidAreaError, match=message):
        area_from_geojson(doc)


def test_heights_over_the_ceiling_are_refused() -> None:
    spec = load_spec(REPO / "missions" / "wildcat-fire-survey.yaml", agl_m=150)
    with pytest.raises(PlanLimitError, match="ceiling"):
        PatrolPlanner(spec.request())


def test_spec_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("area: a.geojson\npattern: zigzag\ndem: d.hgt\nside_overlap: 1.5\n")
    with pytest.raises(MissionFileError, match=r"pattern: .*survey.*side_overlap"):
        load_spec(bad)


def test_resume_carries_speed_gimbal_and_camera_forward(wildcat: PlannedPatrol) -> None:
    mission = wildcat.missions[0]
    items = mission.items
    # Resume at a waypoint in the middle of a pass: after an entry trigger, before its exit.
    entry = next(
        k for k, it in enumerate(items) if it.command == MavCmd.DO_SET_CAM_TRIGG_DIST and it.param1 > 0
    )
    target = next(k for k in range(entry + 1, len(items)) if items[k].command == MavCmd.NAV_WAYPOINT)
    resumed = resume_mission(mission, resume_index=target, terrain=wildcat.request.terrain)
    cmds = [it.command for it in resumed.items]
    assert cmds[0] == MavCmd.NAV_TAKEOFF
    assert MavCmd.DO_CHANGE_SPEED in cmds and MavCmd.DO_MOUNT_CONTROL in cmds
    leg_start = next(k for k in range(target - 1, -1, -1) if items[k].has_position)
    k = resumed.items.index(items[leg_start])
    assert resumed.items[k + 1].command == MavCmd.DO_SET_CAM_TRIGG_DIST and resumed.items[k + 1].param1 > 0
    assert resumed.items[k + 2 :] == items[target:]
    speed = next(it for it in resumed.items if it.command == MavCmd.DO_CHANGE_SPEED)
    assert speed.param2 == pytest.approx(8.0)
    # The transit from home clears the terrain.
    home = resumed.home
    for it in resumed.items[1:k]:
        if it.has_position:
            ground = wildcat.request.terrain.elevation(it.lat_deg, it.lon_deg)
            assert home.altitude_amsl_m + it.altitude_m - ground >= 70.0 - 1e-6


def test_resume_shifts_jumps_and_refuses_backward_ones(wildcat: PlannedPatrol) -> None:
    from ground_station.planning.mission import MissionItem

    mission = wildcat.missions[0]
    positions = [k for k, it in enumerate(mission.items) if it.command == MavCmd.NAV_WAYPOINT]
    target = positions[3]
    jump_fwd = MissionItem(command=MavCmd.DO_JUMP, frame=MavFrame.MISSION, param1=target + 2, param2=1)
    jump_back = MissionItem(command=MavCmd.DO_JUMP, frame=MavFrame.MISSION, param1=1, param2=1)
    with_jump = dataclasses.replace(mission, items=(*mission.items, jump_fwd))
    resumed = resume_mission(with_jump, resume_index=target)
    new_jump = resumed.items[-1]
    assert resumed.items[int(new_jump.param1) - 1] == mission.items[target + 1]
    with pytest.raises(PlanLimitError, match="jumps back"):
        resume_mission(dataclasses.replace(mission, items=(*mission.items, jump_back)), resume_index=target)
    with pytest.raises(PlanLimitError, match="resume index"):
        resume_mission(mission, resume_index=len(mission.items))


def test_cli_plans_an_area_file_into_every_format(tmp_path: Path) -> None:
    runner = CliRunner()
    area = REPO / "missions" / "areas" / "wildcat-slope.geojson"
    outs = [tmp_path / f"p.{ext}" for ext in ("plan", "waypoints", "geojson", "kml")]
    args = [
        "plan",
        str(area),
        "--pattern",
        "survey",
        "--dem",
        str(REPO / "missions/dem/N44W072.hgt"),
        "--agl-m",
        "70",
        "--home",
        "44.2240,-71.2520",
        "--side-overlap",
        "0.3",
        "--max-leg-s",
        "900",
    ]
    for out in outs:
        args += ["--out", str(out)]
    result = runner.invoke(app, [*args, "--preview", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert "min clearance" in result.output and "sortie(s)" in result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.endswith(".plan") for n in written) and "p.png" in written
    plan_file = sorted(tmp_path.glob("p*.plan"))[0]
    wpl_file = sorted(tmp_path.glob("p*.waypoints"))[0]
    assert read_mission(wpl_file).items == read_plan(plan_file).items
    geo = json.loads(next(tmp_path.glob("p*.geojson")).read_text())
    assert geo["type"] == "FeatureCollection"
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--pattern", "zigzag"], "pattern"),
        (["--home", "north"], "--home LAT,LON"),
        (["--agl-m", "500"], "ceiling"),
        (["--pattern", "corridor"], "corridor"),
    ],
)
def test_cli_bad_input_exits_non_zero_with_one_line(tmp_path: Path, extra: list[str], reason: str) -> None:
    args = [
        "plan",
        str(REPO / "missions/areas/wildcat-slope.geojson"),
        "--pattern",
        "survey",
        "--dem",
        str(REPO / "missions/dem/N44W072.hgt"),
        "--out",
        str(tmp_path / "x.plan"),
    ]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and reason in lines[0], result.output
    assert not list(tmp_path.glob("*.plan"))


def test_flight_time_grows_with_a_slower_vehicle() -> None:
    spec = load_spec(REPO / "missions" / "valley-reservoir-survey.yaml", terrain_mode="terrain-frame")
    req = spec.request()
    fast = plan_patrol(req).stats.flight_time_s
    slow = plan_patrol(dataclasses.replace(req, speed_m_s=6.0)).stats.flight_time_s
    assert slow > fast * 1.3
    assert math.isfinite(fast)


def test_pymavlink_loads_our_waypoints_files_as_mavproxy_does(wildcat: PlannedPatrol, tmp_path: Path) -> None:
    """MAVProxy's `wp load` is pymavlink's MAVWPLoader: it must read back what we wrote."""
    from pymavlink import mavwp

    from ground_station.planning.formats import write_waypoints

    mission = wildcat.missions[0]
    path = tmp_path / "sortie.waypoints"
    write_waypoints(mission, path)
    loader = mavwp.MAVWPLoader()
    assert loader.load(str(path)) == len(mission.items) + 1  # home is item 0
    home = loader.wp(0)
    assert (home.x, home.y) == pytest.approx((mission.home.lat_deg, mission.home.lon_deg), abs=1e-6)
    for k, item in enumerate(mission.items, start=1):
        got = loader.wp(k)
        assert (got.seq, got.command, got.frame) == (k, item.command, item.frame)
        assert got.x == pytest.approx(item.lat_deg, abs=1e-6)
        assert got.y == pytest.approx(item.lon_deg, abs=1e-6)
        assert got.z == pytest.approx(item.altitude_m, abs=1e-3)
        assert got.param1 == pytest.approx(item.param1, abs=1e-6)
