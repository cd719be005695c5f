"""A PNG preview of a planned patrol over the hillshaded terrain (matplotlib, no screen)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ground_station.planning.planner import PlannedPatrol


def render_preview(plan: PlannedPatrol, path: str | Path, *, pixels: int = 1400) -> Path:
    """Draw the terrain, area, fence, coverage passes and each sortie's path; write ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.colors import LightSource

    path = Path(path)
    req = plan.request
    frame = plan.frame
    xs = [plan.allowed.bounds[0], plan.allowed.bounds[2]]
    ys = [plan.allowed.bounds[1], plan.allowed.bounds[3]]
    pad = 0.08 * max(xs[1] - xs[0], ys[1] - ys[0])
    x0, x1, y0, y1 = xs[0] - pad, xs[1] + pad, ys[0] - pad, ys[1] + pad
    n = 500
    cell = max(x1 - x0, y1 - y0) / n
    gx = np.arange(x0, x1, cell)
    gy = np.arange(y0, y1, cell)
    mx, my = np.meshgrid(gx, gy)
    lat, lon = frame.to_geodetic(mx.ravel(), my.ravel())
    inside = req.terrain.contains(lat, lon)
    z = np.full(mx.size, np.nan)
    if inside.any():
        with contextlib.suppress(ValueError):  # voids: leave the map blank
            z[inside] = req.terrain.elevation(lat[inside], lon[inside])
    z = z.reshape(mx.shape)
    water = np.zeros(mx.size, dtype=bool)
    if inside.any():
        water[inside] = req.terrain.is_water(lat[inside], lon[inside])
    water = water.reshape(mx.shape)

    fig, ax = plt.subplots(figsize=(pixels / 100, pixels / 100), dpi=100)
    zf = np.where(np.isnan(z), np.nanmin(z) if np.isfinite(z).any() else 0.0, z)
    ls = LightSource(azdeg=315, altdeg=45)
    land = matplotlib.colors.LinearSegmentedColormap.from_list(
        "land", plt.get_cmap("terrain")(np.linspace(0.25, 1.0, 256))
    )  # greens to rock and snow: blue is kept for water
    rgb = ls.shade(zf, cmap=land, blend_mode="soft", vert_exag=1.5, dx=cell, dy=cell)
    rgb[water] = rgb[water] * 0.35 + np.array([0.25, 0.45, 0.85, 1.0]) * 0.65
    rgb[np.isnan(z)] = (0.85, 0.85, 0.85, 1.0)  # off the DEM
    extent = (gx[0], gx[-1] + cell, gy[0], gy[-1] + cell)
    ax.imshow(rgb, origin="lower", extent=extent, interpolation="bilinear")
    if np.isfinite(z).any():
        cs = ax.contour(mx, my, z, levels=12, colors="k", linewidths=0.3, alpha=0.5)
        ax.clabel(cs, fontsize=6, fmt="%.0f m")

    def outline(geom: object, label: str, **kw: object) -> None:
        for g in getattr(geom, "geoms", [geom]):
            ext = getattr(g, "exterior", None)
            rings = [ext, *getattr(g, "interiors", [])] if ext is not None else [g]
            for ring in rings:
                c = np.asarray(ring.coords)
                ax.plot(c[:, 0], c[:, 1], label=label, **kw)  # type: ignore[arg-type]
                label = "_"

    outline(plan.region, "area", color="gold", lw=1.5)
    if plan.sorties and plan.sorties[0].mission.fence_polygons:
        for fence in plan.sorties[0].mission.fence_polygons:
            v = np.asarray(fence.vertices_deg)
            fx, fy = frame.to_local(v[:, 0], v[:, 1])
            ax.fill(fx, fy, fill=False, ls="--", lw=1.2, ec="red" if fence.inclusion else "magenta",
                    label="geofence" if fence.inclusion else "exclusion")  # fmt: skip
    for p in plan.coverage.passes:
        c = np.asarray(p.coords)
        ax.plot(c[:, 0], c[:, 1], color="white", lw=2.2, alpha=0.6, solid_capstyle="butt", label="_")
    colours = plt.get_cmap("tab10")
    for k, sortie in enumerate(plan.sorties):
        prof = sortie.profile
        px, py = (prof.x_m, prof.y_m) if prof is not None else (sortie.xy[:, 0], sortie.xy[:, 1])
        ax.plot(px, py, "-", color=colours(k % 10), lw=1.0, label=f"sortie {k + 1}")
        ax.plot(px, py, ".", color=colours(k % 10), ms=3)
    hx, hy = frame.to_local(
        np.array([h.lat_deg for h in plan.homes]), np.array([h.lon_deg for h in plan.homes])
    )
    ax.plot(
        hx,
        hy,
        "H",
        color="black",
        ms=11,
        mfc="yellow",
        label="home" if len(plan.homes) == 1 else "launch points",
    )
    s = plan.stats
    clearance = "terrain frame" if s.min_clearance_m is None else f"min clearance {s.min_clearance_m:.0f} m"
    ax.set_title(
        f"{req.area.name or req.pattern.value}: {req.pattern.value}, "
        f"{req.agl_m:.0f} m AGL ({req.terrain_mode.value}), "
        f"{s.length_m / 1000:.1f} km, {s.flight_time_s / 60:.0f} min, {s.sorties} sortie(s), {clearance}",
        fontsize=10,
    )
    ax.set_xlabel(f"east of {frame.origin_lat_deg:.4f}, {frame.origin_lon_deg:.4f} (m)")
    ax.set_ylabel("north (m)")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path
