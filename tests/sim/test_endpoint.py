"""The simulator over real sockets, driven by a plain pymavlink client."""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.endpoint import Impairment, LinkImpairment
from sim.errors import SimLinkError
from sim.fleet import SimFleet
from tests.conftest import Client

FleetFactory = Callable[..., SimFleet]
ClientFactory = Callable[..., Client]


def test_ports_ids_and_heartbeat_only_until_asked(
    fleet_factory: FleetFactory, client_factory: ClientFactory
) -> None:
    fleet = fleet_factory(vehicles=2, settle_s=100.0)
    assert len(set(fleet.tcp_ports)) == 2
    for n, port in enumerate(fleet.tcp_ports):
        c = client_factory(port)
        msgs = c.collect(0.6)
        kinds = {m.get_type() for m in msgs}
        assert kinds <= {"HEARTBEAT", "STATUSTEXT"}, kinds
        hb = next(m for m in msgs if m.get_type() == "HEARTBEAT")
        assert (hb.get_srcSystem(), hb.get_srcComponent()) == (n + 1, 1)
        assert hb.type == mavlink.MAV_TYPE_QUADROTOR and hb.autopilot == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA
        assert hb.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
        assert hb.system_status == mavlink.MAV_STATE_STANDBY
        c.send(mavlink.MAVLink_request_data_stream_message(n + 1, 1, mavlink.MAV_DATA_STREAM_POSITION, 5, 1))
        pos = c.wait("GLOBAL_POSITION_INT")
        assert (pos.lat, pos.lon) == (0, 0)  # no position estimate yet
        assert c.command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 30, 100_000, target=n + 1) == 0
        c.wait("ATTITUDE")


def test_base_port_convention(fleet_factory: FleetFactory) -> None:
    rng = random.Random()
    for _ in range(20):
        base = rng.randrange(20000, 40000)
        try:
            fleet = fleet_factory(vehicles=3, base_port=base)
        except SimLinkError:
            continue  # taken: try another
        assert fleet.tcp_ports == [base, base + 10, base + 20]
        return
    pytest.skip("no free run of ports found")


def test_params_list_read_set(fleet_factory: FleetFactory, client_factory: ClientFactory) -> None:
    c = client_factory(fleet_factory().tcp_ports[0])
    c.send(mavlink.MAVLink_param_request_list_message(1, 1))
    end = time.monotonic() + 5
    values: dict[str, float] = {}
    count = None
    while time.monotonic() < end and (count is None or len(values) < count):
        m = c.wait("PARAM_VALUE")
        values[m.param_id] = m.param_value
        count = m.param_count
    assert count == len(values) and values["WPNAV_SPEED"] == 1000 and values["SYSID_THISMAV"] == 1
    assert "cruise_current_a" not in values
    c.send(mavlink.MAVLink_param_set_message(1, 1, b"RTL_ALT", 4500.0, 6))
    assert c.wait("PARAM_VALUE", lambda m: m.param_id == "RTL_ALT").param_value == 4500
    c.send(mavlink.MAVLink_param_request_read_message(1, 1, b"RTL_ALT", -1))
    assert c.wait("PARAM_VALUE", lambda m: m.param_id == "RTL_ALT").param_value == 4500


def test_arm_refused_then_accepted_and_home(
    fleet_factory: FleetFactory, client_factory: ClientFactory
) -> None:
    fleet = fleet_factory(settle_s=20.0, speedup=20.0)  # position after ~1 s of wall time
    c = client_factory(fleet.tcp_ports[0])
    arm = mavlink.MAV_CMD_COMPONENT_ARM_DISARM
    assert c.command(mavlink.MAV_CMD_DO_SET_MODE, 1, 4) == mavlink.MAV_RESULT_FAILED  # GUIDED needs position
    assert c.command(arm, 1) == mavlink.MAV_RESULT_FAILED
    c.wait("STATUSTEXT", lambda m: "Need Position Estimate" in m.text)
    home = c.wait("HOME_POSITION", timeout_s=5)
    assert home.latitude == pytest.approx(30.0 * 1e7, abs=10)
    assert c.command(mavlink.MAV_CMD_DO_SET_MODE, 1, 4) == mavlink.MAV_RESULT_ACCEPTED
    assert c.command(arm, 1) == mavlink.MAV_RESULT_ACCEPTED
    assert c.command(arm, 1, confirmation=1) == mavlink.MAV_RESULT_ACCEPTED  # a retry
    assert c.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == mavlink.MAV_RESULT_ACCEPTED
    c.wait("HEARTBEAT", lambda m: m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED and m.custom_mode == 4)
    assert c.command(31000) == mavlink.MAV_RESULT_UNSUPPORTED


def test_mission_upload_download_over_tcp(fleet_factory: FleetFactory, client_factory: ClientFactory) -> None:
    c = client_factory(fleet_factory().tcp_ports[0])
    c.send(mavlink.MAVLink_mission_count_message(1, 1, 3, 0))
    for seq in range(3):
        req = c.wait("MISSION_REQUEST")  # ArduPilot asks with MISSION_REQUEST, not _INT
        assert req.seq == seq
        c.send(
            mavlink.MAVLink_mission_item_int_message(
                1, 1, seq, 6, 16, 0, 1, 0, 0, 0, 0, 300010000, 1100010000, 30 + seq, 0
            )
        )
    assert c.wait("MISSION_ACK").type == mavlink.MAV_MISSION_ACCEPTED
    c.send(mavlink.MAVLink_mission_request_list_message(1, 1, 0))
    assert c.wait("MISSION_COUNT").count == 3
    c.send(mavlink.MAVLink_mission_request_int_message(1, 1, 2, 0))
    it = c.wait("MISSION_ITEM_INT")
    assert (it.seq, it.frame, it.z) == (2, 3, 32.0)


def test_signing_rejects_unsigned(fleet_factory: FleetFactory, client_factory: ClientFactory) -> None:
    key = bytes(range(32))
    fleet = fleet_factory(signing_keys=key)
    port = fleet.tcp_ports[0]
    signed = client_factory(port, key=key)
    assert signed.command(mavlink.MAV_CMD_DO_SET_MODE, 1, 0) == mavlink.MAV_RESULT_ACCEPTED
    hb = signed.wait("HEARTBEAT")
    assert hb._signed
    unsigned = client_factory(port)
    unsigned.send(
        mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, 1, 0, 0, 0, 0, 0, 0)
    )
    wrong = client_factory(port, key=bytes(32))
    wrong.send(
        mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, 1, 0, 0, 0, 0, 0, 0)
    )
    assert not any(m.get_type() == "COMMAND_ACK" for m in unsigned.collect(0.5) + wrong.collect(0.1))


def test_drop_rate_is_about_what_was_configured(
    fleet_factory: FleetFactory, client_factory: ClientFactory
) -> None:
    imp = LinkImpairment(from_vehicle=Impairment(drop_probability=0.3), seed=7)
    fleet = fleet_factory(impairment=imp, speedup=50.0)
    c = client_factory(fleet.tcp_ports[0])
    c.send(mavlink.MAVLink_request_data_stream_message(1, 1, 0, 50, 1))
    msgs = [m for m in c.collect(2.0) if m.get_srcSystem() == 1]
    seqs = [m.get_seq() for m in msgs]
    sent = sum((b - a) % 256 for a, b in zip(seqs, seqs[1:], strict=False))
    received = len(seqs) - 1
    assert sent > 300
    assert 1 - received / sent == pytest.approx(0.3, abs=0.06)


def test_delay_and_duplicates_to_vehicle(fleet_factory: FleetFactory, client_factory: ClientFactory) -> None:
    imp = LinkImpairment(to_vehicle=Impairment(delay_s=0.3, duplicate_probability=1.0))
    c = client_factory(fleet_factory(impairment=imp).tcp_ports[0])
    t0 = time.monotonic()
    c.send(mavlink.MAVLink_command_long_message(1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, 1, 5, 0, 0, 0, 0, 0))
    c.wait("COMMAND_ACK")
    assert time.monotonic() - t0 >= 0.29
    c.wait("COMMAND_ACK")  # the duplicate, answered again


def test_garbage_and_other_targets_do_not_crash(
    fleet_factory: FleetFactory, client_factory: ClientFactory
) -> None:
    fleet = fleet_factory()
    c = client_factory(fleet.tcp_ports[0])
    good = mavlink.MAVLink_command_long_message(
        1, 1, mavlink.MAV_CMD_DO_SET_MODE, 0, 1, 0, 0, 0, 0, 0, 0
    ).pack(c.mav)
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 0xFF
    unknown = bytearray(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3).pack(c.mav))
    unknown[7:10] = (60000).to_bytes(3, "little")
    c.send_raw(os.urandom(4000) + bytes(bad_crc) + bytes(unknown) + b"\xfd\xff\x00" + os.urandom(300))
    c.send_raw(bytes(600))  # flushes any frame the random bytes opened (at most 280 bytes)
    c.send(
        mavlink.MAVLink_command_long_message(
            9, 1, mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, 1, 0, 0, 0, 0, 0, 0
        )
    )
    c.send(
        mavlink.MAVLink_mission_item_int_message(
            1, 1, 5000, 99, 60000, 7, 9, 0, 0, 0, 0, 2**31 - 1, 0, 0, 200
        )
    )
    time.sleep(0.3)
    c2 = client_factory(fleet.tcp_ports[0])
    assert c2.command(mavlink.MAV_CMD_DO_SET_MODE, 1, 5) == mavlink.MAV_RESULT_ACCEPTED
    assert fleet.runners[0].running
    assert fleet.runners[0].stats["other_target"] >= 1
    with fleet.runners[0].locked() as v:
        assert not v.armed


def test_udp_out_and_reply_to_sender(fleet_factory: FleetFactory) -> None:
    gcs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    gcs.bind(("127.0.0.1", 0))
    gcs.settimeout(2.0)
    try:
        fleet = fleet_factory(udp_out=gcs.getsockname(), base_port=None)
        assert fleet.tcp_ports == [] and len(fleet.udp_ports) == 1
        mav = mavlink.MAVLink(None, 255, 190)
        mav.robust_parsing = True
        kinds: list[str] = []
        while "HEARTBEAT" not in kinds:
            data, addr = gcs.recvfrom(65536)
            kinds += [m.get_type() for m in mav.parse_buffer(data) or []]
        gcs.sendto(mavlink.MAVLink_param_request_read_message(1, 1, b"WPNAV_SPEED", -1).pack(mav), addr)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            data, _ = gcs.recvfrom(65536)
            if any(m.get_type() == "PARAM_VALUE" for m in mav.parse_buffer(data) or []):
                break
        else:
            pytest.fail("no PARAM_VALUE over UDP")
    finally:
        gcs.close()


def test_stop_joins_threads_and_closes_ports(fleet_factory: FleetFactory) -> None:
    fleet = fleet_factory(vehicles=2)
    port = fleet.tcp_ports[0]
    names = {f"sim-vehicle-{r.sysid}" for r in fleet.runners}
    before = [t for t in threading.enumerate() if t.name in names]
    assert len(before) == 2
    fleet.stop()
    assert not any(t.is_alive() for t in before)
    assert not any(r.running for r in fleet.runners)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5)
