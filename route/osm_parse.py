# SPDX-License-Identifier: GPL-3.0-or-later
"""Read an OSM XML (API 0.6) file into :class:`.osm_model.OsmData`, streaming, refusing bad input.

Plain Python and numpy, no bpy. The file is fed in 64 KiB chunks to the stdlib expat parser
(``xml.parsers.expat``, the same parser ``xml.etree.ElementTree`` is built on) and handled
element by element as it arrives: no tree is ever built, and what LeanRoute does not need is
let go of as soon as that is known, so peak memory follows the data kept, not the file.
expat is used directly rather than through ``ElementTree.XMLPullParser`` because CPython's
C-accelerated ``XMLParser`` exposes no expat object (``pull._parser.parser`` does not exist
there), so neither the DTD hooks nor the exact element positions would be reachable without
private, implementation-dependent attributes.

What is kept (the rule is :mod:`.osm_needs`'s; ``read_osm(path, keep_all=True)`` keeps
everything instead, as this reader did before):

- ways with ``highway``, ``building`` or ``building:part`` (refs tuple + tags dict); ways
  tagged as another feature (``landuse``, ``natural``, ``waterway``, ``railway``, ``barrier``,
  ``power`` ... see :data:`.osm_needs.FEATURE_KEYS`) are dropped as they end; any other way
  (untagged, or only ``source``, ``layer``, ``area``, a name ...) may be a ring of a building
  multipolygon, so it is held until the end of the file and kept only if a kept relation
  names it;
- ``type=multipolygon`` relations that are buildings (``building`` other than ``no`` on the
  relation, or old style on an outer member way: decided at the end), every member kept
  (those missing from the file or dropped too); other relations are dropped as they end;
- the positions of the nodes that kept ways refer to, in a :class:`.osm_model.NodeTable`
  (int64 ids ascending, float64 lat/lon), nodes outside ``<bounds>`` included (exports hold
  every node of a way that crosses the box). Node tags are never kept, only counted in
  ``OsmData.tagged_nodes`` (over the file's nodes);
- ``<bounds minlat=.. minlon=.. maxlat=.. maxlon=..>`` or osmosis's ``<bound box="s,w,n,e">``
  (the first one), and the ``generator`` attribute of ``<osm>``;
- ``OsmData.dropped`` counts the distinct node, way and relation ids read but not kept
  (``file_nodes`` etc. add them back). Without ``<bounds>``, ``data_bounds()`` is the box
  around the kept nodes, i.e. around the roads and buildings.

A node, way or relation that occurs twice: the last occurrence wins, also when it is the one
dropped. Objects marked deleted (``visible="false"``, JOSM's ``action="delete"``) are skipped.
``<changeset>``, ``<note>``, ``<meta>`` and ``<remark>`` are skipped whole, and so are
Overpass's extras (``<bounds>``/``<center>`` inside a way or relation, ``<nd>`` inside a member).

Refused with :class:`.errors.InputFileError` (``path:line:column: message``), whether or not
the element would have been kept: a missing path or a directory, an empty file, truncated or
malformed XML, any ``<!DOCTYPE>`` (so no DTD or entity is ever declared, let alone expanded: a
billion-laughs file stops at its second line), a root that is not ``<osm>`` (``<osmChange>``
is named as a change file), ``<osm version>`` other than 0.6 (a missing version is accepted),
unexpected or nested elements, and missing or invalid required attributes (node id/lat/lon
with lat within ±90 and lon within ±180, way and relation id, nd ref, member type/ref, tag
k/v, bounds coordinates). Node, way and relation ids and nd refs must fit in 64 bits.

Positions: line numbers are 1-based and columns are 1-based (expat counts columns from 0; one
is added so ``path:line:col`` matches editors). Checks on elements and attributes report the
exact position of the offending element's ``<`` (read from expat while its start tag is
handled), XML syntax errors the exact position expat stopped at, a truncated file the position
where the data ends, an empty file 1:1. A DOCTYPE is reported where expat has read its name and
external id (``<!DOCTYPE abc [`` on line 2 gives 2:15, the ``[``): the right line unless the
declaration itself spans lines. Missing files and folders carry no position.

Memory. While the file is read this holds: every node's id and position (24 bytes a node, in
``array`` buffers: which nodes are needed is only known from the ways, which come after them),
the kept and held ways (node references as ``array('q')``, 8 bytes each, tag values shared
between ways), the kept and held relations, and expat's buffers (about two chunks). At the
end the held ways and relations are settled, the node table is cut down to the needed nodes
one column at a time, and each way's refs become the tuple of ints the consumers read.
Keeping the parse itself from ever holding the unneeded nodes would take a second pass over
the file: expat's tokenizing alone is about 0.1 s of krems' 0.17 s, so that is 50 % slower
at least, to save the 24 bytes of each unneeded node (90 KB on krems, 120 KB on berlin).

Measured on the 2-core development VM, Python 3.11, tracemalloc in a fresh process; needed /
in the file: krems.osm (4.1 MB) 11,283 / 15,042 nodes, 2,051 / 2,402 ways, 13 / 73 relations;
berlin (3.6 MB) 6,211 / 11,279 nodes, 963 / 1,322 ways, 32 / 130 relations; lisbon (0.9 MB)
1,887 / 2,343 nodes, 322 / 362 ways, 9 / 95 relations. Peak / result: krems 2.1 / 1.6 MiB,
berlin 1.4 / 0.9 MiB, lisbon 0.5 / 0.3 MiB (with keep_all 2.9 / 2.5, 2.5 / 2.3, 1.0 / 0.9;
the unfiltered reader with 1 MiB chunks before this took 6.5 / 3.2, 6.5 / 3.1, 4.0 / 1.2),
against 35 MiB for ``ET.parse``'s tree of krems. On 8 copies of krems (33 MB) the peak is
13.4 MiB for a 12.4 MiB result (29.0 / 26.2 before). read_osm takes 0.17 s on krems when the
VM is not contended, the same as the unfiltered reader (paired runs within ±3 %).
``tests/test_osm_parse.py`` checks that krems stays below a third of ``ET.parse`` and within
1 MiB of its result.
"""

import functools
import sys
from array import array
from xml.parsers import expat
from xml.parsers.expat import errors as expat_errors

import numpy as np

from .errors import InputFileError
from .osm_model import Bounds, Member, NodeTable, OsmData, Relation, Way
from .osm_needs import DROP, KEEP, MAYBE, needed_rows, relation_need, resolve, way_need
from .strict_numbers import NumberError, parse_decimal, parse_integer
from .xml_input import CHUNK_SIZE as XML_CHUNK_SIZE
from .xml_input import TRUNCATION_ERRORS, create_parser, current_position, feed, read_xml_file

#: Bytes read and handed to expat at a time (:mod:`.xml_input`'s). expat copies each chunk into
#: a buffer of its own that grows to about twice the chunk, so the chunk sets the parse's fixed
#: memory: 1 MiB chunks cost 3.3 MiB of buffers on krems, 64 KiB ones 0.2 MiB, at the same speed.
CHUNK_SIZE = XML_CHUNK_SIZE

#: The only ``<osm version>`` this reader understands.
OSM_VERSION = "0.6"

#: Elements allowed directly inside ``<osm>``.
TOP_LEVEL = frozenset(
    {"node", "way", "relation", "bounds", "bound", "note", "meta", "remark", "changeset"}
)
#: Top-level elements skipped with everything inside them.
_SKIPPED = frozenset({"note", "meta", "remark", "changeset"})
#: Overpass extras inside ways and relations, skipped with their contents.
_OVERPASS_EXTRAS = frozenset({"bounds", "center"})
_MEMBER_TYPES = {"node": "node", "way": "way", "relation": "relation"}

DTD_REFUSED = "DTD and entity declarations are not allowed in OSM files (refused, not expanded)"


def read_osm(path, keep_all: bool = False) -> OsmData:
    """Read the OSM XML file at *path*, streaming it through expat in 64 KiB chunks.

    Keeps what LeanRoute needs (:mod:`.osm_needs`) and counts the rest in
    ``OsmData.dropped``; *keep_all* keeps every node, way and relation instead. Raises
    :class:`.errors.InputFileError` naming the file and, where there is one, the line and
    column, for anything it cannot read (see the module docstring for the list); an element
    is checked in full even when it is not kept.
    """
    return read_xml_file(path, functools.partial(_Reader, keep_all=keep_all), "an OSM file")


class _Reader:
    """expat handlers and the arrays they fill; one instance reads one file."""

    def __init__(self, path: str, keep_all: bool = False):
        self.path = path
        self.keep_all = keep_all
        # No namespace processing, no external entities; the parser refuses any DTD.
        parser = create_parser(path, DTD_REFUSED)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self.parser = parser

        self.depth = 0  # depth of the innermost open element; <osm> is 1
        self.skip_depth = 0  # inside an element being skipped whole: its depth, else 0
        self.root_seen = False
        self.current = ""  # the open top-level element: "node", "way", "relation", "bounds"
        self.child = ""  # the last element opened inside it: "nd", "tag", "member"
        self.current_id = 0
        self.node_tagged = False
        self.refs = array("q")
        self.members: list[tuple[str, int, str]] = []
        self.tags: dict[str, str] = {}

        self.node_ids = array("q")
        self.node_lat = array("d")
        self.node_lon = array("d")
        # Until the end: way id -> (refs, tags), refs kept as array('q') (8 bytes a node
        # reference, against 40 for a tuple of ints); the ids of undecided ways and relations.
        self.ways: dict[int, tuple[array, dict[str, str]]] = {}
        self.relations: dict[int, Relation] = {}
        self.maybe_ways: set[int] = set()
        self.maybe_relations: set[int] = set()
        self.values: dict[str, str] = {}  # tag values of the ways held, each string once
        # Every way and relation id read (kept or not), to count the distinct ones.
        self.way_ids = array("q")
        self.relation_ids = array("q")
        self.bounds: Bounds | None = None
        self.generator = ""
        self.tagged_nodes = 0

    # ---- driving expat ----------------------------------------------------------------------

    def read(self, stream) -> None:
        """Feed *stream* to expat chunk by chunk; turn every failure into an InputFileError."""
        feed(
            self.parser,
            stream,
            self.path,
            self._xml_error,
            format_name="OSM XML",
            check_start=self._check_binary,
        )
        # Free expat's buffers before the result is built (its peak is the parse's).
        self.parser = None

    def _check_binary(self, head: bytes) -> None:
        # A PBF file gets a hint instead of expat's "syntax error" at 1:1.
        if b"OSMHeader" in head[:64]:
            raise InputFileError(
                self.path,
                "the file is an OSM PBF (binary) file; LeanRoute reads OSM XML (.osm)",
                line=1,
                column=1,
            )

    def _xml_error(self, error: expat.ExpatError) -> InputFileError:
        line, column = error.lineno, error.offset + 1
        if error.code in TRUNCATION_ERRORS and self.root_seen:
            return InputFileError(
                self.path,
                "the XML ends early, before </osm> (truncated download?)",
                line=line,
                column=column,
            )
        if error.code == expat_errors.codes[expat_errors.XML_ERROR_NO_ELEMENTS]:
            return InputFileError(
                self.path,
                "the file holds no XML element (expected <osm>)",
                line=line,
                column=column,
            )
        reason = expat.ErrorString(error.code)
        return InputFileError(self.path, f"invalid XML: {reason}", line=line, column=column)

    def _refuse(self, message: str) -> InputFileError:
        """An error at the position expat is handling right now (the current element's '<')."""
        line, column = current_position(self.parser)
        return InputFileError(self.path, message, line=line, column=column)

    # ---- handlers ---------------------------------------------------------------------------

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        if self.skip_depth:
            return
        if depth == 3:
            self._child(name, attrs)
        elif depth == 2:
            self._top_level(name, attrs)
        elif depth == 1:
            self._root(name, attrs)
        else:
            raise self._refuse(f"unexpected <{name}> inside <{self.child}>")

    def _end(self, _name: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if self.skip_depth:
            if depth == self.skip_depth:
                self.skip_depth = 0
            return
        if depth != 2:
            return
        current = self.current
        if current == "way":
            self._end_way()
        elif current == "relation":
            self._end_relation()
        elif current == "node" and self.node_tagged:
            self.tagged_nodes += 1
        self.current = ""

    def _end_way(self) -> None:
        # A later occurrence of an id replaces an earlier one, even when it is dropped.
        way_id, tags = self.current_id, self.tags
        need = KEEP if self.keep_all else way_need(tags)
        if need == DROP:
            self.ways.pop(way_id, None)
            self.maybe_ways.discard(way_id)
            return
        # One string object per distinct value ("yes", "residential", a street's name ...).
        values = self.values
        for key, value in tags.items():
            tags[key] = values.setdefault(value, value)
        self.ways[way_id] = (self.refs, tags)
        if need == MAYBE:
            self.maybe_ways.add(way_id)
        elif self.maybe_ways:
            self.maybe_ways.discard(way_id)

    def _end_relation(self) -> None:
        relation_id, tags = self.current_id, self.tags
        need = KEEP if self.keep_all else relation_need(tags)
        if need == DROP:
            self.relations.pop(relation_id, None)
            self.maybe_relations.discard(relation_id)
            return
        members = tuple(Member(*member) for member in self.members)
        self.relations[relation_id] = Relation(relation_id, members, tags)
        if need == MAYBE:
            self.maybe_relations.add(relation_id)
        elif self.maybe_relations:
            self.maybe_relations.discard(relation_id)

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        if name == "osmChange":
            raise self._refuse(
                "this is an OSM change file (<osmChange>), not map data: export the map "
                "area as .osm instead"
            )
        if name != "osm":
            raise self._refuse(f"the root element is <{name}>, expected <osm>")
        version = attrs.get("version")
        if version is not None and version.strip() != OSM_VERSION:
            raise self._refuse(
                f"OSM XML version {version!r} is not supported (expected {OSM_VERSION!r})"
            )
        self.root_seen = True
        self.generator = attrs.get("generator", "")

    def _top_level(self, name: str, attrs: dict[str, str]) -> None:
        if name not in TOP_LEVEL:
            raise self._refuse(
                f"unexpected <{name}> inside <osm> (expected node, way, relation or bounds)"
            )
        if name in _SKIPPED or attrs.get("visible") == "false" or attrs.get("action") == "delete":
            self.skip_depth = 2
            return
        self.current = name
        if name == "node":
            self._node(attrs)
        elif name == "way":
            self.current_id = self._id(attrs, "way", self.way_ids)
            self.refs = array("q")
            self.tags = {}
        elif name == "relation":
            self.current_id = self._id(attrs, "relation", self.relation_ids)
            self.members = []
            self.tags = {}
        elif self.bounds is None:
            self.bounds = self._bounds(name, attrs)

    def _node(self, attrs: dict[str, str]) -> None:
        node_id = self._int(attrs, "id", "node")
        lat = self._float(attrs, "lat", "node")
        lon = self._float(attrs, "lon", "node")
        if not -90.0 <= lat <= 90.0:
            raise self._refuse(f"node {node_id}: lat={attrs['lat']!r} is outside -90..90")
        if not -180.0 <= lon <= 180.0:
            raise self._refuse(f"node {node_id}: lon={attrs['lon']!r} is outside -180..180")
        try:
            self.node_ids.append(node_id)
        except OverflowError:
            raise self._refuse(f"node id {node_id} does not fit in 64 bits") from None
        self.node_lat.append(lat)
        self.node_lon.append(lon)
        self.node_tagged = False

    def _child(self, name: str, attrs: dict[str, str]) -> None:
        current = self.current
        self.child = name
        if name == "nd" and current == "way":
            ref = self._int(attrs, "ref", "nd")
            try:
                self.refs.append(ref)
            except OverflowError:
                raise self._refuse(f"<nd> ref {ref} does not fit in 64 bits") from None
        elif name == "tag" and current in ("way", "relation", "node"):
            try:
                key, value = attrs["k"], attrs["v"]
            except KeyError as missing:
                raise self._refuse(f"<tag> without {missing.args[0]}=") from None
            if current == "node":
                self.node_tagged = True
            else:
                self.tags[sys.intern(key)] = value
        elif name == "member" and current == "relation":
            self._member(attrs)
        elif name in _OVERPASS_EXTRAS and current in ("way", "relation"):
            self.skip_depth = 3
        else:
            raise self._refuse(f"unexpected <{name}> inside <{current}>")

    def _member(self, attrs: dict[str, str]) -> None:
        kind = _MEMBER_TYPES.get(attrs.get("type", ""))
        if kind is None:
            if "type" not in attrs:
                raise self._refuse(f"relation {self.current_id}: <member> without type=")
            raise self._refuse(
                f"relation {self.current_id}: member type={attrs['type']!r} "
                "(expected node, way or relation)"
            )
        ref = self._int(attrs, "ref", "member")
        self.members.append((kind, ref, sys.intern(attrs.get("role", ""))))
        # Overpass's "out geom" puts <nd lat lon/> inside members: skipped with the member.
        self.skip_depth = 3

    def _bounds(self, name: str, attrs: dict[str, str]) -> Bounds:
        if name == "bound":  # osmosis: <bound box="minlat,minlon,maxlat,maxlon" origin=..>
            parts = attrs.get("box", "").split(",")
            try:
                if len(parts) != 4:
                    raise NumberError(f"{len(parts)} values")
                values = [parse_decimal(part) for part in parts]
            except NumberError:
                raise self._refuse(
                    f"<bound box={attrs.get('box', '')!r}> is not four comma-separated numbers"
                ) from None
        else:
            values = [self._float(attrs, key, "bounds") for key in _BOUNDS_KEYS]
        min_lat, min_lon, max_lat, max_lon = values
        if not (-90.0 <= min_lat <= max_lat <= 90.0 and -180.0 <= min_lon <= max_lon <= 180.0):
            raise self._refuse(f"<{name}> is not a valid box: {values}")
        return Bounds(min_lat, min_lon, max_lat, max_lon)

    # ---- attribute parsing ------------------------------------------------------------------

    def _int(self, attrs: dict[str, str], key: str, element: str) -> int:
        try:
            return parse_integer(attrs[key])
        except KeyError:
            raise self._refuse(f"<{element}> without {key}=") from None
        except NumberError as error:
            raise self._refuse(f"<{element}> {key}={error}") from None

    def _id(self, attrs: dict[str, str], element: str, ids: array) -> int:
        """The way or relation id, also added to *ids* (so it must fit in 64 bits)."""
        value = self._int(attrs, "id", element)
        try:
            ids.append(value)
        except OverflowError:
            raise self._refuse(f"{element} id {value} does not fit in 64 bits") from None
        return value

    def _float(self, attrs: dict[str, str], key: str, element: str) -> float:
        try:
            return parse_decimal(attrs[key])
        except KeyError:
            where = f"node {attrs['id']}" if element == "node" else f"<{element}>"
            raise self._refuse(f"{where} without {key}=") from None
        except NumberError as error:
            raise self._refuse(f"<{element}> {key}={error}") from None

    # ---- result -----------------------------------------------------------------------------

    def result(self) -> OsmData:
        """The OsmData read; nodes sorted by id, the last of duplicate ids kept.

        Unless everything is kept: the held ways and relations are settled (:func:`.resolve`),
        only the nodes of the kept ways stay, and what went is counted in ``dropped``.
        """
        # frombuffer shares the arrays' memory (no copy); it cannot take an empty buffer.
        columns = [
            np.frombuffer(values, dtype=dtype) if values else np.zeros(0, dtype=dtype)
            for values, dtype in (
                (self.node_ids, np.int64),
                (self.node_lat, np.float64),
                (self.node_lon, np.float64),
            )
        ]
        self.node_ids = self.node_lat = self.node_lon = None  # the columns hold them now
        order = _sorting_order(columns[0])
        if order is not None:
            _take(columns, order)
        dropped = {"nodes": 0, "ways": 0, "relations": 0}
        if not self.keep_all:
            resolve(self.ways, self.maybe_ways, self.relations, self.maybe_relations)
            keep = needed_rows(columns[0], (refs for refs, _ in self.ways.values()))
            if not keep.all():
                _take(columns, keep)
            dropped = {
                "nodes": len(keep) - len(columns[0]),
                "ways": _distinct(self.way_ids) - len(self.ways),
                "relations": _distinct(self.relation_ids) - len(self.relations),
            }
        ids, lat, lon = columns
        self.way_ids = self.relation_ids = None
        self.values = {}
        ways = self.ways
        self.ways = {}
        # Way.refs is a tuple of ints for the consumers; each array goes as its tuple is made.
        result_ways: dict[int, Way] = {}
        for way_id, (refs, tags) in ways.items():
            result_ways[way_id] = Way(way_id, tuple(refs), tags)
            ways[way_id] = None
        del ways
        return OsmData(
            path=self.path,
            nodes=NodeTable(ids=ids, lat=lat, lon=lon),
            ways=result_ways,
            relations=self.relations,
            bounds=self.bounds,
            generator=self.generator,
            tagged_nodes=self.tagged_nodes,
            dropped=dropped,
        )


def _sorting_order(ids: np.ndarray) -> "np.ndarray | None":
    """Rows that sort *ids* keeping the last of equal ids; None if already strictly ascending."""
    if len(ids) < 2 or np.all(ids[1:] > ids[:-1]):
        return None
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    # After a stable sort, the last of each run of equal ids is the last occurrence.
    return order[np.append(sorted_ids[1:] != sorted_ids[:-1], True)]


def _take(columns: list[np.ndarray], rows: np.ndarray) -> None:
    """Replace each column by its *rows*, one at a time: one old column at most is held."""
    for index, column in enumerate(columns):
        columns[index] = None
        columns[index] = column[rows]
        del column


def _distinct(ids: array) -> int:
    """How many different values *ids* holds."""
    return len(np.unique(np.frombuffer(ids, dtype=np.int64))) if ids else 0


_BOUNDS_KEYS = ("minlat", "minlon", "maxlat", "maxlon")
