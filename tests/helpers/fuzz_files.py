"""Fuzz cases of mutated input files: bytes of any file, OSM and GPX structure (no bpy).

Each ``*_case(corpus, number)`` adds one case to the corpus; *number* counts that kind's
cases, so the fixed lists below are walked in turn and a larger scale goes round again with
other random positions.
"""

import re

from helpers.fuzz_base import (
    ANY,
    COURTYARD_RELATION,
    COURTYARD_WAYS,
    CSV,
    GPX,
    JSON,
    ODD_NUMBERS,
    OSM,
    REFUSE,
    Corpus,
    csv_of,
    job_rows,
    json_job,
    json_list,
    json_object,
    node_xml,
    odd_number,
    relation_xml,
    track_points,
    way_xml,
)

# -- bytes -----------------------------------------------------------------------------------

_BAD_UTF8 = (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82")


def _inputs(corpus: Corpus, which: int):
    """(file name, its valid bytes, the command, the other files) for input *which* (0-3)."""
    osm, gpx = corpus.base.osm.encode(), corpus.gpx().encode()
    rows = job_rows(corpus.base)
    choices = (
        (OSM, osm, corpus.build_route(), {}),
        (GPX, gpx, corpus.build_gpx(), {OSM: osm}),
        (CSV, csv_of(rows).encode(), corpus.batch(CSV), {OSM: osm, GPX: gpx}),
        (JSON, json_list(*map(json_object, map(json_job, rows))).encode(), corpus.batch(JSON),
         {OSM: osm, GPX: gpx}),
    )  # fmt: skip
    return choices[which % len(choices)]


def byte_mutations(rng, data: bytes):
    """(label, make, expect) byte mutations of *data*, drawing positions from *rng*."""
    size = len(data)
    at = rng.randrange(min(60, size - 1), size)  # past the declaration or header

    def flip():
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(size)] ^= 1 << rng.randrange(8)
        return bytes(out)

    def duplicate():
        start = rng.randrange(size)
        chunk = data[start : start + rng.randint(1, 400)]
        where = rng.randrange(size)
        return data[:where] + chunk + data[where:]

    def swap_lines():
        lines = data.split(b"\n")
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)

    drop_start = rng.randrange(size)
    return (
        ("truncate", lambda: data[: rng.randrange(1, size)], ANY),
        ("flip-bits", flip, ANY),
        ("nul", lambda: data[:at] + b"\x00" + data[at:], REFUSE),
        ("bom-start", lambda: b"\xef\xbb\xbf" + data, ANY),
        ("bom-inside", lambda: data[:at] + b"\xef\xbb\xbf" + data[at:], ANY),
        ("invalid-utf8", lambda: data[:at] + rng.choice(_BAD_UTF8) + data[at:], REFUSE),
        ("duplicate-chunk", duplicate, ANY),
        ("drop-chunk", lambda: data[:drop_start] + data[drop_start + rng.randint(1, 300) :], ANY),
        ("swap-lines", swap_lines, ANY),
        ("crlf", lambda: data.replace(b"\n", b"\r\n"), ANY),
        ("cr-only", lambda: data.replace(b"\n", b"\r"), ANY),
    )


def bytes_case(corpus: Corpus, number: int) -> None:
    """A byte-level mutation of the OSM, GPX, CSV or JSON input, in turn."""
    name, data, args, others = _inputs(corpus, number)
    mutations = byte_mutations(corpus.rng, data)
    label, make, expect = mutations[(number // 4 + number % 4) % len(mutations)]
    mutated = make()
    corpus.add(f"bytes-{name.split('.')[1]}", label, args, {**others, name: mutated},
               expect=expect if mutated != data else ANY, mention=(name,))  # fmt: skip


# -- OSM -------------------------------------------------------------------------------------

#: (label, element, attribute, float or int) of every numeric OSM attribute.
NUMERIC_ATTRIBUTES = (
    ("node-lat", "node", "lat", "float"),
    ("node-lon", "node", "lon", "float"),
    ("node-id", "node", "id", "int"),
    ("nd-ref", "nd", "ref", "int"),
    ("way-id", "way", "id", "int"),
    ("member-ref", "member", "ref", "int"),
    ("relation-id", "relation", "id", "int"),
    ("bounds", "bounds", "minlat", "float"),
)


def attribute_replaced(rng, text: str, element: str, attribute: str, value_of) -> str:
    """*value_of(original)* as the *attribute* of a random *element* of *text*."""
    pattern = re.compile(rf'<{element} [^>]*?\b{attribute}="([^"]*)"')
    match = rng.choice(list(pattern.finditer(text)))
    value = value_of(match.group(1)).replace("&", "&amp;").replace('"', "&quot;")
    return text[: match.start(1)] + value + text[match.end(1) :]


def osm_number_case(corpus: Corpus, number: int) -> None:
    """An odd number (each in turn) in a random numeric attribute of the OSM file."""
    rng = corpus.rng
    label, element, attribute, kind = rng.choice(NUMERIC_ATTRIBUTES)
    odd_label, transform, refused_for = ODD_NUMBERS[number % len(ODD_NUMBERS)]
    text = attribute_replaced(rng, corpus.base.osm, element, attribute, transform)
    corpus.add("osm-number", f"{label}-{odd_label}", corpus.build_route(), {OSM: text},
               expect=REFUSE if kind in refused_for else ANY, mention=(OSM,))  # fmt: skip


def _appended(text: str, xml: str) -> str:
    return text.replace("</osm>", xml + "</osm>")


def _moved(text: str, node_id: int, lat, lon) -> str:
    return re.sub(rf'<node id="{node_id}" version="1" [^>]*/>',
                  node_xml(node_id, lat, lon).strip(), text)  # fmt: skip


def osm_structures(corpus: Corpus, text: "str | None" = None):
    """(label, mutated OSM text, expect): ranges, glitches, ids, refs, rings, relations, tags.

    Each changes *text* (by default the base city).
    """
    base, rng = corpus.base, corpus.rng
    text = base.osm if text is None else text
    node, highway = rng.choice(base.node_ids), rng.choice(base.highway_ways)
    outer, inner = COURTYARD_WAYS
    mp = {"type": "multipolygon", "building": "yes"}
    road = {"highway": "residential"}

    def way(refs, tags):
        return _appended(text, way_xml(90001, refs, tags))

    def relation(members, *more):
        return _appended(text, relation_xml(90002, members, mp) + "".join(more))

    return (
        ("lat-91", _moved(text, node, "91.0000000", "-30.0"), ANY),
        ("lat-minus-90.5", _moved(text, node, "-90.5", "-30.0"), ANY),
        ("lon-181", _moved(text, node, "45.0", "181.0"), ANY),
        ("lon-minus-720", _moved(text, node, "45.0", "-720"), ANY),
        ("glitch-node-0-0", _moved(text, node, "0", "0"), ANY),
        ("glitch-node-far", _moved(text, node, "65.0", "-30.0"), ANY),
        ("glitch-node-antipode", _moved(text, node, "-45.0", "150.0"), ANY),
        ("duplicate-node-id", _appended(text, node_xml(node, "45.0005", "-30.0005")), ANY),
        ("duplicate-way-id", _appended(text, way_xml(highway, [node, node], road)), ANY),
        ("duplicate-relation-id", _appended(text, relation_xml(COURTYARD_RELATION, [], mp)), ANY),
        ("missing-node-ref", way([1, 987654321, 2], road), ANY),
        ("missing-way-member", relation([("way", 987654, "outer")]), ANY),
        ("building-one-node", way([node], {"building": "yes"}), ANY),
        ("highway-no-nodes", way([], road), ANY),
        ("highway-one-node", way([node], road), ANY),
        ("highway-same-node", way([node] * 5, road), ANY),
        ("building-repeated-nodes", way([1, 2, 2, 2, 3, 1], {"building": "yes"}), ANY),
        ("building-two-nodes", way([1, 2, 1], {"building": "yes"}), ANY),
        ("building-open-ring", way([1, 2, 4, 3], {"building": "yes"}), ANY),
        ("building-bowtie", way([1, 4, 2, 3, 1], {"building": "yes"}), ANY),
        ("relation-contains-itself", relation([("relation", 90002, "outer"),
                                               ("way", outer, "outer")]), ANY),
        ("relations-contain-each-other", relation(
            [("relation", 90003, "outer")],
            relation_xml(90003, [("relation", 90002, "outer")], mp)), ANY),
        ("courtyard-contains-itself", text.replace(
            'role="inner"/>', f'role="inner"/>\n    <member type="relation" '
            f'ref="{COURTYARD_RELATION}" role="outer"/>'), ANY),
        ("inner-without-outer", relation([("way", inner, "inner")]), ANY),
        ("outer-not-closed", relation([("way", 90004, "outer")],
                                      way_xml(90004, [9001, 9002, 9003], {})), ANY),
        ("node-as-member", relation([("node", 1, "outer"), ("way", outer, "outer")]), ANY),
        ("bogus-member-type", relation([("bogus", 1, "outer")]), ANY),
        ("highway-as-outer", relation([("way", highway, "outer")]), ANY),
        ("same-ring-twice", relation([("way", outer, "outer"), ("way", outer, "outer"),
                                      ("way", outer, "inner")]), ANY),
        ("huge-tag-value", way([1, 2], {**road, "name": "x" * 1_000_000}), ANY),
        ("many-tags", way([1, 3], {**road, **{f"k{i}": "v" for i in range(5000)}}), ANY),
        ("empty-tag-key", way([1, 3], {"": "x", "highway": ""}), ANY),
        ("tag-without-value", text.replace('v="commercial"/>', "/>", 1), ANY),
        ("nd-without-ref", text.replace('<nd ref="2"/>', "<nd/>", 1), ANY),
        ("node-without-lat", re.sub(r'(<node id="5" version="1") lat="[^"]*"', r"\1", text),
         REFUSE),
        ("node-after-relations", _appended(text, node_xml(max(base.node_ids) + 1, "45", "-30")),
         ANY),
        ("negative-ids", _appended(text, node_xml(-1, "45.0001", "-30.0001")
                                   + node_xml(-2, "45.0002", "-30.0001")
                                   + way_xml(-1, [-1, -2], road)), ANY),
        ("id-beyond-int64", _appended(text, node_xml(2**64 + 5, "45.0", "-30.0")), ANY),
        ("ref-beyond-int64", way([1, 2**63], road), ANY),
        ("long-zigzag-way", way([1, 2] * 5000, road), ANY),
        ("char-ref-arabic-digit", attribute_replaced(rng, text, "node", "lat",
                                                      lambda t: "&#x0664;" + t[1:]), REFUSE),
        ("char-ref-ascii-digit", attribute_replaced(rng, text, "node", "lat",
                                                     lambda t: "&#x34;" + t[1:]), ANY),
        ("bounds-inverted", re.sub(r'minlat="([^"]*)" minlon="([^"]*)" maxlat="([^"]*)" '
                                   r'maxlon="([^"]*)"', r'minlat="\3" minlon="\4" maxlat="\1" '
                                   r'maxlon="\2"', text), ANY),
        ("bounds-missing", re.sub(r"  <bounds [^>]*/>\n", "", text), ANY),
        ("bounds-far-away", re.sub(r'<bounds [^>]*/>', '<bounds minlat="10" minlon="10" '
                                   'maxlat="11" maxlon="11"/>', text), ANY),
        ("bounds-old-style-box", re.sub(r'<bounds [^>]*/>', '<bound box="44.998,-30.003,'
                                        '45.002,-29.997" origin="x"/>', text), ANY),
        ("bounds-zero-area", re.sub(r'<bounds [^>]*/>', '<bounds minlat="45" minlon="-30" '
                                    'maxlat="45" maxlon="-30"/>', text), ANY),
    )  # fmt: skip


def osm_structure_case(corpus: Corpus, number: int) -> None:
    """A structural change to the OSM file (each in turn; again with other random nodes)."""
    structures = osm_structures(corpus)
    label, text, expect = structures[number % len(structures)]
    corpus.add("osm-structure", label, corpus.build_route(), {OSM: text}, expect=expect,
               mention=(OSM,))  # fmt: skip


_TAG_NUMBERS = ("1_0", "\u0661\u0662", "\uff11\uff12", "nan", "inf", "-inf", "1e999", "-5",
                "9" * 400, "", "0", "1e308")  # fmt: skip
_NUMERIC_TAGS = ("height", "building:levels", "min_height", "maxspeed", "lanes", "width")


def osm_tag_number_case(corpus: Corpus, number: int) -> None:
    """An odd number in a tag read as a number (heights, levels, speeds) of a random way."""
    key = _NUMERIC_TAGS[number % len(_NUMERIC_TAGS)]
    value = _TAG_NUMBERS[number % len(_TAG_NUMBERS)]
    base = corpus.base
    way = corpus.rng.choice(
        base.highway_ways if key in ("maxspeed", "lanes") else base.building_ways
    )
    text = re.sub(rf'(<way id="{way}" version="1">.*?)(  </way>)',
                  lambda m: f'{m[1]}    <tag k="{key}" v="{value}"/>\n{m[2]}',
                  base.osm, count=1, flags=re.S)  # fmt: skip
    shown = value if value.isascii() and len(value) < 9 else "odd"
    corpus.add("osm-tag-number", f"{key.replace(':', '-')}-{shown}", corpus.build_route(),
               {OSM: text}, mention=(OSM,))  # fmt: skip


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def xml_variants(text: str, root: str):
    """(label, bytes or text, expect): declarations, encodings, namespaces, DOCTYPEs, roots."""
    body = text.split("\n", 1)[1]

    def declared(declaration: str) -> str:
        return text.replace(_DECLARATION, declaration, 1)

    def rooted(opening: str, closing: str = f"</{root}>") -> str:
        return text.replace(f"<{root} ", opening, 1).replace(f"</{root}>", closing)

    entity = f'<!DOCTYPE {root} [<!ENTITY e "x">]>\n'

    def uses(entity_name: str) -> str:
        return body.replace(f"<{root} ", f'<{root} x="&{entity_name};" ', 1)

    laughs = (f'<!DOCTYPE {root} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>\n')  # fmt: skip
    return (
        ("encoding-klingon", declared('<?xml version="1.0" encoding="klingon"?>'), REFUSE),
        ("encoding-utf16-declared", declared('<?xml version="1.0" encoding="UTF-16"?>'), REFUSE),
        ("encoding-latin1", declared('<?xml version="1.0" encoding="ISO-8859-1"?>'), ANY),
        ("encoding-utf16-real",
         declared('<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"), ANY),
        ("encoding-empty", declared('<?xml version="1.0" encoding=""?>'), REFUSE),
        ("xml-version-9", declared('<?xml version="9.9"?>'), ANY),
        ("no-declaration", body, ANY),
        ("declaration-late", "\n\n" + text, REFUSE),
        ("doctype-plain", f"{_DECLARATION}\n<!DOCTYPE {root}>\n{body}", REFUSE),
        ("doctype-entity", f"{_DECLARATION}\n{entity}{uses('e')}", REFUSE),
        ("doctype-external",
         f'{_DECLARATION}\n<!DOCTYPE {root} SYSTEM "file:///etc/passwd">\n{body}', REFUSE),
        ("billion-laughs", f"{_DECLARATION}\n{laughs}{uses('c')}", REFUSE),
        ("processing-instruction", rooted(f"<?php echo 1 ?>\n<{root} "), ANY),
        ("comment-and-cdata", rooted(f"<!-- hi -->\n<{root} ", f"<![CDATA[x]]></{root}>"), ANY),
        ("default-namespace", rooted(f'<{root} xmlns="http://example.org/x" '), ANY),
        ("prefixed-root", rooted(f'<x:{root} xmlns:x="http://example.org/x" ', f"</x:{root}>"),
         ANY),
        ("namespaced-attribute", rooted(f'<{root} xmlns:q="urn:q" q:lat="1" '), ANY),
        ("wrong-root", rooted("<kml ", "</kml>"), REFUSE),
        ("two-roots", text + f"<{root}/>\n", REFUSE),
        ("empty-root", f"{_DECLARATION}\n<{root}/>\n", REFUSE),
        ("only-declaration", _DECLARATION + "\n", REFUSE),
        ("empty-file", "", REFUSE),
        ("whitespace-file", "  \n\t\n", REFUSE),
        ("json-instead", '{"type": "FeatureCollection", "features": []}', REFUSE),
        ("gzip-instead", b"\x1f\x8b\x08\x00" + bytes(range(256)), REFUSE),
    )  # fmt: skip


def osm_xml_case(corpus: Corpus, number: int) -> None:
    """The OSM file's declaration, encoding, namespace, DOCTYPE or root changed."""
    variants = xml_variants(corpus.base.osm, "osm")
    label, data, expect = variants[number % len(variants)]
    corpus.add("osm-xml", label, corpus.build_route(), {OSM: data}, expect=expect,
               mention=(OSM,))  # fmt: skip


# -- GPX -------------------------------------------------------------------------------------


def _gpx_case(corpus: Corpus, kind: str, label: str, gpx, expect: str = ANY) -> None:
    corpus.add(kind, label, corpus.build_gpx(), {OSM: corpus.base.osm, GPX: gpx},
               expect=expect, mention=(GPX,))  # fmt: skip


def gpx_number_case(corpus: Corpus, number: int) -> None:
    """An odd number (each in turn) in a random track point's lat or lon."""
    points = track_points(corpus.base)
    point, axis = corpus.rng.randrange(len(points)), corpus.rng.randrange(2)
    label, value, expect = odd_number(number, points[point][axis], "float")
    points[point][axis] = value.replace("&", "&amp;").replace('"', "&quot;")
    _gpx_case(corpus, "gpx-number", f"{('lat', 'lon')[axis]}-{label}", corpus.gpx(points), expect)


GLITCHES = (
    ("zero-zero", "0", "0"),
    ("zero-zero-decimals", "0.0000000", "0.0000000"),
    ("far-north", "65.0", "-30.0"),
    ("antipode", "-45.0", "150.0"),
    ("one-degree-off", "46.0", "-30.0"),
    ("pole", "90", "0"),
    ("dateline", "45.0", "180"),
)


def gpx_glitch_case(corpus: Corpus, number: int) -> None:
    """A GPS glitch: one or three fixes far from the rest, first, last or inside the track."""
    rng = corpus.rng
    points = track_points(corpus.base)
    label, lat, lon = GLITCHES[number % len(GLITCHES)]
    where = ("first", "last", "inside", "three-inside")[(number // len(GLITCHES) + number) % 4]
    spots = {
        "first": [0],
        "last": [len(points) - 1],
        "inside": [rng.randrange(1, len(points) - 1)],
        "three-inside": rng.sample(range(1, len(points) - 1), 3),
    }[where]
    for spot in spots:
        points[spot][:2] = lat, lon
    _gpx_case(corpus, "gpx-glitch", f"{label}-{where}", corpus.gpx(points))


BAD_TIMES = (
    ("leap-second", "2024-06-30T23:59:60Z"),
    ("month-13", "2024-13-01T10:00:00Z"),
    ("feb-30", "2024-02-30T10:00:00Z"),
    ("hour-25", "2024-05-01T25:00:00Z"),
    ("second-61", "2024-05-01T10:00:61Z"),
    ("offset-25h", "2024-05-01T10:00:00+25:00"),
    ("offset-99", "2024-05-01T10:00:00+99"),
    ("offset-minutes-75", "2024-05-01T10:00:00+01:75"),
    ("year-0", "0000-01-01T00:00:00Z"),
    ("year-1-plus-offset", "0001-01-01T00:00:00+14:00"),
    ("year-9999-minus-offset", "9999-12-31T23:59:59-14:00"),
    ("year-5-digits", "20240-05-01T10:00:00Z"),
    ("words", "yesterday"),
    ("empty", ""),
    ("long-fraction", "2024-05-01T10:00:00.99999999999999999999Z"),
    ("unix-seconds", "1714557600"),
    ("arabic-digits", "\u0662\u0660\u0662\u0664-05-01T10:00:00Z"),
)


def gpx_time_case(corpus: Corpus, number: int) -> None:
    """Bad times on one point or all; times backwards, equal, missing or hours apart."""
    rng = corpus.rng
    points = track_points(corpus.base)
    order = number % (len(BAD_TIMES) + 4)
    if order < len(BAD_TIMES):
        label, value = BAD_TIMES[order]
        every = number // len(BAD_TIMES) % 2 == 0
        for spot in range(len(points)) if every else [rng.randrange(len(points))]:
            points[spot][3] = value
        label += "-all" if every else "-one"
    else:
        label = ("backwards", "all-same", "one-missing", "hours-apart")[order - len(BAD_TIMES)]
        if label == "backwards":
            for point, time in zip(points, [p[3] for p in points][::-1], strict=True):
                point[3] = time
        elif label == "all-same":
            for point in points:
                point[3] = points[0][3]
        elif label == "one-missing":
            points[rng.randrange(len(points))][3] = None
        else:
            points[-1][3] = "2024-06-01T10:00:00Z"
    _gpx_case(corpus, "gpx-time", label, corpus.gpx(points))


def gpx_shape_case(corpus: Corpus, number: int) -> None:
    """Another GPX namespace or version; no, one, repeated or other kinds of points."""
    gpx, points = corpus.gpx, track_points(corpus.base)
    first = points[0]
    topografix = "http://www.topografix.com/GPX/"
    shapes = (
        ("namespace-1.0", gpx(namespace=topografix + "1/0", version="1.0"), ANY),
        ("namespace-1.2", gpx(namespace=topografix + "1/2", version="1.2"), ANY),
        ("namespace-none", gpx(namespace=None), ANY),
        ("namespace-other", gpx(namespace="http://example.org/gpx"), ANY),
        ("namespace-https", gpx(namespace="https://www.topografix.com/GPX/1/1"), ANY),
        ("no-points", gpx([]), REFUSE),
        ("one-point", gpx([first]), ANY),
        ("two-same-points", gpx([first, list(first)]), ANY),
        ("rtept-only", gpx(kind="rtept"), ANY),
        ("wpt-only", gpx(kind="wpt"), REFUSE),
        ("no-times", gpx([[a, b, c, None] for a, b, c, _ in points]), ANY),
        ("no-ele", gpx([[a, b, None, d] for a, b, _, d in points]), ANY),
        ("thousands-same-point", gpx([list(first) for _ in range(5000)]), ANY),
        ("shifted-off-map", gpx([[f"{float(a) + 1:.7f}", b, c, d] for a, b, c, d in points]),
         ANY),
        ("kml-instead", "<kml><Document/></kml>", REFUSE),
        ("point-without-lon", gpx().replace(f' lon="{first[1]}"', "", 1), REFUSE),
        ("far-second-segment", gpx().replace("</trkseg></trk>", "</trkseg><trkseg>" + "".join(
            f'<trkpt lat="{float(a) + 5:.7f}" lon="{b}"/>' for a, b, _, _ in points[:20])
            + "</trkseg></trk>"), ANY),
        ("some-ele-missing", gpx([[a, b, c if k % 2 else None, d]
                                  for k, (a, b, c, d) in enumerate(points)]), ANY),
        ("times-padded", gpx([[a, b, c, f"\n  {d}\t"] for a, b, c, d in points]), ANY),
        ("extensions-garbage", gpx().replace("</trkpt>", "<extensions><x:y xmlns:x='urn:x'>"
                                             "<![CDATA[<trkpt lat='0' lon='0'/>]]></x:y>"
                                             "</extensions></trkpt>"), ANY),
        ("lat-lon-swapped", gpx([[b, a, c, d] for a, b, c, d in points]), ANY),
    )  # fmt: skip
    label, text, expect = shapes[number % len(shapes)]
    _gpx_case(corpus, "gpx-shape", label, text, expect)


ELEVATIONS = ("1_0", "\u0661\u0662", "nan", "inf", "1e999", "-1e308", "high", "", "9" * 400)


def gpx_ele_case(corpus: Corpus, number: int) -> None:
    """Garbage elevations on one point or on all."""
    points = track_points(corpus.base)
    value = ELEVATIONS[number % len(ELEVATIONS)]
    every = number // len(ELEVATIONS) % 2 == 0
    for spot in range(len(points)) if every else [corpus.rng.randrange(len(points))]:
        points[spot][2] = value
    shown = value if value.isascii() and len(value) < 9 else "odd"
    _gpx_case(corpus, "gpx-ele", f"{'all' if every else 'one'}-{shown}", corpus.gpx(points))


def gpx_xml_case(corpus: Corpus, number: int) -> None:
    """The GPX file's declaration, encoding, namespace, DOCTYPE or root changed."""
    variants = xml_variants(corpus.gpx(), "gpx")
    label, data, expect = variants[number % len(variants)]
    _gpx_case(corpus, "gpx-xml", label, data, expect)
