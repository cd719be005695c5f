"""``shanshui``: one command line for the whole system, one subcommand per job.

Each subcommand imports what it needs when it runs, so ``shanshui --help`` stays quick
and the edge node's commands never pull in the ground station's packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="shanshui",
    help="Shanshui Patrol: drone patrols over mountain and water terrain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def _fail(message: str) -> None:
    typer.echo(f"shanshui: {message}", err=True)
    raise typer.Exit(code=2)


def _lat_lon(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        _fail(f"expected --home LAT,LON in degrees (e.g. 44.27,-71.30), got {text!r}")
    return lat, lon


def _abs(p: Path | None) -> Path | None:
    return p.resolve() if p is not None else None


@app.command()
def plan(
    target: Annotated[Path, typer.Argument(help="AREA.geojson, or a mission spec missions/NAME.yaml")],
    pattern: Annotated[str | None, typer.Option(help="survey | corridor | perimeter")] = None,
    dem: Annotated[Path | None, typer.Option(help="DEM: SRTM .hgt or GeoTIFF")] = None,
    agl_m: Annotated[
        float | None, typer.Option("--agl-m", help="height above ground (water surface)")
    ] = None,
    home: Annotated[
        str | None, typer.Option(help="takeoff point LAT,LON (default: a point of the area's edge)")
    ] = None,
    terrain_mode: Annotated[
        str | None, typer.Option(help="absolute (frame 0) | relative (frame 3) | terrain-frame (frame 10)")
    ] = None,
    camera: Annotated[str | None, typer.Option(help="camera preset name")] = None,
    side_overlap: Annotated[float | None, typer.Option(help="side overlap, 0-1")] = None,
    front_overlap: Annotated[float | None, typer.Option(help="front overlap, 0-1")] = None,
    width_m: Annotated[float | None, typer.Option("--width-m", help="corridor width in metres")] = None,
    offset_m: Annotated[
        float | None, typer.Option("--offset-m", help="perimeter: >0 outside, <0 inside")
    ] = None,
    angle_deg: Annotated[
        float | None, typer.Option("--angle-deg", help="survey heading (default: best)")
    ] = None,
    vehicle: Annotated[Path | None, typer.Option(help="firmware_configs/ parameter file")] = None,
    max_leg_s: Annotated[
        float | None, typer.Option("--max-leg-s", help="cap on each sortie's flight time, s")
    ] = None,
    out: Annotated[
        list[Path] | None, typer.Option(help="FILE.plan | .waypoints | .geojson | .kml (repeatable)")
    ] = None,
    preview: Annotated[Path | None, typer.Option(help="write a PNG preview over the terrain")] = None,
) -> None:
    """Plan a patrol over the terrain and write it as mission files; prints the statistics."""
    from geo.errors import GeoError
    from ground_station.planning.errors import PlanningError

    overrides: dict[str, Any] = {
        "pattern": pattern,
        "dem": _abs(dem),
        "agl_m": agl_m,
        "home": _lat_lon(home),
        "terrain_mode": terrain_mode,
        "camera": camera,
        "side_overlap": side_overlap,
        "front_overlap": front_overlap,
        "width_m": width_m,
        "offset_m": offset_m,
        "angle_deg": angle_deg,
        "vehicle": _abs(vehicle),
        "max_leg_s": max_leg_s,
        "out": [p.resolve() for p in out] if out else None,
        "preview": _abs(preview),
    }
    try:
        stats = run_plan(target, overrides)
    except (PlanningError, GeoError) as exc:
        _fail(str(exc))
    for line in stats:
        typer.echo(line)


def run_plan(target: Path, overrides: dict[str, Any]) -> list[str]:
    """Plan ``target`` (spec or area) with ``overrides``; write the outputs; return report lines."""
    from ground_station.planning.errors import MissionFileError
    from ground_station.planning.formats import write_mission
    from ground_station.planning.planner import plan_patrol
    from ground_station.planning.preview import render_preview
    from ground_station.planning.spec import load_spec, make_spec

    if target.suffix.lower() in (".yaml", ".yml"):
        spec = load_spec(target, **overrides)
    else:
        data = {k: v for k, v in overrides.items() if v is not None}
        data["area"] = target.resolve()
        for key in ("pattern", "dem"):
            if key not in data:
                raise MissionFileError(f"--{key} is required when planning from an area file")
        spec = make_spec(data)
    if not spec.out and spec.preview is None:
        raise MissionFileError(
            "nothing to write: give --out FILE (.plan, .waypoints, .geojson, .kml) or --preview"
        )
    planned = plan_patrol(spec.request())
    lines = planned.stats.lines()
    for out in spec.out:
        path = spec.resolve(out)
        missions = planned.missions
        for k, mission in enumerate(missions):
            target_path = (
                path if len(missions) == 1 else path.with_name(f"{path.stem}-sortie{k + 1}{path.suffix}")
            )
            target_path.parent.mkdir(parents=True, exist_ok=True)
            write_mission(mission, target_path)
            lines.append(f"wrote          {target_path}")
    if spec.preview is not None:
        lines.append(f"preview        {render_preview(planned, spec.resolve(spec.preview))}")
    return lines


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option(help="where to write the plans and previews")] = Path("out"),
    missions_dir: Annotated[Path, typer.Option(help="mission specs to plan")] = REPO_ROOT / "missions",
) -> None:
    """Plan every example patrol in missions/ and write its files and preview under OUT_DIR."""
    from rich.console import Console

    from geo.errors import GeoError
    from ground_station.planning.errors import PlanningError

    console = Console()
    specs = sorted(missions_dir.glob("*.yaml"))
    if not specs:
        _fail(f"no mission specs (*.yaml) in {missions_dir}")
    failed = 0
    for spec_path in specs:
        name = spec_path.stem
        out = out_dir.resolve()
        overrides: dict[str, Any] = {
            "out": [
                out / f"{name}.plan",
                out / f"{name}.waypoints",
                out / f"{name}.geojson",
                out / f"{name}.kml",
            ],
            "preview": out / f"{name}.png",
        }
        with console.status(f"planning {name}"):
            try:
                lines = run_plan(spec_path, overrides)
            except (PlanningError, GeoError) as exc:
                console.print(f"[red]{name}: {exc}[/red]")
                failed += 1
                continue
        console.rule(name)
        for line in lines:
            console.print(line, highlight=False)
    if failed:
        raise typer.Exit(code=1)


@app.command()
def sim(
    vehicles: Annotated[int, typer.Option(min=1, max=50, help="how many simulated ArduCopters")] = 1,
    home: Annotated[str, typer.Option(help="LAT,LON of the first vehicle (others stand 10 m east)")] = (
        "44.2706,-71.3033"
    ),
    dem: Annotated[Path | None, typer.Option(help="ground: SRTM .hgt or GeoTIFF (default flat)")] = None,
    speedup: Annotated[float, typer.Option(min=0.1, max=1000, help="simulated seconds per second")] = 1.0,
    base_port: Annotated[int, typer.Option(help="TCP port of vehicle 0; vehicle N listens on +10*N")] = 5760,
    out: Annotated[
        str | None, typer.Option(help="also send to a GCS over UDP, e.g. udp:127.0.0.1:14550")
    ] = None,
    settle_s: Annotated[
        float, typer.Option("--settle-s", help="simulated seconds before a position estimate (ArduPilot ~40)")
    ] = 40.0,
    params: Annotated[
        Path | None, typer.Option(help="ArduPilot .parm file (default firmware_configs/)")
    ] = None,
    signing_key: Annotated[str | None, typer.Option(help="MAVLink 2 signing key, 64 hex digits")] = None,
) -> None:
    """Simulated ArduCopters speaking MAVLink 2 on tcp:127.0.0.1:5760+10*N until Ctrl-C."""
    from geo.errors import GeoError
    from sim.cli import run_sim
    from sim.errors import SimError

    lat_lon = _lat_lon(home)
    assert lat_lon is not None

    def ready(fleet: Any) -> None:
        for r in fleet.runners:
            udp = f" udp:{r.udp_port}" if r.udp_port else ""
            typer.echo(f"vehicle {r.sysid}: tcp:127.0.0.1:{r.tcp_port}{udp}")

    try:
        run_sim(
            vehicles,
            _abs(dem),
            lat_lon,
            speedup,
            base_port=base_port,
            udp_out=out,
            settle_s=settle_s,
            params_file=_abs(params),
            signing_key_hex=signing_key,
            on_ready=ready,
        )
    except KeyboardInterrupt:
        pass
    except (SimError, GeoError, OSError) as exc:
        _fail(str(exc))


mission_app = typer.Typer(
    help="Upload, download and fly missions on a vehicle over MAVLink.", no_args_is_help=True
)
app.add_typer(mission_app, name="mission")

VehicleUrl = Annotated[
    str,
    typer.Option(
        "--vehicle", help="tcp://HOST:PORT | udpin://HOST:PORT | udpout://HOST:PORT | serial:///dev/X:BAUD"
    ),
]
SigningKey = Annotated[str | None, typer.Option(help="MAVLink 2 signing key, 64 hex digits")]


def _key(signing_key: str | None) -> bytes | None:
    if signing_key is None:
        return None
    try:
        key = bytes.fromhex(signing_key)
    except ValueError:
        key = b""
    if len(key) != 32:
        _fail(f"expected --signing-key as 64 hex digits (32 bytes), got {signing_key!r}")
    return key


def _vehicle_job(job: Any) -> Any:
    """Run a vehicle job; a failure exits with cli_ops' status and one line saying why."""
    from ground_station.planning.errors import PlanningError
    from ground_station.vehicles.cli_ops import exit_code
    from ground_station.vehicles.errors import VehicleLinkError

    try:
        return job()
    except (VehicleLinkError, PlanningError, OSError) as exc:
        typer.echo(f"shanshui: {exc}", err=True)
        raise typer.Exit(code=exit_code(exc)) from None


@mission_app.command("upload")
def mission_upload(
    file: Annotated[Path, typer.Argument(help="mission file: .plan or .waypoints")],
    vehicle: VehicleUrl,
    type_: Annotated[
        str, typer.Option("--type", help="mission | fence | rally | all (what the file has)")
    ] = "all",
    signing_key: SigningKey = None,
) -> None:
    """Upload, read back and compare; exit 0 only when the vehicle holds exactly the file's items."""
    from ground_station.vehicles.cli_ops import upload_file

    if type_ not in ("mission", "fence", "rally", "all"):
        _fail(f"expected --type mission, fence, rally or all, got {type_!r}")
    r = _vehicle_job(lambda: upload_file(file, vehicle, type_, signing_key=_key(signing_key)))
    typer.echo(
        f"vehicle {r.system_id}: {r.mission_items} mission, {r.fence_items} fence, {r.rally_items} rally "
        "items uploaded and read back equal"
    )


@mission_app.command("download")
def mission_download(
    vehicle: VehicleUrl,
    out: Annotated[
        Path, typer.Option(help="FILE.plan (mission, fence, rally) | .waypoints | .geojson | .kml")
    ],
    signing_key: SigningKey = None,
) -> None:
    """Download the vehicle's mission, fence and rally points into a file."""
    from ground_station.vehicles.cli_ops import download_to

    r = _vehicle_job(lambda: download_to(vehicle, out, signing_key=_key(signing_key)))
    typer.echo(
        f"vehicle {r.system_id}: {r.mission_items} mission items, {r.fence_polygons} fence polygons, "
        f"{r.fence_circles} circles, {r.rally_points} rally points -> {r.path}"
    )


@mission_app.command("fly")
def mission_fly(
    file: Annotated[Path, typer.Argument(help="mission file: .plan or .waypoints")],
    vehicle: VehicleUrl,
    dem: Annotated[
        Path | None, typer.Option(help="answer the vehicle's terrain requests from this DEM")
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", min=1, help="give up after this many seconds")
    ] = 1800,
    signing_key: SigningKey = None,
) -> None:
    """Upload, arm, take off and fly AUTO; one line per reached item; exit 0 when all are reached
    and the vehicle has landed (or holds at the end of a mission without RTL/LAND)."""
    from ground_station.vehicles.cli_ops import fly_file

    def show(event: Any) -> None:
        if event.kind == "phase":
            typer.echo(
                f"vehicle {event.system_id}: {event.text}" if event.system_id else f"{event.text} {vehicle}"
            )
        elif event.kind == "item_reached":
            typer.echo(f"vehicle {event.system_id}: reached item {event.seq}")
        elif event.kind == "statustext" and event.text and event.text.startswith(("PreArm", "Failsafe")):
            typer.echo(f"vehicle {event.system_id}: {event.text}")

    r = _vehicle_job(
        lambda: fly_file(file, vehicle, _abs(dem), timeout_s, show, signing_key=_key(signing_key))
    )
    state = r.final_state
    typer.echo(
        f"vehicle {r.system_id}: flew {r.mission_items} items in {r.duration_s:.0f} s, mode {state.mode}"
    )


def main() -> None:
    app(prog_name="shanshui")


if __name__ == "__main__":
    main()
