"""Run a simulated fleet until stopped: what ``shanshui sim`` calls.

``shanshui sim --vehicles 2 --home 44.27,-71.30 --speedup 5 --dem missions/dem/N44W072.hgt``
Ctrl-C stops it cleanly (threads joined, sockets closed).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sim.endpoint import DEFAULT_BASE_PORT, parse_udp_address
from sim.errors import SimConfigError
from sim.fleet import FleetConfig, SimFleet

log = logging.getLogger(__name__)


def run_sim(
    vehicles: int,
    dem: Path | None,
    home: tuple[float, float],
    speedup: float,
    *,
    base_port: int = DEFAULT_BASE_PORT,
    udp_out: str | None = None,
    settle_s: float = 40.0,
    params_file: Path | None = None,
    signing_key_hex: str | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[SimFleet], None] | None = None,
) -> None:
    """Start ``vehicles`` simulated ArduCopters and block until ``stop`` is set or Ctrl-C."""
    key = None
    if signing_key_hex:
        try:
            key = bytes.fromhex(signing_key_hex)
        except ValueError as exc:
            raise SimConfigError(
                f"expected the signing key as 64 hex digits, got {signing_key_hex!r}"
            ) from exc
    config = FleetConfig(
        vehicles=vehicles,
        home_lat_deg=home[0],
        home_lon_deg=home[1],
        dem=dem,
        speedup=speedup,
        settle_s=settle_s,
        base_port=base_port,
        udp_out=parse_udp_address(udp_out) if udp_out else None,
        params_file=params_file,
        signing_keys=key,
    )
    stop = stop or threading.Event()
    with SimFleet(config) as fleet:
        for r in fleet.runners:
            log.info("vehicle sysid %d: tcp:127.0.0.1:%s udp %s", r.sysid, r.tcp_port, r.udp_port)
        if on_ready is not None:
            on_ready(fleet)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            log.info("stopping the simulator")
