"""Terrain for the vehicle: answer TERRAIN_REQUEST with TERRAIN_DATA from a local DEM.

ArduPilot asks the ground station for terrain blocks (it does so whether or not the mission
uses terrain, and with terrain-frame items refuses to arm until they arrive), as
QGroundControl and MAVProxy's terrain module answer it. For each request we send one
TERRAIN_DATA per bit set in its 56-bit mask, the 16 heights from
:func:`geo.terrain_grid.terrain_data`, at most ``rate_hz`` packets per second. A repeated
request (the vehicle did not get everything) is answered again for the bits it names. Bits
whose posts fall outside the DEM are skipped, and logged once per block.

Start it with ``link.serve_terrain(terrain)``; it runs in the link's reader thread.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from geo.errors import GeoError
from geo.terrain_grid import GRID_BITS, terrain_data

if TYPE_CHECKING:
    from geo.terrain import Terrain
    from ground_station.vehicles.link import VehicleLink

log = logging.getLogger(__name__)

_CACHE_ENTRIES = 4096
_MAX_PENDING = 64


@dataclass(kw_only=True)
class _Pending:
    lat_e7: int
    lon_e7: int
    spacing_m: int
    mask: int
    done: int = 0  # bits sent or skipped


class TerrainServer:
    """Answers TERRAIN_REQUESTs on a link from ``terrain`` (see the module docstring)."""

    def __init__(
        self, link: VehicleLink, terrain: Terrain, *, rate_hz: float = 50.0, burst: int = 10
    ) -> None:
        if rate_hz <= 0:
            raise ValueError(f"expected a positive terrain rate, got {rate_hz}")
        self.link = link
        self.terrain = terrain
        self.rate_hz = rate_hz
        self.burst = max(1, burst)
        self._pending: OrderedDict[tuple[int, int, int], _Pending] = OrderedDict()
        self._tokens = float(self.burst)
        self._last_tick: float | None = None
        self._cache: OrderedDict[tuple[int, int, int, int], list[int] | None] = OrderedDict()
        self._outside_logged: set[tuple[int, int, int]] = set()
        self.requests_received = 0
        self.packets_sent = 0
        self.bits_outside = 0

    @property
    def pending_bits(self) -> int:
        return sum((p.mask & ~p.done).bit_count() for p in self._pending.values())

    def handle_request(self, system_id: int, msg: Any, now: float) -> None:
        """Queue a TERRAIN_REQUEST (called by the link's reader thread)."""
        self.requests_received += 1
        spacing = int(msg.grid_spacing)
        mask = int(msg.mask) & ((1 << GRID_BITS) - 1)
        if spacing <= 0 or not mask:
            return
        key = (int(msg.lat), int(msg.lon), spacing)
        self._pending.pop(key, None)
        self._pending[key] = _Pending(lat_e7=key[0], lon_e7=key[1], spacing_m=spacing, mask=mask)
        while len(self._pending) > _MAX_PENDING:
            self._pending.popitem(last=False)

    def _heights(self, lat_e7: int, lon_e7: int, spacing_m: int, bit: int) -> list[int] | None:
        key = (lat_e7, lon_e7, spacing_m, bit)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            data: list[int] | None = terrain_data(self.terrain, lat_e7, lon_e7, spacing_m, bit)
        except GeoError as exc:
            data = None
            self.bits_outside += 1
            block = (lat_e7, lon_e7, spacing_m)
            if block not in self._outside_logged:
                self._outside_logged.add(block)
                log.warning(
                    "terrain request for the block at %.7f, %.7f (spacing %d m) is outside the DEM %s: %s",
                    lat_e7 * 1e-7, lon_e7 * 1e-7, spacing_m, getattr(self.terrain, "name", ""), exc,
                )  # fmt: skip
        self._cache[key] = data
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return data

    def tick(self, now: float) -> None:
        """Send what the rate allows (called by the link's reader thread)."""
        if self._last_tick is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last_tick) * self.rate_hz)
        self._last_tick = now
        while self._pending and self._tokens >= 1.0:
            key, pending = next(iter(self._pending.items()))
            todo = pending.mask & ~pending.done
            if not todo:
                del self._pending[key]
                continue
            bit = (todo & -todo).bit_length() - 1
            pending.done |= 1 << bit
            data = self._heights(pending.lat_e7, pending.lon_e7, pending.spacing_m, bit)
            if data is None:
                continue
            self.link.send(
                mavlink.MAVLink_terrain_data_message(
                    pending.lat_e7, pending.lon_e7, pending.spacing_m, bit, data
                )
            )
            self.packets_sent += 1
            self._tokens -= 1.0
