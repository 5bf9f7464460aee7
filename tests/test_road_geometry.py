"""Roads as ribbons: classes and widths, mitres, splitting at missing nodes, real extracts."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from helpers.osm_data import LocalMetres
from helpers.paths import REPO_ROOT, SHARED_DATA

from leanroute.route.mesh_arrays import MeshArrays
from leanroute.route.osm_model import Way
from leanroute.route.road_geometry import (
    LANE_WIDTH,
    ROAD_CLASSES,
    ROAD_GROUPS,
    RoadLine,
    collect_roads,
    ribbon_arrays,
    road_mesh,
    road_meshes,
    road_width,
)

METRES = LocalMetres(48.4, 15.6)
make_osm = METRES.make_osm
project = METRES.project


def face_loops(mesh: MeshArrays) -> list[np.ndarray]:
    return [
        mesh.loop_vertices[s : s + t]
        for s, t in zip(mesh.loop_starts, mesh.loop_totals, strict=True)
    ]


def signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def test_the_geometry_modules_do_not_import_blender():
    for name in ("road_geometry", "multipolygon", "building_geometry", "motion"):
        tree = ast.parse(Path(REPO_ROOT / "route" / f"{name}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        assert not imported & {"bpy", "bmesh", "mathutils"}, name


def test_road_classes_cover_the_common_highways_and_order_them():
    needed = [
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "pedestrian",
        "footway",
        "path",
        "cycleway",
        "steps",
        "track",
    ]
    assert set(needed) <= set(ROAD_CLASSES)
    assert all(c.group in ROAD_GROUPS for c in ROAD_CLASSES.values())
    width = {name: c.width for name, c in ROAD_CLASSES.items()}
    assert width["footway"] < width["service"] < width["residential"] < width["primary"]
    z = [ROAD_CLASSES[name].z for name in ("primary", "residential", "service", "footway")]
    assert z == sorted(z, reverse=True)  # major over minor over service over paths


@pytest.mark.parametrize(
    ("tags", "width"),
    [
        ({}, 6.0),
        ({"lanes": "3"}, 3 * LANE_WIDTH),
        ({"width": "7,5 m"}, 7.5),
        ({"width": "9.5", "lanes": "4"}, 9.5),  # an explicit width beats the lane count
        ({"width": "lots", "lanes": "2"}, 2 * LANE_WIDTH),
        ({"width": "500"}, 6.0),
        ({"lanes": "0"}, 6.0),
        ({"lanes": "2;3"}, 6.0),
    ],
)
def test_width_tags_override_the_class_width_when_sane(tags, width):
    assert road_width(tags, 6.0) == pytest.approx(width)


def test_ribbon_width_on_a_straight_road_equals_the_class_width():
    osm = make_osm(
        {1: (0, 0), 2: (40, 30), 3: (80, 60)},
        [Way(10, (1, 2, 3), {"highway": "residential"})],
    )
    roads = collect_roads(osm, project(osm))
    mesh = road_meshes(roads.roads)["minor"]
    left, right = mesh.vertices[0::2], mesh.vertices[1::2]
    assert np.linalg.norm(left - right, axis=1) == pytest.approx([6.0] * 3, abs=1e-3)
    assert mesh.face_count == 2  # one quad per segment
    assert (mesh.vertices[:, 2] == np.float32(ROAD_CLASSES["residential"].z)).all()
    for loop in face_loops(mesh):
        assert signed_area(mesh.vertices[loop, :2]) > 0  # counter-clockwise: normals up


def test_a_right_angle_is_mitred_and_a_hairpin_is_clamped():
    half = 3.0
    bend = ribbon_arrays([np.array([(0, 0), (50, 0), (50, 50)], float)], 2 * half, 0.0)
    corner = bend.vertices[2:4, :2]
    assert np.linalg.norm(corner - (50, 0), axis=1) == pytest.approx([half * math.sqrt(2)] * 2)

    # Nearly folded back: an unclamped mitre would reach 100 x the half width.
    hairpin = np.array([(0, 0), (100, 0), (0, 2)], float)
    for line in (hairpin, np.array([(0, 0), (100, 0), (50, 0)], float)):
        mesh = ribbon_arrays([line], 2 * half, 0.0, miter_limit=2.0)
        tip = np.linalg.norm(mesh.vertices[2:4, :2] - line[1], axis=1)
        assert np.all(tip <= 2 * half + 1e-3)
        assert np.isfinite(mesh.vertices).all()


def test_a_closed_way_is_mitred_where_it_closes():
    square = np.array([(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)], float)
    mesh = ribbon_arrays([square], 2.0, 0.0)
    assert mesh.face_count == 4
    first, last = mesh.vertices[0:2], mesh.vertices[-2:]
    assert first == pytest.approx(last)
    assert np.linalg.norm(first[:, :2] - (0, 0), axis=1) == pytest.approx([math.sqrt(2)] * 2)


def test_ribbons_of_many_lines_share_one_mesh_each_with_its_width_and_height():
    lines = [np.array([(0, 0), (10, 0)], float), np.array([(0, 5), (5, 5), (5, 5), (9, 9)], float)]
    mesh = ribbon_arrays(lines, [2.0, 4.0], [0.1, 0.2])
    assert mesh.face_count == 1 + 2  # the repeated point is dropped
    assert mesh.vertex_count == 2 * (2 + 3)
    assert mesh.loop_vertices.max() < mesh.vertex_count
    assert mesh.vertices[:4, 2] == pytest.approx([0.1] * 4)
    assert mesh.vertices[4:, 2] == pytest.approx([0.2] * 6)
    widths = np.linalg.norm(mesh.vertices[0::2, :2] - mesh.vertices[1::2, :2], axis=1)
    assert widths[[0, 1, 2]] == pytest.approx([2.0, 2.0, 4.0])


def test_collect_roads_splits_at_missing_nodes_and_counts_every_skip():
    nodes = {i: (10.0 * i, 0.0) for i in range(1, 8)}
    nodes[20] = (5000.0, 5000.0)
    ways = [
        Way(1, (1, 2, 99, 3, 4, 5), {"highway": "primary"}),  # node 99 missing: two pieces
        Way(2, (98, 1, 97), {"highway": "service"}),  # one present node: nothing to draw
        Way(3, (1, 2, 3, 1), {"highway": "pedestrian", "area": "yes"}),
        Way(4, (1, 2), {"highway": "platform"}),
        Way(5, (4, 4), {"highway": "footway"}),
        Way(6, (20, 20, 20), {"highway": "residential"}),
        Way(7, (6, 7, 20), {"highway": "footway"}),
        Way(8, (1, 2), {"building": "yes"}),
    ]
    ways.append(Way(9, (20, 20), {"highway": "track"}))
    osm = make_osm(nodes, ways)
    xy = project(osm)
    result = collect_roads(osm, xy)
    assert result.highway_ways == 8
    assert (result.skipped_area, result.skipped_class, result.skipped_missing_nodes) == (1, 1, 1)
    assert result.skipped_degenerate == 3
    assert result.built == 2 and result.split_at_gaps == 1
    assert [r.osm_id for r in result.roads] == [1, 1, 7]
    assert [len(r.xy) for r in result.roads] == [2, 3, 3]
    assert result.counts["lines"] == 3 and result.counts["highway_ways"] == 8

    boxed = collect_roads(osm, xy, box=(-1.0, -1.0, 25.0, 1.0))
    assert boxed.built == 1 and boxed.outside_box == 1
    assert [len(r.xy) for r in boxed.roads] == [2]  # the piece 3-4-5 lies outside
    total = sum(
        getattr(boxed, name)
        for name in (
            "built",
            "skipped_area",
            "skipped_class",
            "skipped_missing_nodes",
            "skipped_degenerate",
            "outside_box",
        )
    )
    assert total == boxed.highway_ways


def test_road_mesh_joins_the_groups_with_their_material_index():
    roads = [
        RoadLine(1, "footway", "path", 2.0, np.array([(0, 0), (10, 0)], float)),
        RoadLine(2, "primary", "major", 9.0, np.array([(0, 0), (0, 10), (5, 20)], float)),
    ]
    mesh = road_mesh(roads)
    assert mesh.face_materials.tolist() == [0, 0, 3]
    assert mesh.face_count == 3 and mesh.vertex_count == 10
    assert mesh.loop_vertices.max() < mesh.vertex_count
    assert road_mesh([]).face_count == 0


def test_real_extracts_give_roads_in_every_group():
    from leanroute.route.osm_parse import read_osm

    osm = read_osm(SHARED_DATA / "osm" / "berlin_mitte_kreuzberg.osm")
    result = collect_roads(osm, project(osm))
    # data/README.md: 473 highway ways; 3 are area=yes squares, 2 are platforms.
    assert result.highway_ways == 473
    assert (result.built, result.skipped_area, result.skipped_class) == (468, 3, 2)
    assert result.skipped_missing_nodes == 0
    meshes = road_meshes(result.roads)
    assert set(meshes) == set(ROAD_GROUPS)
    for mesh in meshes.values():
        assert np.isfinite(mesh.vertices).all()
        assert mesh.loop_vertices.max() < mesh.vertex_count
    segments = sum(len(r.xy) - 1 for r in result.roads)
    assert sum(m.face_count for m in meshes.values()) == segments


@pytest.mark.parametrize("name", ["krems.osm", "berlin_mitte_kreuzberg.osm"])
@pytest.mark.parametrize("half", [None, 400.0])
def test_all_ways_at_once_gives_what_way_by_way_gives(name, half):
    # collect_roads handles complete ways together; the per-way path is the reference.
    from leanroute.route.osm_parse import read_osm
    from leanroute.route.road_geometry import _pieces_of_incomplete

    osm = read_osm(SHARED_DATA / "osm" / name, keep_all=True)
    xy = project(osm)
    box = None
    if half is not None:  # a box in the middle of the data: some ways in, some out, some across
        cx, cy = np.median(xy, axis=0)
        box = (cx - half, cy - half, cx + half, cy + half)
    result = collect_roads(osm, xy, box)
    lines = iter(result.roads)
    expected = dict.fromkeys(("skipped_missing_nodes", "skipped_degenerate", "outside_box"), 0)
    for way in osm.ways.values():
        highway = way.tags.get("highway")
        if highway not in ROAD_CLASSES or way.tags.get("area") == "yes":
            continue
        verdict, pieces, _ = _pieces_of_incomplete(way, osm, xy, box)
        if verdict != "built":
            expected[verdict] += 1
            continue
        for piece in pieces:
            line = next(lines)
            assert (line.osm_id, line.highway) == (way.id, highway)
            assert np.array_equal(line.xy, piece)
    assert next(lines, None) is None
    assert {key: getattr(result, key) for key in expected} == expected
    assert result.built > 50 and (box is None or result.outside_box > 50)
