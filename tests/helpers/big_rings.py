"""OSM files of buildings with huge rings, many courtyards or long roads, written as tests need.

Each shape is a list of rings in metres around a centre; :func:`write_osm` writes them as one
building multipolygon relation (or a closed way) plus a road through the area, so a build
along :data:`ROUTE` covers it. Nothing random: the same arguments give the same bytes.
"""

import math
from pathlib import Path

import numpy as np

CENTRE = (48.2, 16.37)
_M_PER_DEG_LAT = 111_195.08
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(CENTRE[0]))


def lat_lon(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) of a point *x* m east and *y* m north of :data:`CENTRE`."""
    return CENTRE[0] + y / _M_PER_DEG_LAT, CENTRE[1] + x / _M_PER_DEG_LON


#: A route along the road, 300 m either side of the centre, as ``--route`` takes it.
ROUTE = ";".join("{:.6f},{:.6f}".format(*lat_lon(d, d)) for d in (-300.0, 300.0))


def circle(nodes: int, radius: float, cx: float = 0.0, cy: float = 0.0, *, clockwise=False):
    """*nodes* points on a circle, counter-clockwise unless *clockwise*."""
    sign = -1.0 if clockwise else 1.0
    return [
        (
            cx + radius * math.cos(sign * 2 * math.pi * k / nodes),
            cy + radius * math.sin(sign * 2 * math.pi * k / nodes),
        )
        for k in range(nodes)
    ]


def comb(teeth: int, width: float = 200.0, height: float = 100.0):
    """A counter-clockwise comb outline of *teeth* teeth (4 points each) over *width* m."""
    step = width / teeth
    points = [(-width / 2, -height / 2 - 10.0), (width / 2, -height / 2 - 10.0)]
    for t in range(teeth - 1, -1, -1):
        x = -width / 2 + t * step
        points += [
            (x + step * 0.5, -height / 2),
            (x + step * 0.5, height / 2),
            (x, height / 2),
            (x, -height / 2),
        ]
    return points


def hole_grid(count: int, span: float, size: float):
    """*count* clockwise square courtyards of *size* m on a grid filling *span* m."""
    per_side = math.ceil(math.sqrt(count))
    pitch = span / per_side
    holes = []
    for k in range(count):
        cx = -span / 2 + pitch * (k % per_side + 0.5)
        cy = -span / 2 + pitch * (k // per_side + 0.5)
        h = size / 2
        holes.append([(cx - h, cy - h), (cx - h, cy + h), (cx + h, cy + h), (cx + h, cy - h)])
    return holes


def write_osm(path, outers, inners=(), *, pieces: int = 1, as_way: bool = False, tags=None) -> Path:
    """Write one building of *outers* and *inners* (rings in metres) and a road across it.

    Each ring is split into *pieces* member ways (a ring given in parts, as OSM often has
    them). *as_way* writes a single outer ring as a closed ``building`` way instead of a
    relation. Returns the path.
    """
    path = Path(path)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n']
    node_id = 0
    way_lines: list[str] = []
    way_id = 0

    def nodes_of(ring) -> list[int]:
        nonlocal node_id
        ids = []
        for x, y in ring:
            node_id += 1
            lat, lon = lat_lon(x, y)
            lines.append(f'<node id="{node_id}" lat="{lat:.8f}" lon="{lon:.8f}"/>\n')
            ids.append(node_id)
        return [*ids, ids[0]]

    def way(refs, extra="") -> int:
        nonlocal way_id
        way_id += 1
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        way_lines.append(f'<way id="{way_id}">{body}{extra}</way>\n')
        return way_id

    def split(refs) -> list[int]:
        count = max(1, min(pieces, len(refs) - 1))
        cuts = [round(k * (len(refs) - 1) / count) for k in range(count + 1)]
        return [way(refs[cuts[k] : cuts[k + 1] + 1]) for k in range(count)]

    tag_text = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {"building": "yes"}).items())
    members = []
    if as_way:
        way(nodes_of(outers[0]), tag_text)
    else:
        members += [(w, "outer") for ring in outers for w in split(nodes_of(ring))]
        members += [(w, "inner") for ring in inners for w in split(nodes_of(ring))]
    a, b = lat_lon(-400.0, -400.0), lat_lon(400.0, 400.0)
    lines.append(f'<node id="{node_id + 1}" lat="{a[0]:.8f}" lon="{a[1]:.8f}"/>\n')
    lines.append(f'<node id="{node_id + 2}" lat="{b[0]:.8f}" lon="{b[1]:.8f}"/>\n')
    way([node_id + 1, node_id + 2], '<tag k="highway" v="primary"/>')
    lines += way_lines
    if members:
        body = "".join(f'<member type="way" ref="{w}" role="{role}"/>' for w, role in members)
        lines.append(
            f'<relation id="1">{body}<tag k="type" v="multipolygon"/>{tag_text}</relation>\n'
        )
    lines.append("</osm>\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def covers(triangles, point) -> bool:
    """Whether any triangle holds *point* strictly inside."""
    p = np.asarray(point, float)
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]

    def side(u, v):
        return (v[:, 0] - u[:, 0]) * (p[1] - u[:, 1]) - (v[:, 1] - u[:, 1]) * (p[0] - u[:, 0])

    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    return bool((((s1 > 0) & (s2 > 0) & (s3 > 0)) | ((s1 < 0) & (s2 < 0) & (s3 < 0))).any())
