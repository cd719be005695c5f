"""The functions the CLI wires: upload_file, download_to, fly_file, exit_code."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground_station.planning.errors import MissionFileError
from ground_station.planning.formats import read_mission, write_mission
from ground_station.vehicles import (
    BadVehicleUrlError,
    CommandDeniedError,
    CommandTimeoutError,
    FlightError,
    MissionRejectedError,
    MissionTimeoutError,
    VehicleEvent,
    VehicleNotFoundError,
)
from ground_station.vehicles.cli_ops import download_to, exit_code, fly_file, upload_file
from tests.ground_station.vehicles.conftest import FIXTURES
from tests.ground_station.vehicles.fake_vehicle import FakeVehicle
from tests.ground_station.vehicles.test_mission_protocol import small_mission


def test_upload_file_then_download_to(tmp_path: Path) -> None:
    path = tmp_path / "m.plan"
    write_mission(small_mission(), path)
    with FakeVehicle() as fake:
        url = f"udpout://127.0.0.1:{fake.port}"
        result = upload_file(path, url)
        assert (result.mission_items, result.fence_items, result.rally_items) == (8, 8, 1)  # home + 7 items
        out = download_to(url, tmp_path / "back.plan")
    back = read_mission(out.path)
    assert back.items == small_mission().items and back.fence_polygons == small_mission().fence_polygons
    assert out.mission_items == 7 and out.rally_points == 1


def test_upload_file_reads_qgc_plans_and_one_mission_type() -> None:
    with FakeVehicle() as fake:
        result = upload_file(
            FIXTURES / "mavsdk_qgroundcontrol_sample.plan", f"udpout://127.0.0.1:{fake.port}", "mission"
        )
        assert result.fence_items == 0 and result.mission_items == len(fake.lists[0])


def test_fly_file_follows_the_mission_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "m.waypoints"
    write_mission(small_mission(), path)
    events: list[VehicleEvent] = []
    with FakeVehicle() as fake:
        fake.autofly_step_s = 0.05
        result = fly_file(path, f"udpout://127.0.0.1:{fake.port}", None, 20.0, events.append)
    phases = [e.text for e in events if e.kind == "phase"]
    assert phases == ["connecting", "waiting_home", "uploading", "arming", "flying", "done"]
    assert result.last_reached_seq == len(small_mission().items)  # seq 0 is home
    assert any(e.kind == "item_reached" for e in events)


def test_fly_file_times_out_as_a_flight_error(tmp_path: Path) -> None:
    path = tmp_path / "m.waypoints"
    write_mission(small_mission(), path)
    with FakeVehicle() as fake, pytest.raises(FlightError, match="did not complete"):
        fly_file(path, f"udpout://127.0.0.1:{fake.port}", timeout_s=1.5)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (BadVehicleUrlError("x"), 2),
        (MissionFileError("x"), 2),
        (FileNotFoundError("x"), 2),
        (VehicleNotFoundError("x"), 3),
        (MissionTimeoutError("x"), 3),
        (CommandTimeoutError("x", command_name="c", result_name="TIMEOUT"), 3),
        (MissionRejectedError("x", result_code=4, result_name="MAV_MISSION_NO_SPACE"), 4),
        (CommandDeniedError("x", command_name="c", result_name="DENIED"), 4),
        (FlightError("x"), 5),
        (RuntimeError("x"), 1),
    ],
)
def test_exit_codes(error: BaseException, code: int) -> None:
    assert exit_code(error) == code
