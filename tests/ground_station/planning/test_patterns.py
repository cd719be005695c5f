"""Coverage patterns: property tests over random areas (local metres, no terrain needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from ground_station.planning.errors import InvalidAreaError
from ground_station.planning.geometry import Router
from ground_station.planning.patterns import (
    FlightTime,
    PathLength,
    SurveyOptions,
    corridor,
    perimeter,
    survey,
    transect_segments,
)


@st.composite
def areas(draw: st.DrawFn) -> Polygon:
    """Star-shaped polygons (often concave), sometimes with an exclusion hole."""
    n = draw(st.integers(4, 11))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * math.pi), min_size=n, max_size=n, unique=True))))
    assume(np.diff(np.r_[angles, angles[0] + 2 * math.pi]).min() > 0.1)  # no zero-width spikes
    radii = np.array(draw(st.lists(st.floats(300, 1500), min_size=n, max_size=n)))
    ring = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    poly = Polygon(ring)
    if not poly.is_valid or poly.area < 2e5:
        poly = poly.convex_hull
    assume(poly.buffer(-60).area >= 0.6 * poly.area)  # no spikes thinner than a footprint
    if draw(st.booleans()):
        hole = Point(draw(st.floats(-150, 150)), draw(st.floats(-150, 150))).buffer(
            draw(st.floats(40, 120)), 2
        )
        if poly.buffer(-20).contains(hole):
            poly = Polygon(poly.exterior, [hole.exterior])
    return poly


def footprint_cover(passes: tuple[LineString, ...], across_m: float, along_m: float) -> Polygon:
    """What a camera photographing every pass continuously sees."""
    shapes = []
    for p in passes:
        c = np.asarray(p.coords)
        d0 = (c[0] - c[1]) / np.linalg.norm(c[0] - c[1])
        d1 = (c[-1] - c[-2]) / np.linalg.norm(c[-1] - c[-2])
        ext = LineString([c[0] + d0 * along_m / 2, *c[1:-1], c[-1] + d1 * along_m / 2])
        shapes.append(ext.buffer(across_m / 2, cap_style="flat", join_style="round"))
    return unary_union(shapes)


# Shrinking a failing area takes minutes with a planner in the loop; report the first one.
FAST_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
ACROSS_M, ALONG_M = 60.0 / (1 - 0.5), 30.0 / (1 - 0.7)
OPTIONS = SurveyOptions(
    spacing_m=60.0,
    trigger_distance_m=30.0,
    turnaround_m=15.0,
    footprint_across_m=ACROSS_M,
    footprint_along_m=ALONG_M,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=FAST_PHASES)
@given(area=areas())
def test_transects_lie_inside_the_area_minus_its_holes_and_cover_it(area: Polygon) -> None:
    path = survey(area, options=OPTIONS)
    tolerant = area.buffer(1e-6)
    for p in path.passes:
        assert tolerant.covers(p)
        for hole in area.interiors:
            assert not Polygon(hole).buffer(-1e-6).intersects(p)
    covered = footprint_cover(path.camera_runs, ACROSS_M, ALONG_M).intersection(area).area
    assert covered >= 0.99 * area.area


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=FAST_PHASES)
@given(area=areas(), seed=st.integers(0, 2**32 - 1))
def test_chosen_sweep_angle_beats_a_hundred_random_angles(area: Polygon, seed: int) -> None:
    """The search (1° grid, edge directions, refinement to 0.02°) can miss a dip narrower than
    its steps: a random angle may win by a hair (0.3 % seen), never by more than 1 %."""
    objective = FlightTime(speed_m_s=10.0, acceleration_m_s2=2.5)
    options = SurveyOptions(spacing_m=80.0, trigger_distance_m=40.0, objective=objective)
    # As the planner does: room to turn outside the area, but never inside its holes.
    allowed = (
        Polygon(area.exterior)
        .buffer(50.0, join_style="mitre")
        .difference(unary_union([Polygon(h) for h in area.interiors]))
    )
    best = objective(survey(area, options=options, allowed=allowed).xy)
    rng = np.random.default_rng(seed)
    for angle in rng.uniform(0, 180, 100):
        fixed = SurveyOptions(
            spacing_m=80.0, trigger_distance_m=40.0, angle_deg=float(angle), objective=objective
        )
        cost = objective(survey(area, options=fixed, allowed=allowed).xy)
        assert best <= cost * 1.01, f"angle {angle:.2f} is better: {cost:.1f} s against {best:.1f} s"


def test_the_objective_passed_in_decides_the_angle() -> None:
    long_thin = Polygon([(0, 0), (3000, 0), (3000, 400), (0, 400)])
    by_time = survey(long_thin, options=SurveyOptions(spacing_m=50, trigger_distance_m=20))
    assert by_time.angle_deg is not None and min(by_time.angle_deg % 180, 180 - by_time.angle_deg % 180) != 0
    assert abs(by_time.angle_deg - 90.0) < 0.5  # east-west passes along the long side: fewest turns
    by_length = survey(
        long_thin, options=SurveyOptions(spacing_m=50, trigger_distance_m=20, objective=PathLength())
    )
    assert PathLength()(by_length.xy) <= PathLength()(by_time.xy) + 1e-6


def test_passes_are_centred_and_spaced() -> None:
    square = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    lines = transect_segments(square, angle_deg=90.0, spacing_m=100.0)
    assert len(lines) == 10
    # In the rotated frame of a due-east heading, y is -north: offsets are 50, 150, ... from the edge.
    ys = sorted(abs(float(seg[0, 0, 1])) for seg in lines)
    assert ys == pytest.approx([50 + 100 * k for k in range(10)])


def test_camera_switches_on_at_each_entry_and_off_at_each_exit() -> None:
    area = Polygon([(0, 0), (800, 0), (800, 500), (0, 500)])
    path = survey(area, options=OPTIONS, allowed=area.buffer(50, join_style="mitre"))
    triggers = [v.camera_trigger_m for v in path.vertices if v.camera_trigger_m is not None]
    assert triggers == [OPTIONS.trigger_distance_m, 0.0] * len(path.passes)
    roles = [v.role for v in path.vertices]
    assert roles.count("turnaround") == 2 * len(path.passes)
    # Without room to turn outside the area, no turnarounds.
    inside_only = survey(area, options=OPTIONS)
    assert not any(v.role == "turnaround" for v in inside_only.vertices)


def test_routes_between_passes_go_around_a_hole() -> None:
    hole = [(400, 400), (600, 400), (600, 600), (400, 600)]
    area = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)], [hole])
    path = survey(area, options=SurveyOptions(spacing_m=100, trigger_distance_m=50, angle_deg=0.0))
    flown = LineString(path.xy)
    assert not Polygon(hole).buffer(-0.5).intersects(flown)


def test_router_prefers_straight_and_detours_around_holes() -> None:
    region = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(40, 10), (60, 10), (60, 90), (40, 90)]])
    router = Router(region)
    assert router.route((10, 5), (90, 5)) == []
    detour = router.route((10, 50), (90, 50))
    line = LineString([(10, 50), *detour, (90, 50)])
    assert region.covers(line)
    assert len(detour) == 2


@pytest.mark.parametrize(
    ("xy", "expected_s"),
    [
        ([(0, 0), (100, 0)], 10.0),  # straight: distance / speed
        ([(0, 0), (100, 0), (100, 100)], 20.0 + 0.5 * 10 / 2.5),  # a right angle: half a stop-and-go
        ([(0, 0), (100, 0), (0, 0)], 20.0 + 10 / 2.5),  # a U-turn: a full stop-and-go
    ],
)
def test_flight_time_objective(xy: list[tuple[float, float]], expected_s: float) -> None:
    assert FlightTime(speed_m_s=10, acceleration_m_s2=2.5)(np.array(xy, float)) == pytest.approx(expected_s)


def test_corridor_passes_follow_the_line_within_the_width() -> None:
    line = LineString([(0, 0), (1000, 200), (2000, 0), (3000, 300)])
    path = corridor(line, width_m=250, spacing_m=100, trigger_distance_m=40)
    assert len(path.passes) == 3
    for p in path.passes:
        assert line.hausdorff_distance(p) <= 125 + 1
    assert path.covered is not None and path.covered.area == pytest.approx(line.length * 250, rel=0.02)
    triggers = [v.camera_trigger_m for v in path.vertices if v.camera_trigger_m is not None]
    assert triggers == [40, 0.0] * 3


@pytest.mark.parametrize(("offset_m", "clockwise"), [(0.0, True), (-50.0, False), (100.0, True)])
def test_perimeter_is_one_closed_loop_from_the_nearest_vertex(offset_m: float, clockwise: bool) -> None:
    square = Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    path = perimeter(
        square, offset_m=offset_m, trigger_distance_m=40, start_near=(1200, 1200), clockwise=clockwise
    )
    xy = path.xy
    assert np.allclose(xy[0], xy[-1])
    assert np.hypot(*(xy[0] - (1000 + max(offset_m, 0), 1000 + max(offset_m, 0)))) < 120
    signed = float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))
    assert (signed < 0) == clockwise
    assert LineString(xy).length == pytest.approx(
        square.buffer(offset_m, join_style="round").exterior.length, rel=0.02
    )


def test_an_inset_that_eats_the_area_is_refused() -> None:
    with pytest.raises(InvalidAreaError, match="inset"):
        perimeter(Polygon([(0, 0), (50, 0), (50, 50)]), offset_m=-100, trigger_distance_m=10)


def test_non_positive_spacing_is_refused() -> None:
    with pytest.raises(InvalidAreaError, match="positive line spacing"):
        survey(
            Polygon([(0, 0), (50, 0), (50, 50)]), options=SurveyOptions(spacing_m=0, trigger_distance_m=10)
        )
