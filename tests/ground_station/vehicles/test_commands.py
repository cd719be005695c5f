"""COMMAND_LONG with ACK, retries (confirmation counts up), IN_PROGRESS, typed refusals."""

from __future__ import annotations

import math

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.planning.resume import resume_mission
from ground_station.vehicles import (
    CommandDeniedError,
    CommandError,
    CommandFailedError,
    CommandTimeoutError,
    CommandTimeouts,
    CommandUnsupportedError,
    UnknownModeError,
)
from ground_station.vehicles.items import mission_wire_items
from tests.ground_station.vehicles.conftest import connect, same_items
from tests.ground_station.vehicles.test_mission_protocol import small_mission

FAST = CommandTimeouts(ack_s=0.15, retries=3, in_progress_s=2.0)
ARM = mavlink.MAV_CMD_COMPONENT_ARM_DISARM
R = mavlink


def test_accepted_first_time() -> None:
    with connect() as (fake, _link, vehicle):
        ack = vehicle.command_long(ARM, 1.0, timeouts=FAST)
        assert ack.result_name == "MAV_RESULT_ACCEPTED" and ack.tries == 1
        assert fake.armed


def test_lost_acks_are_retried_with_confirmation_counting_up() -> None:
    with connect() as (fake, _link, vehicle):
        fake.command_script[ARM] = [[], [], [R.MAV_RESULT_ACCEPTED]]
        ack = vehicle.command_long(ARM, 1.0, timeouts=FAST)
        assert ack.tries == 3
        assert [m.confirmation for m in fake.got("COMMAND_LONG") if m.command == ARM] == [0, 1, 2]


def test_in_progress_keeps_waiting_without_resending() -> None:
    with connect() as (fake, _link, vehicle):
        fake.command_script[ARM] = [
            [R.MAV_RESULT_IN_PROGRESS, R.MAV_RESULT_IN_PROGRESS, R.MAV_RESULT_ACCEPTED]
        ]
        ack = vehicle.command_long(ARM, 1.0, timeouts=FAST)
        assert ack.tries == 1
        assert len([m for m in fake.got("COMMAND_LONG") if m.command == ARM]) == 1


@pytest.mark.parametrize(
    ("result", "error", "builtin"),
    [
        (R.MAV_RESULT_DENIED, CommandDeniedError, PermissionError),
        (R.MAV_RESULT_TEMPORARILY_REJECTED, CommandDeniedError, PermissionError),
        (R.MAV_RESULT_FAILED, CommandFailedError, RuntimeError),
        (R.MAV_RESULT_UNSUPPORTED, CommandUnsupportedError, NotImplementedError),
    ],
)
def test_refusals_are_typed_and_carry_the_statustext(
    result: int, error: type[CommandError], builtin: type[Exception]
) -> None:
    with connect() as (fake, _link, vehicle):
        fake.command_script[ARM] = [[result]]
        fake.statustext_on_refusal = "PreArm: Need Position Estimate"
        with pytest.raises(error) as info:
            vehicle.command_long(ARM, 1.0, timeouts=FAST)
    assert isinstance(info.value, builtin)
    assert info.value.statustext == "PreArm: Need Position Estimate"
    assert "PreArm: Need Position Estimate" in str(info.value)
    assert info.value.command_name == "MAV_CMD_COMPONENT_ARM_DISARM"


def test_no_ack_at_all_times_out_after_every_try() -> None:
    with connect() as (fake, _link, vehicle):
        fake.command_script[ARM] = [[]] * 10
        with pytest.raises(CommandTimeoutError) as info:
            vehicle.command_long(ARM, 1.0, timeouts=FAST)
        assert isinstance(info.value, TimeoutError)
        assert len([m for m in fake.got("COMMAND_LONG") if m.command == ARM]) == FAST.retries + 1


def test_arm_retries_until_prearm_passes() -> None:
    with connect() as (fake, _link, vehicle):
        vehicle.command_timeouts = FAST
        fake.command_script[ARM] = [[R.MAV_RESULT_FAILED], [R.MAV_RESULT_FAILED], [R.MAV_RESULT_ACCEPTED]]
        fake.statustext_on_refusal = "PreArm: Need Position Estimate"
        vehicle.arm(wait_prearm_s=3.0, retry_interval_s=0.05)
        assert vehicle.state.armed
        fake.armed = False
        fake.command_script[ARM] = [[R.MAV_RESULT_FAILED]] * 100
        with pytest.raises(CommandFailedError, match="Need Position Estimate"):
            vehicle.arm(wait_prearm_s=0.3, retry_interval_s=0.05)


@pytest.mark.parametrize(
    ("name", "number"), [("GUIDED", 4), ("auto", 3), ("RTL", 6), ("LAND", 9), ("LOITER", 5)]
)
def test_set_mode_by_arducopter_name(name: str, number: int) -> None:
    with connect() as (fake, _link, vehicle):
        vehicle.set_mode(name, wait_s=2.0)
        cmd = [m for m in fake.got("COMMAND_LONG") if m.command == R.MAV_CMD_DO_SET_MODE][-1]
        assert (cmd.param1, cmd.param2) == (R.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, number)
        assert vehicle.state.mode == name.upper()


def test_unknown_mode_lists_the_known_ones() -> None:
    with connect() as (_fake, _link, vehicle), pytest.raises(UnknownModeError, match="GUIDED"):
        vehicle.set_mode("WARP")


def test_flight_commands_send_what_arducopter_expects() -> None:
    with connect() as (fake, _link, vehicle):
        vehicle.takeoff(25.0)
        vehicle.start_mission()
        vehicle.pause()
        vehicle.continue_mission()
        vehicle.set_mission_current(3)
        vehicle.rtl()
        vehicle.land()
        vehicle.disarm(force=True)
        sent = [
            (m.command, m.param1, m.param2) for m in fake.got("COMMAND_LONG") if m.command not in (511, 512)
        ]
        takeoff = next(m for m in fake.got("COMMAND_LONG") if m.command == R.MAV_CMD_NAV_TAKEOFF)
        assert takeoff.param7 == 25.0
        assert (R.MAV_CMD_DO_SET_MODE, 1.0, 4.0) in sent  # GUIDED before takeoff
        assert (R.MAV_CMD_DO_SET_MODE, 1.0, 3.0) in sent  # AUTO
        assert (R.MAV_CMD_MISSION_START, 0.0, 0.0) in sent
        assert (R.MAV_CMD_DO_PAUSE_CONTINUE, 0.0, 0.0) in sent
        assert (R.MAV_CMD_DO_PAUSE_CONTINUE, 1.0, 0.0) in sent
        assert (R.MAV_CMD_DO_SET_MISSION_CURRENT, 3.0, 0.0) in sent
        assert (R.MAV_CMD_DO_SET_MODE, 1.0, 6.0) in sent  # RTL
        assert (R.MAV_CMD_DO_SET_MODE, 1.0, 9.0) in sent  # LAND
        assert sent[-1] == (ARM, 0.0, 21196.0)


def test_resume_after_rtl_uploads_the_rest_and_starts_auto() -> None:
    mission = small_mission(5)
    with connect() as (fake, _link, vehicle):
        fake.lists[0] = mission_wire_items(mission)
        rest = vehicle.resume_after_rtl(reached_seq=5)  # item index 4 (4th item after home) reached
        expected = resume_mission(mission, resume_index=5)
        assert rest.items == expected.items
        assert same_items(fake.lists[0][1:], mission_wire_items(expected)[1:])
        assert fake.armed and fake.custom_mode == 3
        assert math.isfinite(fake.lists[0][0].z)
