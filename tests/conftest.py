"""Fixtures shared across the tree: a simulated fleet on free ports, and a plain pymavlink TCP client."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.fleet import FleetConfig, SimFleet


class Client:
    """A bare GCS: one TCP connection, its own MAVLink parser, optional signing."""

    def __init__(self, port: int, *, sysid: int = 255, compid: int = 190, key: bytes | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(0.05)
        self.mav = mavlink.MAVLink(None, sysid, compid)
        self.mav.robust_parsing = True
        if key is not None:
            self.mav.signing.secret_key = key
            self.mav.signing.sign_outgoing = True
            self.mav.signing.timestamp = int((time.time() - 1420070400) * 100_000)
        self.pending: list[Any] = []

    def send(self, msg: Any) -> None:
        self.sock.sendall(msg.pack(self.mav))
        self.mav.seq = (self.mav.seq + 1) % 256

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def poll(self) -> list[Any]:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return []
        if not data:
            raise ConnectionError("vehicle closed the connection")
        return [m for m in self.mav.parse_buffer(data) or [] if m.get_type() != "BAD_DATA"]

    def collect(self, duration_s: float) -> list[Any]:
        out, self.pending = self.pending, []
        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            out.extend(self.poll())
        return out

    def wait(self, kind: str, cond: Callable[[Any], bool] = lambda m: True, timeout_s: float = 5.0) -> Any:
        end = time.monotonic() + timeout_s
        while True:
            while self.pending:
                m = self.pending.pop(0)
                if m.get_type() == kind and cond(m):
                    return m
            if time.monotonic() > end:
                raise TimeoutError(f"no {kind} within {timeout_s} s")
            self.pending.extend(self.poll())

    def command(self, command: int, *params: float, target: int = 1, confirmation: int = 0) -> int:
        p = [*params, 0, 0, 0, 0, 0, 0, 0][:7]
        self.send(mavlink.MAVLink_command_long_message(target, 1, command, confirmation, *p))
        ack = self.wait("COMMAND_ACK", lambda m: m.command == command)
        return int(ack.result)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def fleet_factory() -> Iterator[Callable[..., SimFleet]]:
    """``fleet_factory(vehicles=1, speedup=20, settle_s=1, ...)``: a started fleet on free ports."""
    fleets: list[SimFleet] = []

    def make(**kwargs: Any) -> SimFleet:
        kwargs.setdefault("base_port", 0)
        kwargs.setdefault("speedup", 20.0)
        kwargs.setdefault("settle_s", 1.0)
        kwargs.setdefault("home_alt_amsl_m", 100.0)
        fleet = SimFleet(FleetConfig(**kwargs))
        fleet.start()
        fleets.append(fleet)
        return fleet

    yield make
    for f in fleets:
        f.stop()


@pytest.fixture
def client_factory() -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(port: int, **kwargs: Any) -> Client:
        c = Client(port, **kwargs)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
