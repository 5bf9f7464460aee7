"""read_osm: real extracts match the README's counts; bad input is refused with its place.

Also what read_osm keeps of a file (:mod:`leanroute.route.osm_needs`): the roads, buildings
and their multipolygons and the nodes they use, the same scene as from the whole file.
"""

import gc
import re
import time
import tracemalloc
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers.paths import SHARED_DATA

from leanroute.route.errors import InputFileError
from leanroute.route.osm_model import Bounds, Way
from leanroute.route.osm_parse import DTD_REFUSED, read_osm

OSM = SHARED_DATA / "osm"
TESTDATA = SHARED_DATA / "osm-testdata"

# ---- the README's column definitions, as found to reproduce its table -----------------------


def is_building_way(way: Way) -> bool:
    """A ``building=*`` way; ``building:part`` alone does not count."""
    return "building" in way.tags


def is_highway_way(way: Way) -> bool:
    """Any ``highway=*`` way."""
    return "highway" in way.tags


def has_height_or_levels(way: Way) -> bool:
    """Any way with ``height`` or ``building:levels`` (building parts included)."""
    return "height" in way.tags or "building:levels" in way.tags


def has_oneway_tag(way: Way) -> bool:
    """Any ``oneway`` tag, whatever its value: ``oneway=no`` counts too."""
    return "oneway" in way.tags


def is_multipolygon_building(relation) -> bool:
    """``type=multipolygon`` with ``building=*``; ``building:part`` relations do not count."""
    return relation.tags.get("type") == "multipolygon" and "building" in relation.tags


def missing_members(data, relation) -> int:
    """Members whose way/relation/node is not in the file."""
    present = {
        "way": lambda ref: ref in data.ways,
        "relation": lambda ref: ref in data.relations,
        "node": lambda ref: data.nodes.index_of([ref])[0] >= 0,
    }
    return sum(not present[m.type](m.ref) for m in relation.members)


# file: (nodes, ways, relations, building, highway, height|levels, oneway, mp, mp with missing)
README_TABLE = {
    "lisbon_avenidas_novas.osm": (2343, 362, 95, 189, 114, 45, 74, 9, 1),
    "berlin_mitte_kreuzberg.osm": (11279, 1322, 130, 379, 473, 279, 63, 32, 2),
    "krems.osm": (15042, 2402, 73, 1195, 838, 0, 206, 0, 0),
}


@pytest.fixture(scope="module")
def extracts():
    """The whole files (keep_all): the README counts what the files hold."""
    return {name: read_osm(OSM / name, keep_all=True) for name in README_TABLE}


@pytest.fixture(scope="module")
def needed():
    """The files as LeanRoute reads them: only what it needs."""
    return {name: read_osm(OSM / name) for name in README_TABLE}


def position(error: InputFileError) -> tuple[int, int]:
    """(line, column) from the message itself, so the text a user sees is what is checked."""
    match = re.match(r"^(.*):(\d+):(\d+): ", str(error))
    assert match, f"no path:line:col in {error}"
    assert match.group(1) == error.path
    return int(match.group(2)), int(match.group(3))


# ---- real extracts --------------------------------------------------------------------------


@pytest.mark.parametrize("name", README_TABLE)
def test_extract_counts_match_readme(extracts, name):
    data = extracts[name]
    ways = list(data.ways.values())
    multipolygons = [r for r in data.relations.values() if is_multipolygon_building(r)]
    counts = (
        len(data.nodes),
        len(data.ways),
        len(data.relations),
        sum(map(is_building_way, ways)),
        sum(map(is_highway_way, ways)),
        sum(map(has_height_or_levels, ways)),
        sum(map(has_oneway_tag, ways)),
        len(multipolygons),
        sum(missing_members(data, r) > 0 for r in multipolygons),
    )
    assert counts == README_TABLE[name]


@pytest.mark.parametrize("name", README_TABLE)
def test_extract_nodes_outside_bounds_are_kept(extracts, name):
    data = extracts[name]
    nodes, bounds = data.nodes, data.bounds
    assert bounds is not None
    outside = ~(
        (nodes.lat >= bounds.min_lat)
        & (nodes.lat <= bounds.max_lat)
        & (nodes.lon >= bounds.min_lon)
        & (nodes.lon <= bounds.max_lon)
    )
    assert outside.sum() > 0
    assert data.nodes.bounds() != bounds
    assert data.data_bounds() == bounds


@pytest.mark.parametrize("name", README_TABLE)
def test_extract_node_table_shape(extracts, name):
    nodes = extracts[name].nodes
    assert nodes.ids.dtype == np.int64
    assert nodes.lat.dtype == nodes.lon.dtype == np.float64
    assert np.all(np.diff(nodes.ids) > 0)
    # Every way ref that the file has resolves to its row.
    way = next(w for w in extracts[name].ways.values() if is_building_way(w))
    rows = nodes.index_of(way.refs)
    assert np.all(rows >= 0)
    assert np.array_equal(nodes.ids[rows], np.array(way.refs))


def test_extract_details(extracts):
    berlin = extracts["berlin_mitte_kreuzberg.osm"]
    assert berlin.generator.startswith("CGImap 0.8.8")
    assert berlin.bounds.min_lat == 52.5056 and berlin.bounds.max_lon == 13.4002
    assert 0 < berlin.tagged_nodes < len(berlin.nodes)
    relation = berlin.relations[22504]
    assert relation.tags["building"] == "hotel"
    assert [m.role for m in relation.members].count("inner") == 2
    assert all(m.type == "way" for m in relation.members)
    assert extracts["krems.osm"].generator == "JOSM"
    # Tag values with XML escapes and non-ASCII text decode.
    lisbon = extracts["lisbon_avenidas_novas.osm"]
    notes = [r.tags["note"] for r in lisbon.relations.values() if "note" in r.tags]
    assert any('"Gira - Bicicletas de Lisboa"' in note and "organização" in note for note in notes)


def test_peak_memory_well_below_full_tree():
    path = OSM / "krems.osm"
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        data = read_osm(path)
        gc.collect()
        result, ours = tracemalloc.get_traced_memory()
        # The parse holds little besides what it keeps: the file's node positions, expat's
        # buffers of two 64 KiB chunks, the node table while it is cut down.
        assert ours - result < 2**20, f"peak {ours / 2**20:.1f} MiB, result {result / 2**20:.1f}"
        # 11,283 nodes, 2,051 ways and 13 relations of the file's 15,042 / 2,402 / 73: 1.6 MiB.
        assert result - base < 2 * 2**20, f"result {(result - base) / 2**20:.1f} MiB"
        del data
        gc.collect()
        tracemalloc.reset_peak()
        tree = ET.parse(path)
        full = tracemalloc.get_traced_memory()[1]
        del tree
    finally:
        tracemalloc.stop()
    assert ours < full / 3, f"read_osm peak {ours / 2**20:.1f} MiB, ET.parse {full / 2**20:.1f} MiB"


def test_krems_parses_in_well_under_a_second():
    start = time.perf_counter()
    read_osm(OSM / "krems.osm")
    assert time.perf_counter() - start < 1.0


# ---- osm-testdata ---------------------------------------------------------------------------


def test_100_valid_without_data():
    data = read_osm(TESTDATA / "100-correct_but_no_data" / "data.osm")
    assert len(data.nodes) == 0 and data.nodes.ids.dtype == np.int64
    assert data.ways == {} and data.relations == {}
    assert data.bounds is None and data.data_bounds() is None
    assert data.generator == "testdata"


def test_101_missing_version_is_accepted():
    data = read_osm(TESTDATA / "101-missing_version" / "data.osm")
    assert len(data.nodes) == 0 and data.ways == {} and data.relations == {}


@pytest.mark.parametrize(
    ("folder", "reason", "where"),
    [
        ("104-empty_file", "the file is empty", (1, 1)),
        ("105-incomplete_xml_file", "the XML ends early", (3, 1)),
        ("106-invalid_xml_file", "unexpected <foo> inside <osm>", (3, 5)),
        ("110-entity_declaration", DTD_REFUSED, (2, 15)),
        ("122-no_osm_element", "the root element is <node>, expected <osm>", (2, 1)),
    ],
)
def test_testdata_refused_with_file_and_position(folder, reason, where):
    path = TESTDATA / folder / "data.osm"
    with pytest.raises(InputFileError) as caught:
        read_osm(path)
    error = caught.value
    assert error.path == str(path)
    assert reason in str(error)
    assert position(error) == where == (error.line, error.column)


def test_105_says_truncated():
    with pytest.raises(InputFileError, match=r"truncated download\?"):
        read_osm(TESTDATA / "105-incomplete_xml_file" / "data.osm")


def test_140_unicode(tmp_path):
    source = TESTDATA / "140-unicode" / "data.osm"
    data = read_osm(source, keep_all=True)
    assert list(data.nodes.ids) == [1, 2, 3, 4, 5]
    assert list(data.nodes.lat) == [11, 12, 13, 14, 15]
    assert data.tagged_nodes == 5
    # Node tags are not kept: read the same tags again as way tags to check their decoding.
    as_ways = (
        source.read_text(encoding="utf-8").replace("<node ", "<way ").replace("</node>", "</way>")
    )
    copy = tmp_path / "unicode_ways.osm"
    copy.write_text(as_ways, encoding="utf-8")
    assert read_osm(copy).ways == {}  # ways with none of the tags LeanRoute reads
    ways = read_osm(copy, keep_all=True).ways
    assert len(ways) == 5
    for way in ways.values():
        tags = way.tags
        char = chr(int(tags["unicode_hex"].removeprefix("U+"), 16))
        assert tags["unicode_char"] == tags["unicode_xml"] == char
        assert len(char.encode("utf-8")) == int(tags["unicode_utf8_length"])
    assert ways[3].tags["unicode_char"] == "\u30dc"
    assert ways[4].tags["unicode_char"] == "\U0001d11e"


# ---- hostile input --------------------------------------------------------------------------


def billion_laughs(levels: int = 10) -> str:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE osm [", ' <!ENTITY lol0 "lol">']
    for level in range(1, levels):
        refs = f"&lol{level - 1};" * 10
        lines.append(f' <!ENTITY lol{level} "{refs}">')
    lines += ["]>", '<osm version="0.6">', f"<note>&lol{levels - 1};</note>", "</osm>"]
    return "\n".join(lines) + "\n"


def test_billion_laughs_refused_fast_in_tiny_memory(tmp_path):
    path = tmp_path / "laughs.osm"
    path.write_text(billion_laughs(), encoding="utf-8")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InputFileError) as caught:
            read_osm(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert DTD_REFUSED in str(caught.value)
    assert position(caught.value)[0] == 2
    assert elapsed < 0.5
    assert peak < 4 * 2**20


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE osm [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE osm SYSTEM "file:///etc/passwd">',
        '<!DOCTYPE osm [<!ENTITY % dtd SYSTEM "http://example.invalid/x.dtd"> %dtd;]>',
    ],
)
def test_external_entities_refused(tmp_path, doctype):
    path = tmp_path / "xxe.osm"
    path.write_text(
        f'<?xml version="1.0"?>\n{doctype}\n<osm version="0.6">\n'
        '<node id="1" lat="0" lon="0"><tag k="x" v="&xxe;"/></node>\n</osm>\n',
        encoding="utf-8",
    )
    with pytest.raises(InputFileError, match="refused, not expanded") as caught:
        read_osm(path)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaked into the message
    assert position(caught.value)[0] == 2


# ---- bad structure and attributes -----------------------------------------------------------


def osm_file(tmp_path, body: str, *, root: str = '<osm version="0.6" generator="test">') -> str:
    path = tmp_path / "case.osm"
    close = "</" + root[1:].split(maxsplit=1)[0].rstrip(">") + ">"
    path.write_text(f"<?xml version='1.0' encoding='UTF-8'?>\n{root}\n{body}\n{close}\n")
    return str(path)


@pytest.mark.parametrize(
    ("body", "reason", "where"),
    [
        ('<node id="1" lat="95" lon="0"/>', "lat='95' is outside -90..90", (3, 1)),
        ('<node id="1" lat="0" lon="-181"/>', "lon='-181' is outside -180..180", (3, 1)),
        ('<node id="1" lat="nan" lon="0"/>', "lat='nan' is not a number", (3, 1)),
        ('<node lat="1" lon="2"/>', "<node> without id=", (3, 1)),
        ('<node id="x1" lat="1" lon="2"/>', "<node> id='x1' is not a whole number", (3, 1)),
        ('<node id="7" lon="2"/>', "node 7 without lat=", (3, 1)),
        ('<node id="7" lat="1" lon="east"/>', "lon='east' is not a number", (3, 1)),
        ('<way id="1">\n  <nd ref="1"/>\n  <nd/>\n</way>', "<nd> without ref=", (5, 3)),
        ("<way>\n</way>", "<way> without id=", (3, 1)),
        ('<relation id="1">\n <member ref="1" role=""/>\n</relation>', "without type=", (4, 2)),
        ('<relation id="1">\n <member type="area" ref="1"/>\n</relation>', "type='area'", (4, 2)),
        ('<relation id="1">\n <member type="way"/>\n</relation>', "<member> without ref=", (4, 2)),
        ('<way id="1"><tag v="x"/></way>', "<tag> without k=", (3, 13)),
        ('<way id="1"><nd ref="1"><nd ref="2"/></nd></way>', "<nd> inside <nd>", (3, 25)),
        ('<node id="1" lat="1" lon="1"><nd ref="2"/></node>', "<nd> inside <node>", (3, 30)),
        ('<bounds minlat="1" minlon="2" maxlat="0" maxlon="3"/>', "not a valid box", (3, 1)),
        ('<bound box="1,2,3"/>', "not four comma-separated numbers", (3, 1)),
        ("<osm/>", "unexpected <osm> inside <osm>", (3, 1)),
        ("<node id='1' lat='1' lon='1'>", "invalid XML: mismatched tag", (4, 3)),
    ],
)
def test_bad_elements_refused_with_position(tmp_path, body, reason, where):
    path = osm_file(tmp_path, body)
    with pytest.raises(InputFileError) as caught:
        read_osm(path)
    assert reason in str(caught.value)
    assert position(caught.value) == where


@pytest.mark.parametrize(
    ("root", "reason"),
    [
        ('<osmChange version="0.6">', "OSM change file (<osmChange>), not map data"),
        ('<osm version="0.5">', "version '0.5' is not supported"),
        ("<gpx>", "the root element is <gpx>, expected <osm>"),
    ],
)
def test_bad_root_refused(tmp_path, root, reason):
    with pytest.raises(InputFileError, match=re.escape(reason)) as caught:
        read_osm(osm_file(tmp_path, "", root=root))
    assert position(caught.value) == (2, 1)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(InputFileError, match="no such file") as caught:
        read_osm(tmp_path / "nowhere.osm")
    assert caught.value.path == str(tmp_path / "nowhere.osm")
    with pytest.raises(InputFileError, match="is a folder"):
        read_osm(tmp_path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"  \n\n ", "the file is empty"),
        (b"<?xml version='1.0'?>\n<!-- nothing -->\n", "holds no XML element"),
        (b"<?xml version='1.0'?>\n<osm version='0.6'>\n<node id='1' lat='1' lo", "ends early"),
        (b"\x1f\x8b\x08\x00 compressed", "gzip-compressed"),
        (b"\x00\x00\x00\x0d\n\tOSMHeader\x18", "PBF (binary)"),
    ],
)
def test_empty_truncated_and_binary_files(tmp_path, content, reason):
    path = tmp_path / "odd.osm"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=re.escape(reason)) as caught:
        read_osm(path)
    assert position(caught.value)[0] >= 1


# ---- what real files contain ----------------------------------------------------------------


def test_unsorted_and_duplicate_nodes_sorted_last_wins(tmp_path):
    body = "\n".join(
        [
            '<node id="30" lat="3" lon="3"/>',
            '<node id="10" lat="1" lon="1"><tag k="a" v="b"/></node>',
            '<node id="20" lat="2" lon="2"/>',
            '<node id="10" lat="1.5" lon="1.5"/>',
            '<node id="-5" lat="-5" lon="-5"/>',
        ]
    )
    data = read_osm(osm_file(tmp_path, body), keep_all=True)
    assert list(data.nodes.ids) == [-5, 10, 20, 30]
    assert list(data.nodes.lat) == [-5, 1.5, 2, 3]
    assert list(data.nodes.lon) == [-5, 1.5, 2, 3]
    assert data.tagged_nodes == 1


def test_relations_keep_missing_members_and_ways_keep_tags(tmp_path):
    body = "\n".join(
        [
            '<bound box="48.1,16.2,48.3,16.4" origin="osmosis"/>',
            '<node id="1" lat="60" lon="60"/>',
            '<way id="5"><nd ref="1"/><nd ref="999"/><tag k="highway" v="service"/></way>',
            '<relation id="9"><member type="way" ref="5" role="outer"/>',
            '<member type="way" ref="404" role="inner"/><member type="node" ref="1"/>',
            '<tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>',
        ]
    )
    data = read_osm(osm_file(tmp_path, body))
    assert data.bounds == Bounds(48.1, 16.2, 48.3, 16.4)
    assert not data.bounds.contains(60, 60) and len(data.nodes) == 1  # outside bounds: kept
    assert data.ways[5].refs == (1, 999) and data.ways[5].tags == {"highway": "service"}
    members = data.relations[9].members
    assert [(m.type, m.ref, m.role) for m in members] == [
        ("way", 5, "outer"),
        ("way", 404, "inner"),
        ("node", 1, ""),
    ]
    assert data.relations[9].tags == {"type": "multipolygon", "building": "yes"}


def test_overpass_extras_and_metadata_elements_are_skipped(tmp_path):
    body = "\n".join(
        [
            "<note>The data included in this document is from www.openstreetmap.org.</note>",
            '<meta osm_base="2024-01-01T00:00:00Z"/>',
            '<changeset id="1"><tag k="comment" v="x"/><discussion><comment/></discussion>'
            "</changeset>",
            '<node id="1" lat="1" lon="1"/>',
            '<node id="2" visible="false"/>',
            '<node id="3" action="delete" lat="1" lon="1"/>',
            '<way id="4"><bounds minlat="1" minlon="1" maxlat="2" maxlon="2"/>',
            '<center lat="1" lon="1"/><nd ref="1"/></way>',
            '<relation id="6"><member type="way" ref="4" role="outer">',
            '<nd lat="1" lon="1"/></member></relation>',
        ]
    )
    data = read_osm(osm_file(tmp_path, body), keep_all=True)
    assert list(data.nodes.ids) == [1]
    assert data.ways[4].refs == (1,)
    assert data.relations[6].members[0].ref == 4
    assert data.bounds is None


# ---- what read_osm keeps --------------------------------------------------------------------

# A hand-written file with one of each case. Nodes n1..n30 at distinct places.
KEEP_CASES = "\n".join(
    [
        *(f'<node id="{i}" lat="{40 + i / 100}" lon="{10 + i / 50}"/>' for i in range(1, 31)),
        '<node id="31" lat="41" lon="11"><tag k="amenity" v="bench"/></node>',  # a POI
        # landuse and waterway: dropped as they end, with their nodes
        '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>'
        '<tag k="landuse" v="grass"/></way>',
        '<way id="11"><nd ref="4"/><nd ref="5"/><tag k="waterway" v="stream"/></way>',
        # a building and a highway sharing node 9
        '<way id="12"><nd ref="7"/><nd ref="8"/><nd ref="9"/><nd ref="7"/>'
        '<tag k="building" v="yes"/></way>',
        '<way id="13"><nd ref="9"/><nd ref="6"/><tag k="highway" v="residential"/></way>',
        # rings of a building multipolygon: untagged outer, inner with a source tag only
        '<way id="14"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="11"/></way>',
        '<way id="15"><nd ref="14"/><nd ref="15"/><nd ref="16"/><nd ref="14"/>'
        '<tag k="source" v="survey"/></way>',
        # an untagged ring of a forest multipolygon
        '<way id="16"><nd ref="17"/><nd ref="18"/><nd ref="19"/><nd ref="17"/></way>',
        # old style: the outer way says building, the relation only type=multipolygon
        '<way id="17"><nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="20"/>'
        '<tag k="building" v="yes"/><tag k="area" v="yes"/></way>',
        '<way id="18"><nd ref="23"/><nd ref="24"/><nd ref="25"/><nd ref="23"/></way>',
        # a building part; a way with only non-feature tags that no relation names
        '<way id="19"><nd ref="26"/><nd ref="27"/><nd ref="28"/><nd ref="26"/>'
        '<tag k="building:part" v="yes"/></way>',
        '<way id="20"><nd ref="29"/><nd ref="30"/><tag k="layer" v="1"/></way>',
        '<relation id="100"><member type="way" ref="14" role="outer"/>'
        '<member type="way" ref="15" role="inner"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>',
        '<relation id="101"><member type="way" ref="16" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="landuse" v="forest"/></relation>',
        '<relation id="102"><member type="way" ref="17" role="outer"/>'
        '<member type="way" ref="18" role="inner"/><tag k="type" v="multipolygon"/></relation>',
        '<relation id="103"><member type="way" ref="13" role=""/>'
        '<member type="node" ref="31" role="stop"/>'
        '<tag k="type" v="route"/><tag k="route" v="bus"/></relation>',
        '<relation id="104"><member type="way" ref="16" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="no"/></relation>',
    ]
)
KEPT_WAYS = [12, 13, 14, 15, 17, 18, 19]
KEPT_NODES = [6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 28]


def test_keeps_roads_buildings_their_multipolygons_and_nodes(tmp_path):
    data = read_osm(osm_file(tmp_path, KEEP_CASES))
    assert list(data.ways) == KEPT_WAYS  # in file order
    assert list(data.relations) == [100, 102]
    assert data.nodes.ids.tolist() == KEPT_NODES
    assert data.dropped == {"nodes": 31 - len(KEPT_NODES), "ways": 4, "relations": 3}
    assert (data.file_nodes, data.file_ways, data.file_relations) == (31, 11, 5)
    assert data.tagged_nodes == 1  # counted in the file, though the node is dropped
    # What is kept is kept whole: refs as tuples of ints, every tag, every member.
    assert data.ways[15].refs == (14, 15, 16, 14) and data.ways[15].tags == {"source": "survey"}
    assert data.ways[17].tags == {"building": "yes", "area": "yes"}
    assert type(data.ways[12].refs) is tuple and type(data.ways[12].refs[0]) is int
    assert [(m.type, m.ref, m.role) for m in data.relations[102].members] == [
        ("way", 17, "outer"),
        ("way", 18, "inner"),
    ]
    # No <bounds>: data_bounds is the box around the kept nodes.
    assert data.bounds is None
    assert data.data_bounds() == Bounds(40.06, 10.12, 40.28, 10.56)
    everything = read_osm(osm_file(tmp_path, KEEP_CASES), keep_all=True)
    assert everything.data_bounds() == Bounds(40.01, 10.02, 41.0, 11.0)


def test_keep_all_keeps_everything(tmp_path):
    data = read_osm(osm_file(tmp_path, KEEP_CASES), keep_all=True)
    assert list(data.ways) == list(range(10, 21))
    assert list(data.relations) == [100, 101, 102, 103, 104]
    assert data.nodes.ids.tolist() == list(range(1, 32))
    assert data.dropped == {"nodes": 0, "ways": 0, "relations": 0}
    assert (data.file_nodes, data.file_ways, data.file_relations) == (31, 11, 5)
    assert data.ways[10].tags == {"landuse": "grass"}
    assert data.relations[103].members[1].ref == 31


def test_relations_before_their_ways_and_later_duplicates(tmp_path):
    body = "\n".join(
        [
            *(f'<node id="{i}" lat="1" lon="{i}"/>' for i in range(1, 9)),
            # The relation comes first; its untagged member way after it.
            '<relation id="7"><member type="way" ref="3" role="outer"/>'
            '<tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>',
            '<way id="3"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/></way>',
            # The last occurrence of an id wins, kept or dropped.
            '<way id="4"><nd ref="4"/><nd ref="5"/><tag k="highway" v="service"/></way>',
            '<way id="4"><nd ref="4"/><nd ref="5"/><tag k="barrier" v="fence"/></way>',
            '<way id="5"><nd ref="5"/><nd ref="6"/><tag k="railway" v="rail"/></way>',
            '<way id="5"><nd ref="6"/><nd ref="7"/><tag k="highway" v="path"/></way>',
            '<way id="6"><nd ref="8"/><nd ref="7"/></way>',
            '<way id="6"><nd ref="8"/><nd ref="7"/><tag k="power" v="line"/></way>',
            '<relation id="8"><tag k="type" v="multipolygon"/><tag k="building" v="yes"/>'
            "</relation>",
            '<relation id="8"><tag k="type" v="route"/></relation>',
        ]
    )
    data = read_osm(osm_file(tmp_path, body))
    assert list(data.relations) == [7]
    assert list(data.ways) == [3, 5]
    assert data.ways[5].refs == (6, 7) and data.ways[5].tags == {"highway": "path"}
    assert data.nodes.ids.tolist() == [1, 2, 3, 6, 7]
    assert data.dropped == {"nodes": 3, "ways": 2, "relations": 1}


@pytest.mark.parametrize(
    ("body", "reason", "where"),
    [
        # Elements that would be dropped are still checked in full.
        (
            '<way id="1"><nd ref="1"/><nd/><tag k="landuse" v="grass"/></way>',
            "<nd> without",
            (3, 26),
        ),
        (
            '<relation id="1"><member type="area" ref="1"/><tag k="type" v="route"/></relation>',
            "type='area'",
            (3, 18),
        ),
        ('<relation id="1"><tag k="type"/></relation>', "<tag> without v=", (3, 18)),
        # References and ids LeanRoute stores as int64.
        ('<way id="1"><nd ref="9223372036854775808"/></way>', "does not fit in 64 bits", (3, 13)),
        ('<way id="-9223372036854775809"/>', "way id -9223372036854775809 does not fit", (3, 1)),
        ('<relation id="9223372036854775808"/>', "relation id 9223372036854775808", (3, 1)),
    ],
)
def test_dropped_elements_are_still_checked(tmp_path, body, reason, where):
    for keep_all in (False, True):
        with pytest.raises(InputFileError) as caught:
            read_osm(osm_file(tmp_path, body), keep_all=keep_all)
        assert reason in str(caught.value)
        assert position(caught.value) == where


def test_largest_ids_are_read(tmp_path):
    top = 2**63 - 1
    body = (
        f'<node id="{top}" lat="1" lon="1"/><node id="{-top - 1}" lat="2" lon="2"/>'
        f'<way id="{top}"><nd ref="{top}"/><nd ref="{-top - 1}"/><tag k="highway" v="path"/>'
        "</way>"
    )
    data = read_osm(osm_file(tmp_path, body))
    assert data.ways[top].refs == (top, -top - 1)
    assert data.nodes.ids.tolist() == [-top - 1, top]


def wanted(data):
    """What read_osm should keep of *data* (read whole), from the rule written out again."""
    from leanroute.route.multipolygon import is_building_relation
    from leanroute.route.osm_needs import FEATURE_KEYS

    relations = [r.id for r in data.relations.values() if is_building_relation(r, data)]
    members = {m.ref for r in relations for m in data.relations[r].members if m.type == "way"}
    ways = [
        w.id
        for w in data.ways.values()
        if {"highway", "building", "building:part"} & set(w.tags)
        or (w.id in members and not FEATURE_KEYS & set(w.tags))
    ]
    nodes = {ref for w in ways for ref in data.ways[w].refs}
    return ways, relations, sorted(nodes & set(data.nodes.ids.tolist())), members


@pytest.mark.parametrize("name", README_TABLE)
def test_extract_keeps_what_is_needed(extracts, needed, name):
    whole, data = extracts[name], needed[name]
    ways, relations, nodes, members = wanted(whole)
    assert list(data.ways) == ways
    assert list(data.relations) == relations
    assert data.nodes.ids.tolist() == nodes
    # Kept objects are the same as in the whole file.
    assert all(data.ways[w] == whole.ways[w] for w in ways)
    assert all(data.relations[r] == whole.relations[r] for r in relations)
    rows = whole.nodes.index_of(data.nodes.ids)
    assert np.array_equal(whole.nodes.lat[rows], data.nodes.lat)
    assert np.array_equal(whole.nodes.lon[rows], data.nodes.lon)
    # No building multipolygon lost a member way the file has.
    assert {m for m in members if m in whole.ways} <= set(data.ways)
    # The file's counts, as the README gives them, and what was dropped.
    file_counts = (data.file_nodes, data.file_ways, data.file_relations)
    assert file_counts == README_TABLE[name][:3]
    assert data.dropped == {
        "nodes": len(whole.nodes) - len(nodes),
        "ways": len(whole.ways) - len(ways),
        "relations": len(whole.relations) - len(relations),
    }
    assert data.dropped["nodes"] > 0 and data.dropped["ways"] > 0
    # Every building and highway way of the README's table is kept; so are the relations.
    kept = list(data.ways.values())
    multipolygons = [r for r in data.relations.values() if is_multipolygon_building(r)]
    assert (
        sum(map(is_building_way, kept)),
        sum(map(is_highway_way, kept)),
        len(multipolygons),
    ) == README_TABLE[name][3:5] + README_TABLE[name][7:8]
    assert data.bounds == whole.bounds and data.tagged_nodes == whole.tagged_nodes


def same_items(ours, theirs, fields: tuple, points: str) -> None:
    """Pairwise: equal *fields*, and *points* arrays of the same shape and values."""
    for mine, other in zip(ours, theirs, strict=True):
        assert [getattr(mine, f) for f in fields] == [getattr(other, f) for f in fields]
        a, b = getattr(mine, points), getattr(other, points)
        assert a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", README_TABLE)
def test_extract_builds_the_same_scene_from_what_is_kept(extracts, needed, name):
    from leanroute.route.building_geometry import collect_buildings
    from leanroute.route.projection import LocalProjection
    from leanroute.route.road_geometry import collect_roads
    from leanroute.route.road_graph import RoadGraph

    whole, data = extracts[name], needed[name]
    projection = LocalProjection(*whole.data_bounds().centre)
    built = []
    for osm in (whole, data):
        xy = np.column_stack(projection.forward(osm.nodes.lat, osm.nodes.lon))
        graph = RoadGraph.from_osm(osm, xy)
        built.append((collect_buildings(osm, xy), collect_roads(osm, xy), graph))
    (buildings, roads, graph), (kept_buildings, kept_roads, kept_graph) = built
    assert kept_buildings.counts == buildings.counts and buildings.built > 0
    assert kept_buildings.multipolygons.counts == buildings.multipolygons.counts
    assert kept_roads.counts == roads.counts and roads.built > 0
    same_items(
        kept_buildings.footprints, buildings.footprints, ("osm_id", "height", "source"), "outer"
    )
    for ours, theirs in zip(kept_buildings.footprints, buildings.footprints, strict=True):
        assert [h.shape for h in ours.holes] == [h.shape for h in theirs.holes]
    same_items(kept_roads.roads, roads.roads, ("osm_id", "highway", "width"), "xy")
    assert kept_graph.node_count == graph.node_count and len(kept_graph.seg_a) == len(graph.seg_a)
    assert np.array_equal(data.nodes.ids[kept_graph.node_rows], whole.nodes.ids[graph.node_rows])
    assert np.array_equal(kept_graph.seg_way, graph.seg_way)
