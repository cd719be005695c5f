"""The simulated vehicle against real third-party ground stations: MAVSDK and MAVProxy."""

from __future__ import annotations

import math
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ground_station.planning.formats import read_mission, write_mission
from ground_station.planning.mission import Mission
from sim.fleet import SimFleet
from tests.patrols import HOME, small_patrol

mavsdk = pytest.importorskip("mavsdk", reason="MAVSDK (dev extra) is not installed")
from mavsdk.plugins.mission_raw.mission_raw import MissionItem as RawItem  # noqa: E402
from mavsdk.plugins.mission_raw.mission_raw import MissionRaw  # noqa: E402

MAVPROXY = Path(sys.executable).parent / "mavproxy.py"


def wire_items(mission: Mission) -> list[tuple[int, int, float, float, float, float, int, int, float]]:
    """(command, frame, p1..p4, lat_e7, lon_e7, alt) of each item, home first, as ArduPilot stores them."""
    rows = [(16, 0, 0.0, 0.0, 0.0, 0.0, round(mission.home.lat_deg * 1e7), round(mission.home.lon_deg * 1e7),
             mission.home.altitude_amsl_m)]  # fmt: skip
    for it in mission.items:
        rows.append(
            (int(it.command), int(it.frame), it.param1, it.param2, it.param3, it.param4,
             round(it.lat_deg * 1e7), round(it.lon_deg * 1e7), it.altitude_m)
        )  # fmt: skip
    return rows


def raw(mission: Mission) -> list[RawItem]:
    return [
        RawItem(seq=i, frame=f, command=c, current=int(i == 0), autocontinue=1, param1=p1, param2=p2,
                param3=p3, param4=p4, x=x, y=y, z=z, mission_type=0)
        for i, (c, f, p1, p2, p3, p4, x, y, z) in enumerate(wire_items(mission))
    ]  # fmt: skip


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-4)


def assert_same_items(got: list[RawItem], want: list[RawItem], *, skip_home: bool = True) -> None:
    assert len(got) == len(want)
    for g, w in list(zip(got, want, strict=True))[1 if skip_home else 0 :]:
        assert (g.seq, g.command, g.frame, g.x, g.y) == (w.seq, w.command, w.frame, w.x, w.y), (g, w)
        for name in ("param1", "param2", "param3", "param4", "z"):
            assert same(getattr(g, name), getattr(w, name)), (name, g, w)


@pytest.fixture
def mavsdk_gcs() -> Iterator[Callable[[int], Any]]:
    """``connect(port)``: a MAVSDK ground station on the vehicle's TCP port; its first autopilot."""
    instances: list[Any] = []

    def connect(port: int) -> Any:
        m = mavsdk.Mavsdk(
            mavsdk.Configuration.create_with_component_type(mavsdk.ComponentType.GROUND_STATION)
        )
        instances.append(m)
        assert m.add_any_connection(f"tcpout://127.0.0.1:{port}") == mavsdk.ConnectionResult.SUCCESS
        system = m.first_autopilot(10.0)
        assert system is not None, "MAVSDK saw no autopilot"
        return system

    yield connect
    for m in instances:
        m.destroy()


def test_mavsdk_uploads_and_downloads_a_planned_mission(
    fleet_factory: Callable[..., SimFleet], mavsdk_gcs: Callable[[int], Any]
) -> None:
    mission = small_patrol().sorties[0].mission
    fleet = fleet_factory(home_lat_deg=HOME[0], home_lon_deg=HOME[1])
    plugin = MissionRaw(mavsdk_gcs(fleet.tcp_ports[0]))
    items = raw(mission)
    plugin.upload_mission(items)
    assert_same_items(plugin.download_mission(), items)
    with fleet.runners[0].locked() as vehicle:
        assert vehicle.mission.count() == len(items)


def test_mavsdk_sees_progress_while_the_sim_flies(
    fleet_factory: Callable[..., SimFleet], mavsdk_gcs: Callable[[int], Any]
) -> None:
    mission = small_patrol().sorties[0].mission
    fleet = fleet_factory(home_lat_deg=HOME[0], home_lon_deg=HOME[1], speedup=60.0)
    system = mavsdk_gcs(fleet.tcp_ports[0])
    plugin = MissionRaw(system)
    items = raw(mission)
    plugin.upload_mission(items)
    progress: queue.Queue[tuple[int, int]] = queue.Queue()
    plugin.subscribe_mission_progress(lambda p, _ud: progress.put((p.current, p.total)))
    from mavsdk.plugins.action.action import Action

    action = Action(system)
    deadline = time.monotonic() + 20
    while True:  # ArduPilot refuses to arm until its position estimate settles
        try:
            action.arm()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    plugin.start_mission()
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            current, total = progress.get(timeout=1.0)
        except queue.Empty:
            continue
        if not seen or current != seen[-1]:
            seen.append(current)
        if current >= total - 1 and total > 0:
            break
    assert seen == sorted(seen), seen
    assert seen[-1] >= len(items) - 2, (seen, len(items))


class MavProxy:
    """MAVProxy driven at its prompt, as a pilot types into it."""

    def __init__(self, port: int, state_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [str(MAVPROXY), f"--master=tcp:127.0.0.1:{port}", "--default-modules=wp",
             f"--state-basedir={state_dir}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=state_dir,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.transcript: list[str] = []
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        threading.Thread(target=lambda: [self.lines.put(line) for line in stdout], daemon=True).start()

    def expect(self, text: str, timeout_s: float = 30.0) -> str:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.transcript.append(line)
            if text in line:
                return line
        raise AssertionError(f"MAVProxy never printed {text!r}:\n{''.join(self.transcript[-30:])}")

    def type(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.mark.skipif(not MAVPROXY.exists(), reason="MAVProxy is installed by the Makefile (make test)")
def test_mavproxy_loads_our_waypoints_into_the_sim_and_lists_them_back(
    fleet_factory: Callable[..., SimFleet], tmp_path: Path
) -> None:
    mission = small_patrol().sorties[0].mission
    ours = tmp_path / "patrol.waypoints"
    write_mission(mission, ours)
    fleet = fleet_factory(home_lat_deg=HOME[0], home_lon_deg=HOME[1], speedup=5.0)
    mavproxy = MavProxy(fleet.tcp_ports[0], tmp_path)
    try:
        mavproxy.expect("online system 1")
        mavproxy.type(f"wp load {ours}")
        mavproxy.expect(f"Sent all {len(mission.items) + 1} waypoints")
        mavproxy.type("wp list")
        mavproxy.expect(f"Saved {len(mission.items) + 1} waypoints")
    finally:
        mavproxy.close()
    listed = read_mission(tmp_path / "way.txt")
    assert len(listed.items) == len(mission.items)
    for got, want in zip(listed.items, mission.items, strict=True):
        assert (got.command, got.frame) == (want.command, want.frame)
        assert got == want or all(
            same(float(getattr(got, f)), float(getattr(want, f)))
            for f in ("param1", "param2", "param3", "param4", "lat_deg", "lon_deg", "altitude_m")
        ), (got, want)
