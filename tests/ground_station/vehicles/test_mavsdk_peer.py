"""Proof against a real third-party peer: MAVSDK's vehicle-side ``mission_raw_server``
(the C++ library behind the ``mavsdk`` wheel) receives our uploads item for item."""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ground_station.planning.formats import read_mission
from ground_station.planning.mission import Mission
from ground_station.vehicles import MissionTimeouts, MissionType, VehicleLink
from ground_station.vehicles.items import WireItem, mission_wire_items
from tests.ground_station.vehicles.conftest import FIXTURES

mavsdk = pytest.importorskip("mavsdk")
from mavsdk.plugins.mission_raw_server.mission_raw_server import (  # noqa: E402
    MissionRawServer,
    MissionRawServerResult,
)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mavsdk_vehicle() -> Iterator[tuple[int, list[Any], threading.Event]]:
    """A MAVSDK autopilot with a mission_raw_server on a UDP port; yields (port, missions, event)."""
    port = _free_udp_port()
    config = mavsdk.Configuration.create_with_component_type(mavsdk.ComponentType.AUTOPILOT)
    instance = mavsdk.Mavsdk(config)
    try:
        result = instance.add_any_connection(f"udpin://127.0.0.1:{port}")
        assert int(result) == 0, f"MAVSDK could not listen: {result}"
        server = MissionRawServer(instance.server_component())
        received: list[Any] = []
        arrived = threading.Event()

        def on_mission(result: Any, plan: Any, _user: Any) -> None:
            received.append((result, plan))
            arrived.set()

        server.subscribe_incoming_mission(on_mission)
        yield port, received, arrived
    finally:
        instance.destroy()


def _as_tuple(item: WireItem | Any) -> tuple[Any, ...]:
    def f32(v: float) -> Any:
        import numpy as np

        return "nan" if math.isnan(v) else float(np.float32(v))

    return (
        int(item.command), int(item.frame), f32(item.param1), f32(item.param2), f32(item.param3),
        f32(item.param4), int(item.x), int(item.y), f32(item.z), bool(item.autocontinue),
    )  # fmt: skip


@pytest.mark.parametrize(
    "plan", ["mavsdk_qgroundcontrol_sample.plan", "mavsdk_qgroundcontrol_sample_with_survey.plan"]
)
@pytest.mark.parametrize("firmware", ["px4", "ardupilot"])
def test_mavsdk_mission_raw_server_receives_our_upload(
    mavsdk_vehicle: tuple[int, list[Any], threading.Event], plan: str, firmware: str
) -> None:
    port, received, arrived = mavsdk_vehicle
    mission: Mission = read_mission(FIXTURES / plan)
    expected = mission_wire_items(mission, firmware=firmware)
    with VehicleLink.open(
        f"udpout://127.0.0.1:{port}",
        heartbeat_period_s=0.2,
        mission_timeouts=MissionTimeouts(upload_attempts=1),
    ) as link:
        vehicle = link.wait_vehicle(timeout_s=10)
        assert vehicle.firmware == "generic"  # MAVSDK's autopilot names no firmware
        # upload + read-back + compare, against MAVSDK's implementation of the vehicle side
        report = vehicle.upload_mission(mission, mission_types=(MissionType.MISSION,), firmware=firmware)
        assert report.mission_items == len(expected)
        assert arrived.wait(5), "MAVSDK never reported the incoming mission"
        result, plan_got = received[-1]
        assert result == MissionRawServerResult.SUCCESS
        got = plan_got.mission_items
        assert [i.seq for i in got] == list(range(len(expected)))
        assert {i.mission_type for i in got} == {0}
        for seq, (ours, theirs) in enumerate(zip(expected, got, strict=True)):
            assert _as_tuple(ours) == _as_tuple(theirs), f"item {seq}"
        # and back: download from MAVSDK gives the same items
        back = vehicle.download_items(MissionType.MISSION)
        assert [_as_tuple(i) for i in back] == [_as_tuple(i) for i in expected]
