"""Optional MAVLink 2 signing: signed both ways works; unsigned or wrongly signed is rejected."""

from __future__ import annotations

import time

import pytest

from ground_station.vehicles import SigningConfig, SigningKeyError, VehicleLink, VehicleNotFoundError
from tests.ground_station.vehicles.conftest import connect
from tests.ground_station.vehicles.fake_vehicle import FakeVehicle
from tests.ground_station.vehicles.test_mission_protocol import small_mission

KEY = bytes(range(32))


def test_signed_link_works_and_signs_what_it_sends() -> None:
    with connect({"signing_key": KEY}, signing=SigningConfig(key=KEY)) as (fake, _link, vehicle):
        vehicle.upload_mission(small_mission())
        assert fake.uploads_completed >= 1
        assert fake.rx.signing.goodsig_count > 0 and fake.rx.signing.reject_count == 0


@pytest.mark.parametrize("vehicle_key", [None, bytes(32)], ids=["unsigned", "wrong key"])
def test_unsigned_or_wrongly_signed_vehicle_is_rejected(vehicle_key: bytes | None) -> None:
    with (
        FakeVehicle(signing_key=vehicle_key, accept_unsigned=True) as fake,
        VehicleLink.open(
            f"udpout://127.0.0.1:{fake.port}", signing=SigningConfig(key=KEY), heartbeat_period_s=0.1
        ) as link,
    ):
        with pytest.raises(VehicleNotFoundError):
            link.wait_vehicle(timeout_s=0.6)
        assert link.bad_packets > 0


def test_unsigned_accepted_when_not_required() -> None:
    with (
        FakeVehicle(accept_unsigned=True) as fake,
        VehicleLink.open(
            f"udpout://127.0.0.1:{fake.port}",
            signing=SigningConfig(key=KEY, require_signed=False),
            heartbeat_period_s=0.1,
        ) as link,
    ):
        assert link.wait_vehicle(timeout_s=2).system_id == 1
        time.sleep(0.1)


@pytest.mark.parametrize("key", [b"", b"short", bytes(33), "x" * 32])
def test_key_must_be_32_bytes(key: object) -> None:
    with pytest.raises(SigningKeyError):
        SigningConfig(key=key)  # type: ignore[arg-type]


def test_passphrase_key_is_sha256() -> None:
    import hashlib

    assert SigningConfig.from_passphrase("patrol").key == hashlib.sha256(b"patrol").digest()
