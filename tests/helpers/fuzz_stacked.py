"""Fuzz cases that stack two to four random mutations on one OSM or GPX file (no bpy).

The single-mutation kinds walk fixed lists; these draw every step at random, so mutations
meet that no list pairs up (a glitch node in a self-containing relation with a BOM inside, a
bad time next to an odd number in a truncated track). Any outcome is allowed as long as it is
clean: one mutation may undo or hide another.
"""

from helpers.fuzz_base import GPX, ODD_NUMBERS, OSM, Corpus, track_points
from helpers.fuzz_files import (
    BAD_TIMES,
    ELEVATIONS,
    GLITCHES,
    NUMERIC_ATTRIBUTES,
    attribute_replaced,
    byte_mutations,
    osm_structures,
)


def _osm_step(corpus: Corpus, text: str) -> tuple[str, str]:
    """One random change of OSM *text*: a structure, an odd number or a byte mutation."""
    rng = corpus.rng
    step = rng.randrange(3)
    if step == 0:
        label, changed, _ = rng.choice(osm_structures(corpus, text))
        return label, changed
    if step == 1:
        label, element, attribute, _ = rng.choice(NUMERIC_ATTRIBUTES)
        odd_label, transform, _ = rng.choice(ODD_NUMBERS)
        if f"<{element} " not in text:
            return "no-" + element, text
        changed = attribute_replaced(rng, text, element, attribute, transform)
        return f"{label}-{odd_label}", changed
    label, make, _ = rng.choice(byte_mutations(rng, text.encode("utf-8", "surrogateescape")))
    return label, make().decode("utf-8", errors="surrogateescape")


def _gpx_step(corpus: Corpus, points: list) -> str:
    """One random change of the track *points* in place: glitch, odd number, time or ele."""
    rng = corpus.rng
    spot = rng.randrange(len(points))
    step = rng.randrange(4)
    if step == 0:
        label, lat, lon = rng.choice(GLITCHES)
        points[spot][:2] = lat, lon
    elif step == 1:
        label, transform, _ = rng.choice(ODD_NUMBERS)
        axis = rng.randrange(2)
        points[spot][axis] = transform(points[spot][axis]).replace("&", "&amp;").replace('"', "")
    elif step == 2:
        label, points[spot][3] = rng.choice(BAD_TIMES)
    else:
        points[spot][2] = rng.choice(ELEVATIONS)
        label = "ele"
    return label


def stacked_case(corpus: Corpus, number: int) -> None:
    """Two to four random mutations on the OSM file (even numbers) or the GPX track (odd)."""
    rng = corpus.rng
    steps = rng.randint(2, 4)
    if number % 2 == 0:
        text, labels = corpus.base.osm, []
        for _ in range(steps):
            label, text = _osm_step(corpus, text)
            labels.append(label)
        data = text.encode("utf-8", errors="surrogateescape")
        corpus.add("stacked-osm", "+".join(labels), corpus.build_route(), {OSM: data},
                   mention=(OSM,))  # fmt: skip
        return
    points = track_points(corpus.base)
    labels = [_gpx_step(corpus, points) for _ in range(steps - 1)]
    data = corpus.gpx(points).encode("utf-8")
    label, make, _ = rng.choice(byte_mutations(rng, data))
    corpus.add("stacked-gpx", "+".join([*labels, label]), corpus.build_gpx(),
               {OSM: corpus.base.osm, GPX: make()}, mention=(GPX,))  # fmt: skip
