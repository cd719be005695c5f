"""Mission protocol client against the scripted fake vehicle: both request kinds, duplicates,
out-of-order requests, every MISSION_ACK error, timeouts with re-sends, read-back mismatch."""

from __future__ import annotations

import math

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

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
from ground_station.vehicles import (
    MissionProtocolError,
    MissionRejectedError,
    MissionTimeoutError,
    MissionType,
    MissionUnconfirmedError,
    MissionVerifyError,
)
from ground_station.vehicles.items import mission_wire_items
from ground_station.vehicles.mission_protocol import MissionClient
from tests.ground_station.vehicles.conftest import FAST_MISSION, connect, same_items

HOME = HomePosition(lat_deg=47.397742, lon_deg=8.545594, altitude_amsl_m=488.0)


def small_mission(n: int = 4) -> Mission:
    items = [
        MissionItem(
            command=MavCmd.NAV_TAKEOFF,
            param4=math.nan,
            lat_deg=HOME.lat_deg,
            lon_deg=HOME.lon_deg,
            altitude_m=30.0,
        )
    ]
    items.append(
        MissionItem(command=MavCmd.DO_CHANGE_SPEED, frame=MavFrame.MISSION, param1=1, param2=8.5, param3=-1)
    )
    for k in range(n):
        items.append(
            MissionItem(
                command=MavCmd.NAV_WAYPOINT,
                lat_deg=round(HOME.lat_deg + 0.0011 * (k + 1), 7),
                lon_deg=round(HOME.lon_deg + 0.0007 * k, 7),
                altitude_m=40.0 + 0.1 * k,
            )
        )
    items.append(MissionItem(command=MavCmd.NAV_RETURN_TO_LAUNCH, frame=MavFrame.MISSION))
    return Mission(
        home=HOME,
        items=tuple(items),
        fence_polygons=(
            FencePolygon(
                inclusion=True, vertices_deg=((47.39, 8.54), (47.41, 8.54), (47.41, 8.56), (47.39, 8.56))
            ),
            FencePolygon(inclusion=False, vertices_deg=((47.400, 8.550), (47.401, 8.550), (47.401, 8.551))),
        ),
        fence_circles=(FenceCircle(inclusion=False, lat_deg=47.405, lon_deg=8.548, radius_m=35.5),),
        rally_points=(RallyPoint(lat_deg=47.398, lon_deg=8.546, altitude_m=25.0),),
    )


@pytest.mark.parametrize("request_kind", ["MISSION_REQUEST", "MISSION_REQUEST_INT"])
def test_upload_answers_both_request_kinds_with_item_int(request_kind: str) -> None:
    mission = small_mission()
    with connect({}) as (fake, _link, vehicle):
        fake.request_kind = request_kind
        report = vehicle.upload_mission(mission)
        assert report.mission_items == len(mission.items) + 1
        assert report.fence_items == 8 and report.rally_items == 1
        assert same_items(fake.lists[0], mission_wire_items(mission))
        assert not fake.got("MISSION_ITEM")  # never the float form
        got = vehicle.download_mission()
    assert got.items == mission.items
    assert got.home == HomePosition(lat_deg=47.397742, lon_deg=8.545594, altitude_amsl_m=488.0)
    assert got.fence_polygons == mission.fence_polygons
    assert got.fence_circles == mission.fence_circles
    assert got.rally_points == mission.rally_points


@pytest.mark.parametrize(
    ("name", "script"),
    [
        ("duplicates", lambda n: [0, 0, 1, 1, 2, *range(2, n)]),
        ("earlier item again", lambda n: [0, 1, 2, 1, 2, *range(3, n)]),
        ("out of order", lambda n: [0, 2, 1, *range(3, n)]),
    ],
)
def test_duplicate_and_out_of_order_requests_get_the_item_asked_for(name: str, script: object) -> None:
    mission = small_mission()
    with connect() as (fake, _link, vehicle):
        fake.request_script = script  # type: ignore[assignment]
        vehicle.upload_mission(mission, mission_types=(MissionType.MISSION,))
        sent = [m.seq for m in fake.got("MISSION_ITEM_INT")]
        assert sent[: len(script(len(mission.items) + 1))] == script(len(mission.items) + 1)  # type: ignore[operator]
        assert same_items(fake.lists[0], mission_wire_items(mission))


ERROR_RESULTS = [
    code for code in mavlink.enums["MAV_MISSION_RESULT"] if 0 < code < mavlink.MAV_MISSION_RESULT_ENUM_END
]


@pytest.mark.parametrize("code", ERROR_RESULTS)
def test_every_mission_ack_error_is_a_typed_rejection(code: int) -> None:
    with connect() as (fake, _link, vehicle):
        fake.count_result = code
        with pytest.raises(MissionRejectedError) as info:
            vehicle.upload_mission(small_mission(), mission_types=(MissionType.MISSION,))
    error = info.value
    name = mavlink.enums["MAV_MISSION_RESULT"][code].name
    assert (error.result_code, error.result_name) == (code, name)
    assert name in str(error)
    assert error.vehicle_mission == "unchanged"
    assert isinstance(error, ValueError) and isinstance(error, MissionProtocolError)
    assert fake.clears == 0  # nothing written, nothing to clear


def test_rejected_item_mid_upload_clears_the_mission() -> None:
    with connect() as (fake, _link, vehicle):
        fake.lists[0] = mission_wire_items(small_mission(2))  # an older mission
        fake.reject_item = (3, mavlink.MAV_MISSION_INVALID_PARAM1)
        with pytest.raises(MissionRejectedError, match="was cleared") as info:
            vehicle.upload_mission(small_mission(), mission_types=(MissionType.MISSION,))
        assert info.value.result_name == "MAV_MISSION_INVALID_PARAM1"
        assert info.value.vehicle_mission == "cleared"
        assert fake.uploads_started == 1  # a rejection is not retried
        assert fake.clears == 1 and fake.lists[0] == []


def test_count_timeout_resends_then_fails_leaving_the_old_mission() -> None:
    old = mission_wire_items(small_mission(2))
    with connect() as (fake, link, vehicle):
        fake.lists[0] = list(old)
        fake.drop_counts = 1000
        client = MissionClient(link, vehicle.system_id, timeouts=FAST_MISSION)
        with pytest.raises(MissionTimeoutError, match="unchanged") as info:
            client.upload(mission_wire_items(small_mission()))
        assert info.value.vehicle_mission == "unchanged"
        assert isinstance(info.value, TimeoutError)
        assert client.resends == FAST_MISSION.retries
        assert len(fake.got("MISSION_COUNT")) == FAST_MISSION.retries + 1
        # the verified upload gives up too, and does not clear what it never touched
        with pytest.raises(MissionTimeoutError) as info2:
            vehicle.upload_mission(small_mission(), mission_types=(MissionType.MISSION,))
        assert info2.value.vehicle_mission == "unchanged"
        assert fake.clears == 0 and same_items(fake.lists[0], old)


def test_lost_count_and_item_are_resent_and_the_upload_completes() -> None:
    mission = small_mission()
    with connect() as (fake, link, vehicle):
        fake.drop_counts = 2
        fake.drop_item_once = {2, 4}
        client = MissionClient(link, vehicle.system_id, timeouts=FAST_MISSION)
        items = mission_wire_items(mission)
        client.upload(items)
        assert client.resends == 4
        assert same_items(fake.lists[0], items)
        assert [m.seq for m in fake.got("MISSION_ITEM_INT")].count(2) == 2


def test_a_lost_final_ack_is_settled_by_the_read_back() -> None:
    """ArduPilot answers a re-sent last item with MAV_MISSION_ERROR once its upload is over: the
    client cannot tell a done upload from a failed one, so it reads back instead of clearing (a
    lossy-link run of the benchmark once cleared a good mission this way)."""
    mission = small_mission()
    items = mission_wire_items(mission)
    with connect() as (fake, link, vehicle):
        fake.drop_final_acks = 1
        client = MissionClient(link, vehicle.system_id, timeouts=FAST_MISSION)
        with pytest.raises(MissionUnconfirmedError, match="read the list back") as info:
            client.upload(items)
        assert info.value.vehicle_mission == "unknown"
        fake.drop_final_acks = 1
        client.upload_verified(items, skip_seq0=True)
        assert fake.uploads_completed == 2 and fake.clears == 0
        assert same_items(fake.lists[0], items)


def test_download_timeout_counts_resends() -> None:
    with connect() as (fake, link, vehicle):
        fake.lists[0] = mission_wire_items(small_mission())
        client = MissionClient(link, vehicle.system_id, timeouts=FAST_MISSION)
        fake.download_reject = {}
        fake._on_mission_request_int = lambda msg: None  # type: ignore[method-assign]
        fake._on_mission_request = fake._on_mission_request_int  # type: ignore[method-assign]
        with pytest.raises(MissionTimeoutError, match="MISSION_REQUEST_INT 0"):
            client.download()
        # the vehicle answered MISSION_COUNT and its heartbeats keep coming: a lossy link gets
        # lossy_retries re-sends per item, not the spec's 5
        assert client.resends == FAST_MISSION.lossy_retries
        assert len(fake.got("MISSION_REQUEST_INT")) == FAST_MISSION.lossy_retries + 1


def test_silent_vehicle_mid_upload_retries_whole_upload() -> None:
    mission = small_mission()
    with connect() as (fake, _link, vehicle):
        fake.silent_after_item = 3
        fake.silent_uploads = 1
        vehicle.upload_mission(mission, mission_types=(MissionType.MISSION,))
        assert fake.uploads_started == 2 and fake.uploads_completed == 1
        assert same_items(fake.lists[0], mission_wire_items(mission))


def test_silent_vehicle_every_time_ends_cleared_never_mixed() -> None:
    with connect() as (fake, _link, vehicle):
        fake.lists[0] = mission_wire_items(small_mission(2))
        fake.silent_after_item = 3
        fake.silent_uploads = 1000
        with pytest.raises(MissionTimeoutError, match="cleared") as info:
            vehicle.upload_mission(small_mission(), mission_types=(MissionType.MISSION,))
        assert info.value.vehicle_mission == "cleared"
        assert fake.uploads_started == FAST_MISSION.upload_attempts
        assert fake.lists[0] == []


def test_read_back_mismatch_once_is_retried() -> None:
    mission = small_mission()
    with connect() as (fake, _link, vehicle):
        fake.corrupt_downloads = 1
        vehicle.upload_mission(mission, mission_types=(MissionType.MISSION,))
        assert fake.uploads_completed == 2 and fake.downloads == 2
        assert same_items(fake.lists[0], mission_wire_items(mission))


def test_read_back_mismatch_always_clears_and_says_so() -> None:
    with connect() as (fake, _link, vehicle):
        fake.corrupt_downloads = 1000
        with pytest.raises(MissionVerifyError, match=r"param1 .*was cleared") as info:
            vehicle.upload_mission(small_mission(), mission_types=(MissionType.MISSION,))
        assert info.value.vehicle_mission == "cleared"
        assert fake.uploads_completed == FAST_MISSION.upload_attempts
        assert fake.clears == 1 and fake.lists[0] == []


def test_download_accepts_float_mission_item_replies() -> None:
    mission = small_mission()
    with connect() as (fake, _link, vehicle):
        fake.lists[0] = mission_wire_items(mission)
        fake.download_float_items = True
        got = vehicle.download_items(MissionType.MISSION)
    for a, b in zip(got, fake.lists[0], strict=True):
        assert (a.command, a.frame, a.z) == (b.command, b.frame, b.z)
        # float32 degrees near 47 N carry 3.8e-6 deg (38 units of 1e-7, ~0.4 m): the reason for _INT
        assert abs(a.x - b.x) <= 20 and abs(a.y - b.y) <= 20


def test_clear_and_empty_upload() -> None:
    with connect() as (fake, _link, vehicle):
        fake.lists[2] = [object()]  # type: ignore[list-item]
        vehicle.clear("rally")
        assert fake.lists[2] == [] and fake.got("MISSION_CLEAR_ALL")[0].mission_type == 2
        vehicle.upload_items([], "fence")
        assert vehicle.download_items("fence") == []


def test_download_of_unsupported_fence_is_empty() -> None:
    with connect() as (fake, _link, vehicle):
        fake.lists[0] = mission_wire_items(small_mission())
        fake.download_reject = {1: mavlink.MAV_MISSION_UNSUPPORTED, 2: mavlink.MAV_MISSION_UNSUPPORTED}
        got = vehicle.download_mission()
    assert got.fence_polygons == () and got.rally_points == ()
    assert len(got.items) == len(small_mission().items)
