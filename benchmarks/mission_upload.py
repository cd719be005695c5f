"""700 mission items to the simulated ArduCopter: our vehicle link beside MAVSDK's ``mission_raw``.

Each run starts a fresh simulated vehicle in its own process (so that it shares no interpreter
with the client being timed) whose link drops the given share of MAVLink messages in both
directions (whole messages, seeded), then times one upload by each client in this process:

- ``mavsdk``: MAVSDK's ``MissionRaw.upload_mission`` (upload only; MAVSDK does not read back).
- ``ours``: ``Vehicle.upload_items(verify=False)``, the same work as MAVSDK's.
- ``ours+verify``: ``Vehicle.upload_items()``, upload then download and compare (what the CLI does).

The ratio is MAVSDK's time over ours (> 1: ours is faster). Run:

    .venv/bin/python benchmarks/mission_upload.py [--items 700] [--loss 0,10,20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from ground_station.vehicles import VehicleLink, VehicleLinkError, WireItem
from sim.endpoint import Impairment, LinkImpairment
from sim.fleet import FleetConfig, SimFleet

HOME = (44.2240, -71.2520)


def grid_items(n: int) -> list[WireItem]:
    """Home plus ``n - 1`` waypoints on a lawnmower grid, relative frame, 60 m up."""
    items = [WireItem(command=16, frame=0, x=round(HOME[0] * 1e7), y=round(HOME[1] * 1e7), z=500.0)]
    for i in range(n - 1):
        row, col = divmod(i, 25)
        col = col if row % 2 == 0 else 24 - col
        lat, lon = HOME[0] + row * 0.0005, HOME[1] + col * 0.0007
        items.append(WireItem(command=16, frame=3, x=round(lat * 1e7), y=round(lon * 1e7), z=60.0))
    return items


def _serve(loss: float, seed: int, ports: Any, stop: Any) -> None:
    drop = Impairment(drop_probability=loss)
    config = FleetConfig(
        home_lat_deg=HOME[0],
        home_lon_deg=HOME[1],
        base_port=0,
        settle_s=1.0,
        speedup=1.0,
        impairment=LinkImpairment(to_vehicle=drop, from_vehicle=drop, seed=seed),
        param_overrides={"FS_GCS_ENABLE": 0},
    )
    with SimFleet(config) as fleet:
        ports.put(fleet.tcp_ports[0])
        stop.wait()


@contextlib.contextmanager
def vehicle_process(loss: float, seed: int) -> Iterator[int]:
    """A simulated vehicle in a child process; yields its TCP port."""
    ctx = multiprocessing.get_context("spawn")
    ports, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_serve, args=(loss, seed, ports, stop), daemon=True)
    child.start()
    try:
        yield int(ports.get(timeout=60))
    finally:
        stop.set()
        child.join(10)


def ours(port: int, items: list[WireItem], *, verify: bool) -> float:
    with VehicleLink.open(f"tcp://127.0.0.1:{port}") as link:
        vehicle = link.wait_vehicle(timeout_s=10)
        start = time.perf_counter()
        vehicle.upload_items(items, verify=verify)
        return time.perf_counter() - start


def mavsdk_upload(port: int, items: list[WireItem]) -> float:
    import mavsdk
    from mavsdk.plugins.mission_raw.mission_raw import MissionItem, MissionRaw

    m = mavsdk.Mavsdk(mavsdk.Configuration.create_with_component_type(mavsdk.ComponentType.GROUND_STATION))
    try:
        m.add_any_connection(f"tcpout://127.0.0.1:{port}")
        system = m.first_autopilot(10.0)
        if system is None:
            raise RuntimeError("MAVSDK saw no autopilot")
        raw = [
            MissionItem(seq=i, frame=it.frame, command=it.command, current=int(i == 0), autocontinue=1,
                        param1=it.param1, param2=it.param2, param3=it.param3, param4=it.param4,
                        x=it.x, y=it.y, z=it.z, mission_type=0)
            for i, it in enumerate(items)
        ]  # fmt: skip
        plugin = MissionRaw(system)
        start = time.perf_counter()
        plugin.upload_mission(raw)
        return time.perf_counter() - start
    finally:
        m.destroy()


def run(client: Callable[[int], float], loss: float, seed: int) -> float | str:
    with vehicle_process(loss, seed) as port:
        try:
            return client(port)
        except (VehicleLinkError, RuntimeError, Exception) as exc:  # MAVSDK raises its own MissionRawError
            return f"failed: {type(exc).__name__}: {exc}"[:120]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=700)
    ap.add_argument("--loss", default="0,10,20", help="percent of messages dropped each way")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    items = grid_items(args.items)
    clients: dict[str, Callable[[int], float]] = {
        "mavsdk": lambda port: mavsdk_upload(port, items),
        "ours": lambda port: ours(port, items, verify=False),
        "ours+verify": lambda port: ours(port, items, verify=True),
    }
    print(f"{args.items} items, median of {args.repeat} runs, seconds (failures listed)")
    print(f"{'loss':>5} {'mavsdk':>9} {'ours':>9} {'ours+verify':>12} {'mavsdk/ours':>12}")
    for loss_pct in (float(v) for v in args.loss.split(",")):
        results: dict[str, list[float]] = {name: [] for name in clients}
        failures: list[str] = []
        for r in range(args.repeat):
            for name, client in clients.items():
                got = run(client, loss_pct / 100.0, seed=r)
                if isinstance(got, str):
                    failures.append(f"{name} run {r}: {got}")
                else:
                    results[name].append(got)
        med = {k: statistics.median(v) if v else float("nan") for k, v in results.items()}
        print(
            f"{loss_pct:>4.0f}% {med['mavsdk']:>9.2f} {med['ours']:>9.2f} {med['ours+verify']:>12.2f}"
            f" {med['mavsdk'] / med['ours']:>12.2f}" + "".join(f"\n      {f}" for f in failures)
        )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
