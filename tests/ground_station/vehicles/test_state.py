"""Vehicle state, stream requests, health ok -> degraded -> lost -> ok, garbage on the link,
events (threads and asyncio), many links in a manager."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.vehicles import LinkHealth, VehicleEvent, VehicleManager
from ground_station.vehicles.state import HealthThresholds, mode_name, mode_numbers
from tests.ground_station.vehicles.conftest import FAST_HEALTH, FAST_MISSION, connect
from tests.ground_station.vehicles.fake_vehicle import FakeVehicle
from tests.ground_station.vehicles.test_mission_protocol import small_mission


def test_streams_and_home_are_requested_on_connect_and_fill_the_state() -> None:
    with connect() as (fake, _link, vehicle):
        fake.wait_for(lambda: fake.streams_requested)
        state = vehicle.wait_until(lambda s: s.has_position and s.home is not None, timeout_s=3)
        asked = {
            int(m.param1)
            for m in fake.got("COMMAND_LONG")
            if m.command == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL
        }
        assert {33, 30, 1, 147, 74, 24, 42} <= asked
        assert fake.got("REQUEST_DATA_STREAM")
        assert any(
            m.command == mavlink.MAV_CMD_REQUEST_MESSAGE and m.param1 == 242 for m in fake.got("COMMAND_LONG")
        )
        fake.statustext("PreArm: Need Position Estimate")
        state = vehicle.wait_until(lambda s: bool(s.statustext), timeout_s=2)
    assert state.firmware == "ardupilot" and state.mode == "STABILIZE" and not state.armed
    assert state.lat_deg == pytest.approx(47.397742) and state.altitude_amsl_m == pytest.approx(500.0)
    assert state.altitude_rel_m == pytest.approx(12.0) and state.heading_deg == pytest.approx(90.0)
    assert state.ground_speed_m_s == pytest.approx(5.0)
    assert state.battery_remaining_pct == 76 and state.battery_voltage_v == pytest.approx(12.6)
    assert state.gps_fix == "3D_FIX" and state.satellites_visible == 12
    assert state.home is not None and state.home.altitude_amsl_m == pytest.approx(488.0)
    assert state.last_statustext == "PreArm: Need Position Estimate"
    assert state.health == LinkHealth.OK


def test_position_near_0_0_is_no_position_until_home_arrives() -> None:
    with connect({"home": None, "position_deg": (0.0, 0.0)}) as (fake, _link, vehicle):
        fake.wait_for(lambda: fake.streams_requested)
        time.sleep(0.4)
        state = vehicle.state
        assert not state.has_position and state.messages_received > 5


def test_health_ok_degraded_lost_and_back() -> None:
    events: list[VehicleEvent] = []
    with connect() as (fake, link, vehicle):
        vehicle.wait_until(lambda s: s.health == LinkHealth.OK, timeout_s=2)
        link.add_listener(lambda e: events.append(e) if e.kind == "health" else None)
        fake.heartbeat_enabled = False
        t0 = time.monotonic()
        vehicle.wait_until(lambda s: s.health == LinkHealth.DEGRADED, timeout_s=2)
        vehicle.wait_until(lambda s: s.health == LinkHealth.LOST, timeout_s=2)
        assert time.monotonic() - t0 < FAST_HEALTH.lost_after_s + 1.0
        fake.heartbeat_enabled = True
        vehicle.wait_until(lambda s: s.health == LinkHealth.OK, timeout_s=2)
        fake.wait_for(lambda: events[-1].state is not None and events[-1].state.health == LinkHealth.OK)
    healths = [e.state.health for e in events if e.state]
    # a heartbeat late under load may add an ok/degraded flicker before the loss; the loss itself
    # goes degraded -> lost -> ok
    assert healths[-3:] == [LinkHealth.DEGRADED, LinkHealth.LOST, LinkHealth.OK], healths


def test_default_thresholds_lose_a_link_within_5_s() -> None:
    t = HealthThresholds()
    assert t.classify(0.9) == LinkHealth.OK
    assert t.classify(2.0) == LinkHealth.DEGRADED
    assert t.classify(5.0) == LinkHealth.LOST and t.lost_after_s < 5.0


def test_garbage_and_broken_packets_never_stop_the_reader() -> None:
    with connect() as (fake, link, vehicle):
        good = mavlink.MAVLink_statustext_message(6, b"still alive").pack(mavlink.MAVLink(None, 1, 1))
        bad_crc = bytearray(good)
        bad_crc[-1] ^= 0xFF
        fake.send_raw(os.urandom(300))
        fake.send_raw(bytes(bad_crc))
        fake.send_raw(b"\xfd\x09\x00\x00")  # a truncated header
        fake.send_raw(bytes(good[:10]) + os.urandom(50))  # a packet cut short, then noise
        fake.send_raw(b"\xfd\xff" + os.urandom(20))  # a header announcing 255 bytes that never come
        fake.send_raw(bytes(good))
        vehicle.wait_until(lambda s: "still alive" in s.statustext, timeout_s=2)
        assert link.bad_packets > 0
        # a handler that raises is logged, the thread keeps going
        link.add_listener(lambda e: 1 / 0)
        fake.statustext("after the bad listener")
        vehicle.wait_until(lambda s: "after the bad listener" in s.statustext, timeout_s=2)
        vehicle.upload_mission(small_mission(), mission_types=(vehicle_type_mission(),))


def vehicle_type_mission() -> object:
    from ground_station.vehicles import MissionType

    return MissionType.MISSION


@pytest.mark.parametrize(
    ("firmware", "mav_type", "custom_mode", "name"),
    [
        ("ardupilot", mavlink.MAV_TYPE_QUADROTOR, 4, "GUIDED"),
        ("ardupilot", mavlink.MAV_TYPE_QUADROTOR, 3, "AUTO"),
        ("ardupilot", mavlink.MAV_TYPE_FIXED_WING, 10, "AUTO"),
        ("px4", mavlink.MAV_TYPE_QUADROTOR, (4 << 16) | (4 << 24), "MISSION"),
        ("px4", mavlink.MAV_TYPE_QUADROTOR, (4 << 16) | (5 << 24), "RTL"),
        ("px4", mavlink.MAV_TYPE_QUADROTOR, 3 << 16, "POSCTL"),
    ],
)
def test_mode_names(firmware: str, mav_type: int, custom_mode: int, name: str) -> None:
    assert mode_name(firmware=firmware, mav_type=mav_type, base_mode=1, custom_mode=custom_mode) == name
    base, main, sub = mode_numbers(firmware=firmware, mav_type=mav_type, name=name) or (0, 0, 0)
    if firmware == "px4":
        assert (main << 16) | (sub << 24) == custom_mode
    else:
        assert main == custom_mode


def test_async_events_and_wrappers_do_not_block_the_loop() -> None:
    async def main() -> tuple[list[str], int]:
        with connect() as (fake, link, vehicle):
            fake.drop_counts = 2  # the upload waits 2 x 0.15 s for the vehicle: the loop must keep running
            stream = link.events_async()
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(ticker())
            await vehicle.upload_mission_async(small_mission(), mission_types=(vehicle_type_mission(),))
            ticks_during = ticks
            kinds = []
            async with stream:
                while len(kinds) < 5:
                    kinds.append((await asyncio.wait_for(stream.get(), 2)).kind)
            task.cancel()
            return kinds, ticks_during

    kinds, ticks = asyncio.run(main())
    assert "state" in kinds or "mission_progress" in kinds
    assert ticks > 10  # the loop ran while the upload was in flight


def test_manager_keys_vehicles_by_system_id_over_many_links() -> None:
    with (
        FakeVehicle(system_id=4) as a,
        FakeVehicle(system_id=9) as b,
        VehicleManager(mission_timeouts=FAST_MISSION, heartbeat_period_s=0.1) as fleet,
    ):
        seen: list[int] = []
        fleet.add_listener(lambda e: seen.append(e.system_id))
        fleet.add_link(f"udpout://127.0.0.1:{a.port}")
        fleet.add_link(f"udpout://127.0.0.1:{b.port}")
        assert fleet.wait_vehicle(4, timeout_s=3).link.url.endswith(str(a.port))
        assert fleet.wait_vehicle(9, timeout_s=3).link.url.endswith(str(b.port))
        assert sorted(fleet.vehicles()) == [4, 9]
        fleet.vehicle(9).upload_mission(small_mission(), mission_types=(vehicle_type_mission(),))
        assert b.uploads_completed == 1 and a.uploads_completed == 0
        assert {4, 9} <= set(seen)
