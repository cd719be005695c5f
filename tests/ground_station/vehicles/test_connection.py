"""Connection URLs, and the UDP, TCP (reconnect) and serial transports."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from ground_station.vehicles import BadVehicleUrlError, LinkHealth, VehicleLink, VehicleUrl, parse_vehicle_url
from tests.ground_station.vehicles.conftest import FAST_HEALTH


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("udpin://0.0.0.0:14550", VehicleUrl(scheme="udpin", host="0.0.0.0", port=14550)),
        ("udp://:14550", VehicleUrl(scheme="udpin", host="0.0.0.0", port=14550)),
        ("udp://127.0.0.1:14551", VehicleUrl(scheme="udpin", host="127.0.0.1", port=14551)),
        ("udpout://10.0.0.2:14550", VehicleUrl(scheme="udpout", host="10.0.0.2", port=14550)),
        ("tcp://127.0.0.1:5760", VehicleUrl(scheme="tcp", host="127.0.0.1", port=5760)),
        ("TCP://localhost:5760", VehicleUrl(scheme="tcp", host="localhost", port=5760)),
        ("serial:///dev/ttyUSB0:57600", VehicleUrl(scheme="serial", device="/dev/ttyUSB0", baud=57600)),
        (
            "serial:///dev/ttyACM0?baud=115200",
            VehicleUrl(scheme="serial", device="/dev/ttyACM0", baud=115200),
        ),
        ("serial:///dev/ttyUSB0", VehicleUrl(scheme="serial", device="/dev/ttyUSB0", baud=57600)),
        ("serial://COM3:921600", VehicleUrl(scheme="serial", device="COM3", baud=921600)),
    ],
)
def test_parse_vehicle_url(url: str, expected: VehicleUrl) -> None:
    got = parse_vehicle_url(url)
    assert (got.scheme, got.host, got.port, got.device, got.baud) == (
        expected.scheme, expected.host, expected.port, expected.device, expected.baud,
    )  # fmt: skip
    assert str(got) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("14550", "no scheme"),
        ("http://host:80", "unknown scheme"),
        ("udp://:", "missing port"),
        ("udpout://:14550", "needs a host"),
        ("tcp://host", "missing port"),
        ("tcp://host:99999", "1-65535"),
        ("tcp://host:abc", "must be a number"),
        ("udpin://0.0.0.0:14550/x", "nothing after"),
        ("serial://", "missing serial device"),
        ("serial:///dev/ttyUSB0?baud=fast", "baud must be a number"),
    ],
)
def test_bad_urls_name_the_accepted_forms(url: str, why: str) -> None:
    with pytest.raises(BadVehicleUrlError, match=why) as info:
        parse_vehicle_url(url)
    assert "udpin://HOST:PORT" in str(info.value) and "serial://" in str(info.value)
    assert isinstance(info.value, ValueError)


def _heartbeat_bytes(system_id: int = 1) -> bytes:
    mav = mavlink.MAVLink(None, srcSystem=system_id, srcComponent=1)
    return bytes(
        mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, 0, 3
        ).pack(mav)
    )


def test_tcp_reconnects_with_backoff_and_health_recovers() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve_one(duration_s: float) -> None:
        conn, _ = server.accept()
        connections.append(conn)
        end = time.monotonic() + duration_s
        while time.monotonic() < end and not stop.is_set():
            conn.sendall(_heartbeat_bytes())
            time.sleep(0.1)
        conn.close()

    def serve() -> None:
        serve_one(0.6)  # then the vehicle end goes away ...
        time.sleep(1.0)  # ... long enough for the link to be lost
        serve_one(30)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with VehicleLink.open(
            f"tcp://127.0.0.1:{port}", thresholds=FAST_HEALTH, backoff_initial_s=0.05, backoff_max_s=0.2
        ) as link:
            vehicle = link.wait_vehicle(timeout_s=3)
            vehicle.wait_until(lambda s: s.health == LinkHealth.OK, timeout_s=2)
            vehicle.wait_until(lambda s: s.health == LinkHealth.LOST, timeout_s=3)
            vehicle.wait_until(lambda s: s.health == LinkHealth.OK, timeout_s=5, what="recovery")
            assert link.transport.reconnects >= 1  # type: ignore[attr-defined]
            assert len(connections) == 2
    finally:
        stop.set()
        server.close()
        thread.join(timeout=2)


def test_tcp_vehicle_not_up_yet_is_not_an_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there
    with VehicleLink.open(f"tcp://127.0.0.1:{port}", backoff_initial_s=0.05, backoff_max_s=0.1) as link:
        time.sleep(0.3)
        assert link.vehicles() == {}
        assert not link.transport.connected


def test_serial_transport_through_pyserial_loopback() -> None:
    # pyserial's loop:// echoes what we write: our own heartbeats come back (and are ignored as ours)
    with VehicleLink.open("serial://loop://", heartbeat_period_s=0.05) as link:
        deadline = time.monotonic() + 2
        while link.packets_received == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert link.packets_received > 0
        assert link.vehicles() == {}


def test_udp_listen_serves_many_vehicles_on_one_port() -> None:
    from tests.ground_station.vehicles.fake_vehicle import FakeVehicle

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with VehicleLink.open(f"udpin://127.0.0.1:{port}", stream_rate_hz=10, heartbeat_period_s=0.1) as link:
        fakes = [FakeVehicle(system_id=sid, gcs_addr=("127.0.0.1", port)) for sid in (3, 7)]
        with fakes[0], fakes[1]:
            assert link.wait_vehicle(3, timeout_s=3).system_id == 3
            assert link.wait_vehicle(7, timeout_s=3).system_id == 7
            # our heartbeats and stream requests reach both (we send to every peer heard)
            for fake in fakes:
                fake.wait_for(lambda f=fake: f.streams_requested and bool(f.got("HEARTBEAT")), timeout_s=3)
                assert {m.get_srcSystem() for m in fake.got("HEARTBEAT")} == {255}
                assert {m.get_srcComponent() for m in fake.got("HEARTBEAT")} == {190}
            assert sorted(link.vehicles()) == [3, 7]
