"""Flight logic of the simulated ArduCopter, stepped in virtual time (no sockets)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from geo.terrain_grid import TerrainDatabase, terrain_data
from sim.mission_store import FENCE, MissionItem
from sim.params import ParameterStore
from sim.vehicle import (
    FAILED,
    CameraTriggered,
    Ground,
    ItemReached,
    Mode,
    SimVehicle,
    StatusText,
    VehicleConfig,
)

HOME = (30.0, 110.0)
GROUND_M = 100.0
DT = 0.05


def make(
    settle_s: float = 1.0, terrain_db: Any = None, ground: Ground | None = None, **params: float
) -> SimVehicle:
    p = ParameterStore.from_file(overrides={"TERRAIN_ENABLE": 0, **params})
    cfg = VehicleConfig(
        home_lat_deg=HOME[0], home_lon_deg=HOME[1], home_alt_amsl_m=GROUND_M, settle_s=settle_s
    )
    return SimVehicle(cfg, params=p, ground=ground, terrain_db=terrain_db)


def run(v: SimVehicle, seconds: float, until: Any = None) -> float:
    t0 = v.time_s
    while v.time_s - t0 < seconds:
        v.step(DT)
        if until is not None and until(v):
            break
    return v.time_s - t0


def texts(v: SimVehicle) -> list[str]:
    return [e.text for e in v.events if isinstance(e, StatusText)]


def reached(v: SimVehicle) -> list[int]:
    return [e.seq for e in v.events if isinstance(e, ItemReached)]


def at(v: SimVehicle, east_m: float, north_m: float) -> tuple[int, int]:
    lat, lon = v.frame.to_geodetic(east_m, north_m)
    return round(lat * 1e7), round(lon * 1e7)


def item(v: SimVehicle, command: int, east_m: float = 0, north_m: float = 0, z: float = 0.0, frame: int = 3,
         **kw: float) -> MissionItem:  # fmt: skip
    x, y = at(v, east_m, north_m) if (east_m or north_m) else (0, 0)
    return MissionItem(seq=0, frame=frame, command=command, x=x, y=y, z=z, **kw)


def fly(v: SimVehicle, items: list[MissionItem], seconds: float = 600.0) -> float:
    v.mission.load([item(v, 16), *items])
    run(v, 2.0)
    assert v.set_mode(Mode.GUIDED)
    assert v.arm() == mavlink.MAV_RESULT_ACCEPTED
    assert v.command(mavlink.MAV_CMD_MISSION_START, ()) == mavlink.MAV_RESULT_ACCEPTED
    return run(v, seconds, until=lambda s: not s.armed)


def test_prearm_refused_before_settle_then_accepted() -> None:
    v = make(settle_s=10.0)
    v.set_mode(Mode.STABILIZE)
    assert v.arm() == FAILED
    assert {"PreArm: GPS: waiting for fix", "PreArm: Need Position Estimate"} <= set(texts(v))
    assert v.reported_position() == (0.0, 0.0) and v.home is None
    run(v, 6.0)
    v.events.clear()
    assert v.arm() == FAILED and texts(v) == ["PreArm: Need Position Estimate"]
    run(v, 4.5)
    assert v.home is not None and v.reported_position()[0] == pytest.approx(HOME[0])
    assert v.arm() == mavlink.MAV_RESULT_ACCEPTED


@pytest.mark.parametrize(
    ("mode", "ok"), [(Mode.RTL, False), (Mode.LAND, False), (Mode.LOITER, True), (Mode.GUIDED, True)]
)
def test_armable_modes(mode: Mode, ok: bool) -> None:
    v = make()
    run(v, 2)
    assert v.set_mode(mode)
    assert (v.arm() == mavlink.MAV_RESULT_ACCEPTED) is ok


def test_guided_takeoff_then_auto_disarm_after_land() -> None:
    v = make()
    run(v, 2)
    v.set_mode(Mode.GUIDED)
    assert v.arm() == mavlink.MAV_RESULT_ACCEPTED
    assert v.takeoff(20.0) == mavlink.MAV_RESULT_ACCEPTED
    run(v, 20)
    assert v.altitude_rel_home_m == pytest.approx(20.0, abs=0.3) and not v.landed
    assert v.takeoff(20.0) == mavlink.MAV_RESULT_ACCEPTED  # retry while flying: same target
    assert v.set_mode(Mode.LAND)
    run(v, 120, until=lambda s: not s.armed)
    assert not v.armed and v.landed


def test_takeoff_waypoints_rtl_land() -> None:
    v = make()
    t = fly(v, [item(v, 22, z=30), item(v, 16, 300, 0, 40), item(v, 16, 300, 300, 40), item(v, 20)])
    assert not v.armed and v.landed
    assert reached(v) == [1, 2, 3, 4]
    assert math.hypot(v.x_m, v.y_m) < 2.0
    # 600 m at <= 10 m/s + the way home (~424 m) + climbs and descents: cannot be faster than ~100 s
    assert 100 < t < 400
    assert any(t.startswith("Mission: 2 WP") for t in texts(v))


@pytest.mark.parametrize(
    ("frame", "z", "expected_amsl"), [(0, 180.0, 180.0), (3, 60.0, 160.0), (6, 60.0, 160.0)]
)
def test_altitude_frames(frame: int, z: float, expected_amsl: float) -> None:
    v = make()
    v.mission.load(
        [item(v, 16), item(v, 22, z=20), item(v, 16, 100, 0, z, frame=frame), item(v, 17, 100, 0, z, frame)]
    )
    run(v, 2)
    v.set_mode(Mode.GUIDED)
    v.arm()
    v.command(mavlink.MAV_CMD_MISSION_START, ())
    run(v, 120, until=lambda s: 2 in reached(s))
    run(v, 10)  # then loiter there
    assert v.alt_amsl_m == pytest.approx(expected_amsl, abs=0.2)


def _feed_terrain(v: SimVehicle, truth: Any) -> None:
    """Answer every TERRAIN_REQUEST as a ground station would."""
    for _ in range(50):
        req = v.terrain_request()
        if req is None:
            return
        for bit in range(56):
            if req.mask >> bit & 1:
                data = terrain_data(truth, req.lat_e7, req.lon_e7, req.spacing_m, bit)
                assert v.terrain_db is not None
                v.terrain_db.add(req.lat_e7, req.lon_e7, req.spacing_m, bit, data)


def _slope() -> Any:
    from affine import Affine

    from geo.terrain import Terrain

    # ground rising 1 m per 10 m eastward around home (WGS84 grid, ~ 0.001 deg posts)
    lats = np.linspace(30.05, 29.95, 101)
    lons = np.linspace(109.95, 110.05, 101)
    x_m = (lons - 110.0) * 111_320 * math.cos(math.radians(30.0))
    heights = np.tile(GROUND_M + np.clip(x_m, 0, None) / 10.0, (lats.size, 1))
    return Terrain(
        heights_m=heights, transform=Affine(0.001, 0, 109.9495, 0, -0.001, 30.0505), crs="EPSG:4326"
    )


def test_terrain_frame_refuses_to_arm_until_data_then_follows_terrain() -> None:
    truth = _slope()
    v = make(
        terrain_db=TerrainDatabase(spacing_m=100),
        ground=Ground(truth, flat_amsl_m=GROUND_M),
        TERRAIN_ENABLE=1,
    )
    v.mission.load([item(v, 16), item(v, 22, z=20, frame=10), item(v, 16, 800, 0, 50, frame=10), item(v, 20)])
    run(v, 2)
    v.set_mode(Mode.GUIDED)
    assert v.terrain_request() is not None
    assert v.arm() == FAILED and "PreArm: waiting for terrain data" in texts(v)
    _feed_terrain(v, truth)
    assert v.arm() == mavlink.MAV_RESULT_ACCEPTED
    v.command(mavlink.MAV_CMD_MISSION_START, ())
    run(v, 300, until=lambda s: 2 in reached(s))
    assert v.altitude_agl_m == pytest.approx(50.0, abs=3.0)
    assert v.alt_amsl_m > GROUND_M + 100  # the ground rose ~80 m under it


def test_jump_repeats_and_loiter_time() -> None:
    v = make()
    jump = MissionItem(seq=0, frame=2, command=177, param1=2, param2=2)
    t = fly(
        v, [item(v, 22, z=20), item(v, 19, 50, 0, 20, param1=10), item(v, 16, 0, 50, 20), jump, item(v, 21)]
    )
    assert reached(v) == [1, 2, 3, 2, 3, 2, 3, 5]
    assert t > 30  # three 10 s loiters


def test_change_speed_shortens_the_flight() -> None:
    legs = [(600, 0), (0, 0)]

    def duration(speed: float | None) -> float:
        v = make()
        extra = (
            []
            if speed is None
            else [MissionItem(seq=0, frame=2, command=178, param1=1, param2=speed, param3=-1)]
        )
        return fly(v, [item(v, 22, z=20), *extra, *(item(v, 16, e, n, 20) for e, n in legs), item(v, 21)])

    slow, fast = duration(None), duration(5.0)
    assert fast > slow * 1.5  # 5 m/s instead of 10 m/s


def test_end_of_mission_holds_in_auto() -> None:
    v = make()
    fly(v, [item(v, 22, z=20), item(v, 16, 100, 0, 20)], seconds=80)
    assert v.armed and not v.landed and v.mode == Mode.AUTO and v.mission_complete
    x = v.x_m
    run(v, 20)
    assert v.x_m == pytest.approx(x, abs=0.5) and v.altitude_rel_home_m == pytest.approx(20, abs=0.5)


def test_camera_distance_trigger_and_gimbal() -> None:
    v = make()
    cam = MissionItem(seq=0, frame=2, command=206, param1=50)
    mount = MissionItem(seq=0, frame=2, command=205, param1=-90)
    fly(v, [item(v, 22, z=20), mount, item(v, 16, 400, 0, 20), cam, item(v, 16, 0, 0, 20), item(v, 21)])
    shots = [e for e in v.events if isinstance(e, CameraTriggered)]
    assert 7 <= len(shots) <= 10  # every 50 m along 400 m
    assert v.gimbal_pitch_deg == -90


def test_battery_low_rtl_then_critical_land() -> None:
    v = make(BATT_CAPACITY=300, BATT_LOW_MAH=150, BATT_CRT_MAH=50)
    fly(v, [item(v, 22, z=30), item(v, 17, 2000, 0, 30)], seconds=1200)
    said = texts(v)
    assert any(t.startswith("Battery 1 is low") for t in said)
    assert not v.armed and v.landed


def test_battery_low_switches_to_rtl() -> None:
    v = make(BATT_CAPACITY=400, BATT_LOW_MAH=300, BATT_CRT_MAH=0)
    v.mission.load([item(v, 16), item(v, 22, z=30), item(v, 17, 2000, 0, 30)])
    run(v, 2)
    v.set_mode(Mode.GUIDED)
    v.arm()
    v.command(mavlink.MAV_CMD_MISSION_START, ())
    run(v, 400, until=lambda s: s.mode == Mode.RTL)
    assert v.mode == Mode.RTL and v.batt_low


def test_fence_polygon_breach_rtl() -> None:
    v = make(FENCE_ENABLE=1, FENCE_TYPE=4, FENCE_ACTION=1)
    corners = [(-100, -100), (100, -100), (100, 100), (-100, 100)]
    fence = [MissionItem(seq=i, frame=5, command=5001, param1=4, x=at(v, e, n)[0], y=at(v, e, n)[1],
                         mission_type=FENCE) for i, (e, n) in enumerate(corners)]  # fmt: skip
    v.mission.load(fence, FENCE)
    fly(v, [item(v, 22, z=20), item(v, 16, 400, 0, 20)], seconds=200)
    assert "Fence Breached: Polygon" in texts(v)
    assert not v.armed and v.landed and math.hypot(v.x_m, v.y_m) < 3


@pytest.mark.parametrize(
    ("options", "expect_mode", "speedup"),
    [(0, Mode.RTL, 1.0), (2, Mode.AUTO, 1.0), (0, Mode.RTL, 8.0)],
    ids=["rtl", "continue-in-auto", "rtl-at-speedup"],
)
def test_gcs_loss(options: int, expect_mode: Mode, speedup: float) -> None:
    """FS_GCS_TIMEOUT counts wall seconds: at 8x, 5 s of silence is 40 s of flight."""
    v = make(FS_GCS_ENABLE=1, FS_GCS_TIMEOUT=5, FS_OPTIONS=options)
    v.link_time_scale = speedup
    v.mission.load([item(v, 16), item(v, 22, z=20), item(v, 17, 300, 0, 20)])
    run(v, 2)
    v.set_mode(Mode.GUIDED)
    v.arm()
    v.command(mavlink.MAV_CMD_MISSION_START, ())
    run(v, 10)
    v.note_gcs_heartbeat()  # last heartbeat, then silence
    run(v, 4.5 * speedup)
    assert not v.gcs_failsafe
    run(v, 1.0 * speedup)
    assert v.gcs_failsafe and v.mode == expect_mode
    v.note_gcs_heartbeat()
    assert "GCS Failsafe Cleared" in texts(v)


def test_pause_and_continue() -> None:
    v = make()
    v.mission.load([item(v, 16), item(v, 22, z=20), item(v, 16, 500, 0, 20), item(v, 21)])
    run(v, 2)
    v.set_mode(Mode.GUIDED)
    v.arm()
    v.command(mavlink.MAV_CMD_MISSION_START, ())
    run(v, 20)
    assert v.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, (0,)) == mavlink.MAV_RESULT_ACCEPTED
    run(v, 5)
    x = v.x_m
    run(v, 10)
    assert v.x_m == pytest.approx(x, abs=0.2)
    assert v.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, (1,)) == mavlink.MAV_RESULT_ACCEPTED
    run(v, 10)
    assert v.x_m > x + 30


def test_set_mission_current_jumps_and_rejects_past_the_end() -> None:
    v = make()
    v.mission.load([item(v, 16), item(v, 22, z=20), item(v, 16, 500, 0, 20), item(v, 16, 0, 100, 20)])
    assert not v.set_mission_current(9)
    assert v.set_mission_current(3)
    assert v.mission_seq == 3


def test_unknown_command_unsupported() -> None:
    assert make().command(31337, ()) == mavlink.MAV_RESULT_UNSUPPORTED


def test_do_commands_run_once_when_their_nav_command_starts() -> None:
    """ArduPilot keeps separate NAV and DO cursors: a DO command after a waypoint runs as the
    waypoint starts, and not again when the waypoint completes (a bug once shot twice)."""
    v = make()
    shoot = MissionItem(seq=0, frame=2, command=mavlink.MAV_CMD_DO_DIGICAM_CONTROL, x=1)
    fly(v, [item(v, 22, z=20), item(v, 16, 100, 0, 20), shoot, item(v, 16, 0, 0, 20), item(v, 21)])
    assert len([e for e in v.events if isinstance(e, CameraTriggered)]) == 1
    assert texts(v).count("Mission: 3 DO_DIGICAM_CONTROL") == 1
    assert reached(v) == [1, 2, 4, 5]
