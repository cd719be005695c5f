"""Many links, many vehicles: a registry keyed by system id.

    with VehicleManager() as fleet:
        fleet.add_link("udpin://0.0.0.0:14550")
        fleet.add_link("tcp://10.0.0.7:5760")
        vehicle = fleet.wait_vehicle(3, timeout_s=10)

A vehicle heard on several links (redundant radios) is served by the link whose heartbeat
from it is freshest.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ground_station.vehicles.errors import LinkLostError, VehicleNotFoundError
from ground_station.vehicles.link import AsyncEventStream, EventListener, Listeners, VehicleLink
from ground_station.vehicles.vehicle import Vehicle


class VehicleManager:
    """Owns links (opened by URL) and finds vehicles across them by system id."""

    def __init__(self, **link_defaults: Any) -> None:
        self._link_defaults = link_defaults
        self._links: dict[str, VehicleLink] = {}
        self._listeners = Listeners()
        self._lock = threading.Lock()
        self._closed = False

    def add_link(self, url: str, **kwargs: Any) -> VehicleLink:
        """Open a link (keyword arguments as :meth:`VehicleLink.open`) and manage it."""
        if self._closed:
            raise LinkLostError("the vehicle manager is closed")
        with self._lock:
            if url in self._links:
                return self._links[url]
        link = VehicleLink.open(url, **{**self._link_defaults, **kwargs})
        link.add_listener(self._listeners.emit)
        with self._lock:
            self._links[url] = link
        return link

    def remove_link(self, url: str) -> None:
        with self._lock:
            link = self._links.pop(url, None)
        if link is not None:
            link.close()

    def links(self) -> dict[str, VehicleLink]:
        with self._lock:
            return dict(self._links)

    def vehicles(self) -> dict[int, Vehicle]:
        best: dict[int, tuple[float, Vehicle]] = {}
        now = time.monotonic()
        for link in self.links().values():
            for system_id, vehicle in link.vehicles().items():
                age = vehicle.tracker.snapshot(now).heartbeat_age_s
                if system_id not in best or age < best[system_id][0]:
                    best[system_id] = (age, vehicle)
        return {k: v for k, (_, v) in sorted(best.items())}

    def vehicle(self, system_id: int) -> Vehicle:
        vehicle = self.vehicles().get(system_id)
        if vehicle is None:
            raise VehicleNotFoundError(
                f"no vehicle with system id {system_id} on {', '.join(self.links()) or 'no links'}"
            )
        return vehicle

    def wait_vehicle(self, system_id: int | None = None, *, timeout_s: float = 10.0) -> Vehicle:
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.vehicles()
            if system_id is None and found:
                return next(iter(found.values()))
            if system_id is not None and system_id in found:
                return found[system_id]
            if time.monotonic() >= deadline:
                which = "any vehicle" if system_id is None else f"system id {system_id}"
                raise VehicleNotFoundError(f"no heartbeat from {which} within {timeout_s:g} s")
            time.sleep(0.05)

    # -- events -----------------------------------------------------------------------------

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Events from every link, now and later; returns the remover."""
        return self._listeners.add(listener)

    def events_async(
        self, loop: asyncio.AbstractEventLoop | None = None, *, maxsize: int = 1000
    ) -> AsyncEventStream:
        return AsyncEventStream(self, loop or asyncio.get_running_loop(), maxsize)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        with self._lock:
            links, self._links = list(self._links.values()), {}
        for link in links:
            link.close()

    def __enter__(self) -> VehicleManager:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
