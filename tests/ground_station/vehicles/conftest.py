"""Fixtures: a scripted fake vehicle on loopback UDP and a link connected to it, fast timeouts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ground_station.vehicles import HealthThresholds, MissionTimeouts, Vehicle, VehicleLink
from tests.ground_station.vehicles.fake_vehicle import FakeVehicle

FAST_MISSION = MissionTimeouts(default_s=0.15, item_s=0.1, retries=3, upload_attempts=3)
FAST_HEALTH = HealthThresholds(degraded_after_s=0.35, lost_after_s=0.8)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "missions"

Connect = Callable[..., contextlib.AbstractContextManager[tuple[FakeVehicle, VehicleLink, Vehicle]]]


@contextlib.contextmanager
def connect(
    fake_kw: dict[str, Any] | None = None, **link_kw: Any
) -> Iterator[tuple[FakeVehicle, VehicleLink, Vehicle]]:
    with FakeVehicle(**(fake_kw or {})) as fake:
        kw: dict[str, Any] = {
            "mission_timeouts": FAST_MISSION,
            "thresholds": FAST_HEALTH,
            "heartbeat_period_s": 0.1,
            "stream_rate_hz": 10.0,
            "event_interval_s": 0.05,
        }
        kw.update(link_kw)
        with VehicleLink.open(f"udpout://127.0.0.1:{fake.port}", **kw) as link:
            vehicle = link.wait_vehicle(timeout_s=3)
            yield fake, link, vehicle


@pytest.fixture
def connected() -> Iterator[tuple[FakeVehicle, VehicleLink, Vehicle]]:
    with connect() as triple:
        yield triple


def _key(item: Any) -> tuple[Any, ...]:
    import dataclasses
    import math

    import numpy as np

    def norm(v: Any) -> Any:
        if isinstance(v, float):
            return "nan" if math.isnan(v) else float(np.float32(v))  # the wire carries float32
        return int(v) if not isinstance(v, bool) else v

    return tuple(norm(v) for v in dataclasses.astuple(item))


def same_items(a: Any, b: Any) -> bool:
    """Strict field-by-field equality of two WireItem lists at wire precision (float32), NaN equal to NaN."""
    return [_key(x) for x in a] == [_key(y) for y in b]
