"""TERRAIN_REQUEST answered with TERRAIN_DATA from a DEM: the bits asked for, the right posts
(checked against MAVProxy's terrain module convention), re-answers, outside-DEM requests, rate."""

from __future__ import annotations

import logging
import math
import time
from functools import cache

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from geo.terrain import Terrain
from geo.terrain_grid import FULL_MASK, block_for, gridbit_points
from tests.ground_station.vehicles.conftest import connect

CENTER = (47.3977, 8.5456)


@cache
def terrain() -> Terrain:
    return Terrain.generate(
        seed=7, center_lat_deg=CENTER[0], center_lon_deg=CENTER[1], size_m=8000, cell_m=30
    )


def mavproxy_points(lat_e7: int, lon_e7: int, spacing: int, bit: int) -> list[tuple[float, float]]:
    """The 16 posts of a bit exactly as MAVProxy's terrain module computes them (gps_offset)."""
    mp_util = pytest.importorskip("MAVProxy.modules.lib.mp_util")
    lat, lon = mp_util.gps_offset(
        lat_e7 * 1e-7, lon_e7 * 1e-7, east=spacing * 4 * (bit % 8), north=spacing * 4 * (bit // 8)
    )
    return [mp_util.gps_offset(lat, lon, east=spacing * (i % 4), north=spacing * (i // 4)) for i in range(16)]


def _request(fake, req, mask: int) -> None:  # type: ignore[no-untyped-def]
    fake.send(mavlink.MAVLink_terrain_request_message(req.lat_e7, req.lon_e7, req.spacing_m, mask))


def test_answers_exactly_the_bits_asked_with_the_right_posts() -> None:
    req = block_for(*CENTER, spacing_m=100)
    bits = [0, 5, 17, 55]
    mask = sum(1 << b for b in bits)
    with connect() as (fake, link, _vehicle):
        server = link.serve_terrain(terrain(), rate_hz=500)
        _request(fake, req, mask)
        fake.wait_for(lambda: len(fake.got("TERRAIN_DATA")) >= len(bits))
        time.sleep(0.1)
        got = {m.gridbit: m for m in fake.got("TERRAIN_DATA")}
        assert sorted(got) == bits and server.packets_sent == len(bits)
        for bit, msg in got.items():
            assert (msg.lat, msg.lon, msg.grid_spacing) == (req.lat_e7, req.lon_e7, 100)
            lats, lons = gridbit_points(req.lat_e7, req.lon_e7, 100, bit)
            theirs = mavproxy_points(req.lat_e7, req.lon_e7, 100, bit)
            for (la, lo), (tla, tlo) in zip(zip(lats, lons, strict=True), theirs, strict=True):
                # same post as MAVProxy, within a metre (flat-earth vs spherical offsets)
                assert (
                    math.hypot((la - tla) * 111_320, (lo - tlo) * 111_320 * math.cos(math.radians(la))) < 1.0
                )
            heights = terrain().elevation(lats, lons)
            assert list(msg.data) == [int(h) for h in np.rint(heights)]
            mavproxy_heights = terrain().elevation(*map(np.array, zip(*theirs, strict=True)))
            assert np.max(np.abs(np.array(msg.data) - mavproxy_heights)) < 3.0


def test_repeated_request_is_answered_again_and_rate_limited() -> None:
    req = block_for(*CENTER, spacing_m=100)
    with connect() as (fake, link, _vehicle):
        link.serve_terrain(terrain(), rate_hz=200)
        t0 = time.monotonic()
        _request(fake, req, FULL_MASK)
        fake.wait_for(lambda: len(fake.got("TERRAIN_DATA")) >= 56, timeout_s=5)
        elapsed = time.monotonic() - t0
        assert sorted(m.gridbit for m in fake.got("TERRAIN_DATA")) == list(range(56))
        assert elapsed >= (56 - 10) / 200 * 0.9  # burst of 10, then 200 per second
        _request(fake, req, 0b11)  # the vehicle lost two: asks again
        fake.wait_for(lambda: len(fake.got("TERRAIN_DATA")) >= 58)
        assert sorted(m.gridbit for m in fake.got("TERRAIN_DATA")[56:]) == [0, 1]


def test_requests_outside_the_dem_are_ignored_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    far = block_for(CENTER[0] + 1.0, CENTER[1], spacing_m=100)
    near = block_for(*CENTER, spacing_m=100)
    with (
        caplog.at_level(logging.WARNING, logger="ground_station.vehicles.terrain_server"),
        connect() as (fake, link, _vehicle),
    ):
        server = link.serve_terrain(terrain(), rate_hz=500)
        _request(fake, far, 0b111)
        _request(fake, far, 0b111)
        _request(fake, near, 0b1)
        fake.wait_for(lambda: len(fake.got("TERRAIN_DATA")) >= 1)
        time.sleep(0.2)
        assert [(m.lat, m.gridbit) for m in fake.got("TERRAIN_DATA")] == [(near.lat_e7, 0)]
        assert server.bits_outside == 3  # cached after the first request
    assert len([r for r in caplog.records if "outside the DEM" in r.message]) == 1
