"""The vehicle side of the mission protocol as a pure state machine (ArduPilot semantics)."""

from __future__ import annotations

from typing import Any

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.mission_store import FENCE, MISSION, RALLY, MissionItem, MissionStore, Outgoing

GCS = mavlink.MAVLink(None, 255, 190)
OTHER = mavlink.MAVLink(None, 254, 1)


def _msg(m: Any, src: Any = GCS) -> Any:
    """Give a constructed message the header a received one has."""
    buf = m.pack(src)
    return mavlink.MAVLink(None).decode(bytearray(buf))


def _count(n: int, mtype: int = MISSION, src: Any = GCS) -> Any:
    return _msg(mavlink.MAVLink_mission_count_message(1, 1, n, mtype), src)


def _item(seq: int, *, mtype: int = MISSION, command: int = 16, frame: int = 6, z: float = 50.0,
          lat: float = 30.001, lon: float = 110.001, p1: float = 0.0, p2: float = 0.0, as_int: bool = True,
          src: Any = GCS) -> Any:  # fmt: skip
    if as_int:
        m = mavlink.MAVLink_mission_item_int_message(
            1, 1, seq, frame, command, 0, 1, p1, p2, 0, 0, round(lat * 1e7), round(lon * 1e7), z, mtype
        )
    else:
        m = mavlink.MAVLink_mission_item_message(
            1, 1, seq, frame, command, 0, 1, p1, p2, 0, 0, lat, lon, z, mtype
        )
    return _msg(m, src)


def _types(out: list[Outgoing] | None) -> list[str]:
    assert out is not None
    return [o.message.get_type() for o in out]


def _ack(out: list[Outgoing] | None) -> int:
    assert out is not None
    acks = [o.message for o in out if o.message.get_type() == "MISSION_ACK"]
    assert len(acks) == 1, _types(out)
    return int(acks[0].type)


def _upload(
    store: MissionStore, n: int, *, z0: float = 50.0, t: float = 0.0, stop_after: int | None = None
) -> Any:
    out = store.handle(_count(n), link="a", now_s=t)
    for seq in range(n if stop_after is None else stop_after):
        assert _types(out)[-1] == "MISSION_REQUEST"
        out = store.handle(_item(seq, z=z0 + seq), link="a", now_s=t)
    return out


def test_upload_requests_with_mission_request_and_accepts_both_item_kinds() -> None:
    store = MissionStore()
    out = store.handle(_count(3), link="a", now_s=0.0)
    assert _types(out) == ["MISSION_REQUEST"]
    assert out is not None and out[0].message.seq == 0 and out[0].link == "a"
    out = store.handle(_item(0), link="a", now_s=0.1)
    out = store.handle(_item(1, as_int=False, lat=30.5, lon=110.25), link="a", now_s=0.2)
    assert _types(out) == ["MISSION_REQUEST"]
    out = store.handle(_item(2, frame=11, z=80.0), link="a", now_s=0.3)
    assert _ack(out) == mavlink.MAV_MISSION_ACCEPTED
    assert "STATUSTEXT" in _types(out)
    items = store.items()
    assert len(items) == 3
    assert (items[1].x, items[1].y) == (305_000_000, 1_102_500_000)
    assert items[2].frame == 10  # ArduPilot stores frame 11 and reads back 10


def test_download_serves_request_and_request_int() -> None:
    store = MissionStore()
    _upload(store, 3)
    store.set_home(lat_deg=30.0, lon_deg=110.0, altitude_amsl_m=123.0)  # the vehicle rewrites item 0
    out = store.handle(_msg(mavlink.MAVLink_mission_request_list_message(1, 1, MISSION)), link="b", now_s=1)
    assert _types(out) == ["MISSION_COUNT"] and out is not None and out[0].message.count == 3
    out = store.handle(_msg(mavlink.MAVLink_mission_request_int_message(1, 1, 2, MISSION)), link="b", now_s=1)
    assert _types(out) == ["MISSION_ITEM_INT"] and out is not None and out[0].message.z == pytest.approx(52.0)
    out = store.handle(_msg(mavlink.MAVLink_mission_request_message(1, 1, 0, MISSION)), link="b", now_s=1)
    assert _types(out) == ["MISSION_ITEM"]
    assert (
        out is not None
        and out[0].message.x == pytest.approx(30.0)
        and out[0].message.z == pytest.approx(123.0)
    )
    out = store.handle(_msg(mavlink.MAVLink_mission_request_int_message(1, 1, 9, MISSION)), link="b", now_s=1)
    assert _types(out) == ["MISSION_COUNT", "MISSION_ACK"] and _ack(out) == mavlink.MAV_MISSION_ERROR


@pytest.mark.parametrize("sent_first", [[0, 0], [0, 2]], ids=["duplicate", "out-of-order"])
def test_wrong_seq_is_nacked_and_the_transfer_continues(sent_first: list[int]) -> None:
    store = MissionStore()
    store.handle(_count(3), link="a", now_s=0)
    store.handle(_item(sent_first[0]), link="a", now_s=0)
    out = store.handle(_item(sent_first[1]), link="a", now_s=0)
    assert _ack(out) == mavlink.MAV_MISSION_INVALID_SEQUENCE
    assert store.receiving()
    assert _types(store.handle(_item(1), link="a", now_s=0)) == ["MISSION_REQUEST"]
    assert _ack(store.handle(_item(2), link="a", now_s=0)) == mavlink.MAV_MISSION_ACCEPTED
    assert store.count() == 3


def test_broken_upload_leaves_new_head_and_old_tail() -> None:
    store = MissionStore(upload_timeout_s=8.0, rerequest_s=1.0)
    _upload(store, 5, z0=100.0)  # old: 0..4 at 100..104
    out = _upload(store, 5, z0=200.0, t=10.0, stop_after=3)  # new: items 0..2 arrive, then silence
    assert out is not None and out[-1].message.seq == 3
    rerequest = store.update(11.5)
    assert _types(rerequest) == ["MISSION_REQUEST"] and rerequest[0].message.seq == 3
    assert store.update(12.0) == []
    cancelled = store.update(18.5)
    assert _ack(cancelled) == mavlink.MAV_MISSION_OPERATION_CANCELLED
    assert any(
        o.message.get_type() == "STATUSTEXT" and b"timeout" in o.message.text.encode() for o in cancelled
    )
    assert [it.z for it in store.items()[1:]] == [201.0, 202.0, 103.0, 104.0]
    assert not store.receiving()


def test_broken_fence_upload_keeps_the_old_fence() -> None:
    store = MissionStore()
    store.handle(_count(3, FENCE), link="a", now_s=0)
    for s in range(3):
        store.handle(_item(s, mtype=FENCE, command=5001, p1=3, frame=5), link="a", now_s=0)
    assert len(store.items(FENCE)) == 3
    store.handle(_count(4, FENCE), link="a", now_s=1)
    store.handle(_item(0, mtype=FENCE, command=5002, p1=4, frame=5), link="a", now_s=1)
    assert _ack(store.update(20.0)) == mavlink.MAV_MISSION_OPERATION_CANCELLED
    assert [it.command for it in store.items(FENCE)] == [5001, 5001, 5001]


def test_shorter_upload_truncates() -> None:
    store = MissionStore()
    _upload(store, 6)
    _upload(store, 3)
    assert store.count() == 3


@pytest.mark.parametrize(
    ("mtype", "count", "limit", "expected"),
    [
        (MISSION, 701, 700, mavlink.MAV_MISSION_NO_SPACE),
        (MISSION, 700, 700, None),
        (FENCE, 90, 84, mavlink.MAV_MISSION_NO_SPACE),
        (RALLY, 21, 20, mavlink.MAV_MISSION_NO_SPACE),
        (7, 3, 700, mavlink.MAV_MISSION_UNSUPPORTED),
    ],
)
def test_count_limits_and_types(mtype: int, count: int, limit: int, expected: int | None) -> None:
    store = MissionStore(mission_limit=limit)
    out = store.handle(_count(count, mtype), link="a", now_s=0)
    if expected is None:
        assert _types(out) == ["MISSION_REQUEST"]
    else:
        assert _ack(out) == expected


@pytest.mark.parametrize(
    ("mtype", "kwargs", "expected"),
    [
        (MISSION, {"command": 9999}, mavlink.MAV_MISSION_UNSUPPORTED),
        (MISSION, {"frame": 1}, mavlink.MAV_MISSION_UNSUPPORTED_FRAME),
        (MISSION, {"command": 177, "p1": 0, "frame": 2}, mavlink.MAV_MISSION_ERROR),
        (MISSION, {"lat": 95.0}, mavlink.MAV_MISSION_INVALID_PARAM5_X),
        (RALLY, {"command": 5100, "frame": 5}, mavlink.MAV_MISSION_UNSUPPORTED_FRAME),
        (FENCE, {"command": 16}, mavlink.MAV_MISSION_UNSUPPORTED),
    ],
    ids=["unknown-command", "bad-frame", "jump-to-0", "bad-lat", "rally-amsl", "fence-waypoint"],
)
def test_bad_item_aborts_the_upload(mtype: int, kwargs: dict[str, Any], expected: int) -> None:
    store = MissionStore()
    store.handle(_count(3, mtype), link="a", now_s=0)
    if mtype == MISSION:
        store.handle(_item(0), link="a", now_s=0)
        out = store.handle(_item(1, **kwargs), link="a", now_s=0)
    else:
        out = store.handle(_item(0, mtype=mtype, **kwargs), link="a", now_s=0)
    assert _ack(out) == expected
    assert not store.receiving(mtype)


def test_busy_upload_denies_others_and_downloads() -> None:
    store = MissionStore()
    store.handle(_count(3), link="a", now_s=0)
    assert _ack(store.handle(_count(2, src=OTHER), link="b", now_s=0)) == mavlink.MAV_MISSION_DENIED
    req_list = _msg(mavlink.MAVLink_mission_request_list_message(1, 1, MISSION), OTHER)
    assert _ack(store.handle(req_list, link="b", now_s=0)) == mavlink.MAV_MISSION_DENIED
    clear_other = _msg(mavlink.MAVLink_mission_clear_all_message(1, 1, MISSION), OTHER)
    assert _ack(store.handle(clear_other, link="b", now_s=0)) == mavlink.MAV_MISSION_DENIED
    assert store.receiving(MISSION)
    # same sender restarts
    assert _types(store.handle(_count(2), link="a", now_s=0)) == ["MISSION_REQUEST"]


def test_the_uploader_clearing_cancels_its_upload_and_clears() -> None:
    """ArduPilot 4.5+ (cancel_upload): a GCS that gives up on a broken upload can clear the
    half-written mission at once instead of waiting out the vehicle's 8 s timeout."""
    store = MissionStore()
    store.load(
        [MissionItem(seq=i, frame=6, command=16, x=300_000_000, y=1_100_000_000, z=40) for i in range(5)]
    )
    store.handle(_count(4), link="a", now_s=0)
    store.handle(_item(0), link="a", now_s=0)
    store.handle(_item(1), link="a", now_s=0)  # the new head over the old tail
    clear = _msg(mavlink.MAVLink_mission_clear_all_message(1, 1, MISSION))
    assert _ack(store.handle(clear, link="a", now_s=0)) == mavlink.MAV_MISSION_ACCEPTED
    assert not store.receiving(MISSION) and store.count(MISSION) == 1  # home only


def test_item_outside_a_transfer_is_an_error() -> None:
    assert _ack(MissionStore().handle(_item(0), link="a", now_s=0)) == mavlink.MAV_MISSION_ERROR


def test_clear_all_keeps_home_and_clears_everything_with_type_all() -> None:
    store = MissionStore()
    _upload(store, 4)
    store.load([MissionItem(seq=0, frame=6, command=5100, x=1, y=1, z=20.0)], RALLY)
    clear = _msg(mavlink.MAVLink_mission_clear_all_message(1, 1, mavlink.MAV_MISSION_TYPE_ALL))
    assert _ack(store.handle(clear, link="a", now_s=0)) == mavlink.MAV_MISSION_ACCEPTED
    assert store.count() == 1 and store.count(RALLY) == 0


def test_not_a_mission_message_is_not_handled() -> None:
    hb = _msg(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))
    assert MissionStore().handle(hb, link="a", now_s=0) is None
