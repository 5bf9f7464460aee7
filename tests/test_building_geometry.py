"""Buildings: heights from odd tags, footprints with holes, winding, walls and roofs, real data."""

import time

import numpy as np
import pytest
from helpers.osm_data import LocalMetres
from helpers.paths import SHARED_DATA

from leanroute.route.building_geometry import (
    DEFAULT_HEIGHT,
    BuildingMesh,
    Footprint,
    building_height,
    building_mesh,
    collect_buildings,
    parse_length,
    triangles_to_mesh,
)
from leanroute.route.errors import SettingsError
from leanroute.route.mesh_arrays import MeshArrays
from leanroute.route.osm_model import Member, OsmData, Relation, Way

METRES = LocalMetres(52.5, 13.4)
make_osm = METRES.make_osm
project = METRES.project


def square(first_id: int, x0: float, y0: float, size: float, *, clockwise=False) -> dict:
    corners = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)]
    if clockwise:
        corners.reverse()
    return {first_id + i: c for i, c in enumerate(corners)}


def ring_way(way_id: int, first_id: int, tags=None) -> Way:
    return Way(way_id, (first_id, first_id + 1, first_id + 2, first_id + 3, first_id), tags or {})


def signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def faces(mesh: MeshArrays) -> list[np.ndarray]:
    return [
        mesh.loop_vertices[s : s + t]
        for s, t in zip(mesh.loop_starts, mesh.loop_totals, strict=True)
    ]


def newell_normal(points: np.ndarray) -> np.ndarray:
    """Normal of a polygon (k, 3) by Newell's method: right-handed with its winding."""
    p = points.astype(np.float64)
    q = np.roll(p, -1, axis=0)
    return np.array(
        [
            np.sum((p[:, 1] - q[:, 1]) * (p[:, 2] + q[:, 2])),
            np.sum((p[:, 2] - q[:, 2]) * (p[:, 0] + q[:, 0])),
            np.sum((p[:, 0] - q[:, 0]) * (p[:, 1] + q[:, 1])),
        ]
    )


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("12", 12.0),
        ("12.5 m", 12.5),
        ("12,5", 12.5),
        (" 7 metres", 7.0),
        ("40'", 12.192),
        ("40'6\"", 12.3444),
        ("40 ft", 12.192),
        ("350 cm", 3.5),
        ("tall", None),
        ("12-15", None),
        ("12;15", None),
        ("", None),
        (None, None),
        ("12 furlongs", None),
    ],
)
def test_parse_length(text, metres):
    assert parse_length(text) == (pytest.approx(metres) if metres is not None else None)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({}, (DEFAULT_HEIGHT, 0.0)),
        ({"height": "12,5"}, (12.5, 0.0)),
        ({"height": "40'"}, (12.192, 0.0)),
        ({"height": "approx. 20"}, (DEFAULT_HEIGHT, 0.0)),
        ({"height": "-4"}, (DEFAULT_HEIGHT, 0.0)),
        ({"height": "0"}, (DEFAULT_HEIGHT, 0.0)),
        ({"height": "99999"}, (DEFAULT_HEIGHT, 0.0)),
        ({"height": "junk", "building:levels": "4"}, (12.0, 0.0)),
        ({"height": "20", "building:levels": "4"}, (20.0, 0.0)),  # height wins
        ({"building:levels": "3", "roof:levels": "1"}, (12.0, 0.0)),
        ({"building:levels": "2,5"}, (7.5, 0.0)),
        ({"building:levels": "many"}, (DEFAULT_HEIGHT, 0.0)),
        ({"building:levels": "0"}, (DEFAULT_HEIGHT, 0.0)),
        ({"height": "30", "min_height": "12 m"}, (30.0, 12.0)),
        ({"building:levels": "6", "building:min_level": "2"}, (18.0, 6.0)),
        ({"height": "10", "min_height": "15"}, (10.0, 0.0)),  # bottom above top: bad data
        ({"building:min_level": "5"}, (18.0, 15.0)),  # above the default: one level on top
    ],
)
def test_building_height_from_odd_tags(tags, expected):
    assert building_height(tags, DEFAULT_HEIGHT) == pytest.approx(expected)


def test_building_height_refuses_a_bad_default():
    with pytest.raises(SettingsError, match="default_height"):
        building_height({}, 0)
    assert building_height({"building:levels": "2"}, 5.0, level_height=4.0) == (8.0, 0.0)


def test_winding_is_normalised_and_closing_and_repeated_points_dropped():
    nodes = {**square(1, 0, 0, 30, clockwise=True), **square(11, 10, 10, 10), 20: (30, 0)}
    ways = [
        Way(100, (1, 2, 3, 3, 4, 1), {"building": "yes"}),  # clockwise, node 3 repeated
        ring_way(101, 11, {"building": "house"}),  # counter-clockwise already
    ]
    result = collect_buildings(make_osm(nodes, ways), project(make_osm(nodes, ways)))
    assert result.built == 2
    first, second = result.footprints
    assert len(first.outer) == 4 and len(second.outer) == 4  # no closing duplicate
    assert signed_area(first.outer) == pytest.approx(900.0, rel=1e-6)
    assert signed_area(second.outer) == pytest.approx(100.0, rel=1e-6)
    assert first.source == "way" and first.osm_id == 100


def test_degenerate_missing_unclosed_and_outside_are_skipped_and_counted():
    nodes = {
        **square(1, 0, 0, 10),
        **square(11, 1000, 1000, 10),
        31: (0, 0),
        32: (5, 5),
        33: (10, 10),
        41: (0, 0),
        42: (0.05, 0),
        43: (0.05, 0.05),
    }
    ways = [
        ring_way(1, 1, {"building": "yes"}),
        ring_way(2, 11, {"building": "yes"}),  # far away: outside the box
        Way(3, (31, 32, 33, 31), {"building": "yes"}),  # collinear: no area
        Way(4, (41, 42, 43, 41), {"building": "yes"}),  # 12.5 cm^2: a sliver
        Way(5, (1, 2, 99, 1), {"building": "yes"}),  # node 99 is not in the file
        Way(6, (1, 2, 3), {"building": "yes"}),  # not a ring
        Way(7, (1, 1, 1, 1), {"building": "yes"}),
        ring_way(8, 1, {"building": "no"}),
        ring_way(9, 1, {"building:part": "yes"}),
    ]
    osm = make_osm(nodes, ways)
    result = collect_buildings(osm, project(osm), box=(-50, -50, 50, 50))
    assert [f.osm_id for f in result.footprints] == [1]
    counts = result.counts
    assert counts["ways"] == 7
    assert (counts["skipped_degenerate"], counts["skipped_missing_nodes"]) == (3, 1)
    assert (counts["skipped_unclosed"], counts["outside_box"], counts["parts_ignored"]) == (1, 1, 1)


def courtyard_osm() -> OsmData:
    """A 30 m square with a 10 m courtyard (relation 7, inner split in two) and a 10 m house."""
    nodes = {**square(1, 0, 0, 30), **square(11, 10, 10, 10), **square(21, 50, 0, 10)}
    ways = [
        Way(100, (1, 2, 3, 4, 1), {}),
        Way(200, (11, 12, 13), {}),
        Way(201, (13, 14, 11), {}),
        ring_way(300, 21, {"building": "yes", "building:levels": "2"}),
    ]
    relation = Relation(
        7,
        (Member("way", 100, "outer"), Member("way", 200, "inner"), Member("way", 201, "inner")),
        {"type": "multipolygon", "building": "yes", "height": "20"},
    )
    return make_osm(nodes, ways, [relation])


def test_relation_footprints_have_clockwise_holes():
    osm = courtyard_osm()
    result = collect_buildings(osm, project(osm))
    assert (result.built, result.built_from_relations, result.with_holes) == (2, 1, 1)
    courtyard = next(f for f in result.footprints if f.source == "relation")
    assert courtyard.osm_id == 7 and courtyard.height == 20.0
    assert signed_area(courtyard.outer) > 0
    assert [signed_area(h) for h in courtyard.holes] == [pytest.approx(-100.0, rel=1e-6)]


def test_walls_count_the_ring_edges_and_face_out_of_the_solid():
    osm = courtyard_osm()
    footprints = collect_buildings(osm, project(osm)).footprints
    result = building_mesh(footprints)
    assert isinstance(result, BuildingMesh)
    mesh = result.walls_and_roofs
    edges = sum(len(f.outer) + sum(len(h) for h in f.holes) for f in footprints)
    assert edges == 12
    # Walls of all rings, plus one roof n-gon for the house without a courtyard.
    assert mesh.face_count == edges + 1
    assert mesh.vertex_count == 2 * edges
    assert mesh.loop_totals.tolist() == [4] * edges + [4]

    walls = iter(faces(mesh)[:edges])
    for footprint in footprints:  # walls come footprint by footprint, outer ring first
        centre = footprint.outer.mean(axis=0)
        for ring_number, ring in enumerate([footprint.outer, *footprint.holes]):
            for _ in range(len(ring)):
                points = mesh.vertices[next(walls)]
                normal = newell_normal(points)
                assert abs(normal[2]) < 1e-6
                away = points[:, :2].mean(axis=0) - centre
                # Outer walls face away from the centre; hole walls face into the courtyard.
                assert (np.dot(normal[:2], away) > 0) == (ring_number == 0)
    roof = mesh.vertices[faces(mesh)[-1]]
    assert newell_normal(roof)[2] > 0
    assert roof[:, 2] == pytest.approx([6.0] * 4)
    assert sorted(set(mesh.vertices[:, 2].tolist())) == [0.0, 6.0, 20.0]

    # The courtyard roof is left for Blender to triangulate.
    assert len(result.holed_roofs) == 1
    holed = result.holed_roofs[0]
    assert holed.z == 20.0 and [len(r) for r in holed.rings] == [4, 4]


def test_min_height_lifts_the_walls():
    footprint = Footprint(1, np.array([(0, 0), (4, 0), (4, 4), (0, 4)], float), [], 12.0, 3.0)
    mesh = building_mesh([footprint]).walls_and_roofs
    assert mesh.vertices[:4, 2].tolist() == [3.0] * 4
    assert mesh.vertices[4:, 2].tolist() == [12.0] * 4
    assert building_mesh([]).walls_and_roofs.face_count == 0


def test_triangles_to_mesh_faces_every_triangle_up():
    outer = np.array([(0, 0), (30, 0), (30, 30), (0, 30)], float)
    hole = np.array([(10, 10), (10, 20), (20, 20), (20, 10)], float)
    # Triangles as a triangulator might give them, some wound clockwise.
    triangles = np.array(
        [(0, 1, 4), (1, 7, 4), (1, 2, 7), (2, 6, 7), (2, 3, 6), (3, 5, 6), (3, 0, 5), (0, 4, 5)]
    )
    triangles[::2] = triangles[::2, ::-1]
    mesh = triangles_to_mesh([outer, hole], 15.0, triangles)
    assert mesh.face_count == 8 and mesh.vertex_count == 8
    assert (mesh.vertices[:, 2] == 15.0).all()
    area = 0.0
    for loop in faces(mesh):
        normal = newell_normal(mesh.vertices[loop])
        assert normal[2] > 0
        area += normal[2] / 2
    assert area == pytest.approx(900 - 100)


@pytest.fixture(scope="module")
def read():
    from leanroute.route.osm_parse import read_osm

    def load(name):
        osm = read_osm(SHARED_DATA / "osm" / name)
        return osm, LocalMetres(*osm.data_bounds().centre).project(osm)

    return load


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        # data/README.md: 189 building ways, 9 building relations (all built: the missing
        # member is an inner; the relation keeps its other hole), 1 building:part.
        (
            "lisbon_avenidas_novas.osm",
            {"ways": 189, "relations": 9, "built": 198, "with_holes": 9, "parts_ignored": 1},
        ),
        # 379 building ways, 32 relations, all built; 2 of them are left without holes (22505
        # has none, 396554's inner members are all missing); 30 building:part ways, 2 of which
        # are the outer ways of building relations (380240, 1183499) and drawn with them.
        (
            "berlin_mitte_kreuzberg.osm",
            {"ways": 379, "relations": 32, "built": 411, "with_holes": 30, "parts_ignored": 28},
        ),
        # 1,195 building ways: 13 are the outer ways of old-style relations (building=* on
        # the way), drawn with their courtyards.
        (
            "krems.osm",
            {"ways": 1182, "relations": 13, "built": 1195, "with_holes": 13, "parts_ignored": 0},
        ),
    ],
)
def test_real_extracts(read, name, counts):
    osm, xy = read(name)
    result = collect_buildings(osm, xy)
    assert {key: result.counts[key] for key in counts} == counts
    skipped = ("skipped_missing_nodes", "skipped_degenerate", "skipped_unclosed", "outside_box")
    assert all(result.counts[key] == 0 for key in skipped)
    assert result.relations_skipped == 0 and result.holes_dropped == 0
    for footprint in result.footprints:
        assert signed_area(footprint.outer) > 0
        assert all(signed_area(h) < 0 for h in footprint.holes)
        assert footprint.height > footprint.min_height >= 0
    built = building_mesh(result.footprints)
    mesh = built.walls_and_roofs
    edges = sum(len(f.outer) + sum(len(h) for h in f.holes) for f in result.footprints)
    assert mesh.face_count == edges + result.built - result.with_holes
    assert len(built.holed_roofs) == result.with_holes
    assert mesh.loop_vertices.max() < mesh.vertex_count


def test_real_box_keeps_buildings_near_the_centre(read):
    osm, xy = read("krems.osm")
    result = collect_buildings(osm, xy, box=(-1000.0, -1000.0, 1000.0, 1000.0))
    assert 0 < result.built < 1195
    assert result.built + result.outside_box == 1195
    for footprint in result.footprints:
        assert np.all(np.abs(footprint.outer.mean(axis=0)) <= 1000.0)


def test_a_hundred_thousand_buildings_mesh_in_well_under_a_second_each():
    # 100k octagons in a grid; the walls and roofs are built without a per-building loop.
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    octagon = 6.0 * np.stack((np.cos(angles), np.sin(angles)), axis=1)
    grid = np.stack(np.meshgrid(np.arange(400.0), np.arange(250.0)), axis=-1).reshape(-1, 2)
    outers = (grid * 20.0)[:, None, :] + octagon[None]
    footprints = [Footprint(i, outer, [], 9.0) for i, outer in enumerate(outers)]
    start = time.perf_counter()
    mesh = building_mesh(footprints).walls_and_roofs
    elapsed = time.perf_counter() - start
    assert mesh.face_count == 100_000 * 9 and mesh.vertex_count == 1_600_000
    assert elapsed < 3.0, f"building_mesh took {elapsed:.2f} s for 100k buildings"
