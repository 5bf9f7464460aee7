"""read_osm: real extracts match the README's counts; bad input is refused with its place."""

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
        data = read_osm(path)
        ours = tracemalloc.get_traced_memory()[1]
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
    data = read_osm(source)
    assert list(data.nodes.ids) == [1, 2, 3, 4, 5]
    assert list(data.nodes.lat) == [11, 12, 13, 14, 15]
    assert data.tagged_nodes == 5
    # Node tags are not kept: read the same tags again as way tags to check their decoding.
    as_ways = (
        source.read_text(encoding="utf-8").replace("<node ", "<way ").replace("</node>", "</way>")
    )
    copy = tmp_path / "unicode_ways.osm"
    copy.write_text(as_ways, encoding="utf-8")
    ways = read_osm(copy).ways
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
        ('<node id="1" lat="nan" lon="0"/>', "lat='nan' is outside", (3, 1)),
        ('<node lat="1" lon="2"/>', "<node> without id=", (3, 1)),
        ('<node id="x1" lat="1" lon="2"/>', "<node> id='x1' is not an integer", (3, 1)),
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
    data = read_osm(osm_file(tmp_path, body))
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
    data = read_osm(osm_file(tmp_path, body))
    assert list(data.nodes.ids) == [1]
    assert data.ways[4].refs == (1,)
    assert data.relations[6].members[0].ref == 4
    assert data.bounds is None
