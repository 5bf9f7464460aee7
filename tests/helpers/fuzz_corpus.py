"""The fuzz corpus: every kind of hostile input, generated from one seed (plain Python, no bpy).

Kinds (each a function adding one case; see the modules for the lists they walk):

- bytes of the OSM, GPX, CSV and JSON inputs: truncated, bits flipped, NUL, BOM, invalid
  UTF-8, chunks duplicated or dropped, lines swapped, CR/CRLF (:mod:`helpers.fuzz_files`);
- OSM: odd numbers in numeric attributes, coordinates out of range or glitched, duplicate
  ids, missing and self references, degenerate ways and rings, relations containing
  themselves, huge tags, numeric tags, declared encodings, namespaces, DOCTYPEs, roots;
- GPX: odd numbers, glitch points, bad times and offsets, namespaces 1.0/1.2/none, no or one
  point, rtept/wpt only, garbage elevations, declarations and DOCTYPEs;
- jobs files (:mod:`helpers.fuzz_jobs`): CSV columns, quoting, encodings, rows; odd numbers;
  outputs outside the output folder or without .blend; JSON duplicate keys, NaN, huge ints,
  deep nesting, wrong types and tops;
- options (:mod:`helpers.fuzz_options`): odd numbers and frames, waypoints, outputs that are
  inputs, folders, FIFOs or links to inputs, car files that are not .blend files; batch
  options (shards, workers, budgets, --compare-to, --out); ``demo`` with tiny cities, odd
  options and its outputs taken by folders, FIFOs and links to inputs; a batch state folder
  holding links to an input;
- stacked (:mod:`helpers.fuzz_stacked`): two to four random mutations on one OSM or GPX file.

:func:`generate` makes ``count * scale`` cases of each kind: the same seed and scale give the
same cases, byte for byte, and a larger scale keeps a smaller one's kinds and lists.
"""

import random

from helpers.fuzz_base import Case, Corpus, make_base
from helpers.fuzz_files import (
    bytes_case,
    gpx_ele_case,
    gpx_glitch_case,
    gpx_number_case,
    gpx_shape_case,
    gpx_time_case,
    gpx_xml_case,
    osm_number_case,
    osm_structure_case,
    osm_tag_number_case,
    osm_xml_case,
)
from helpers.fuzz_jobs import csv_shape_case, jobs_number_case, jobs_out_case, json_shape_case
from helpers.fuzz_options import (
    batch_option_case,
    batch_state_case,
    demo_case,
    option_case,
    path_case,
)
from helpers.fuzz_stacked import stacked_case

#: (kind, cases at scale 1): each fixed list walked once, the odd numbers (25) at least once.
KINDS = (
    (bytes_case, 44),
    (osm_number_case, 25),
    (osm_structure_case, 47),
    (osm_tag_number_case, 12),
    (osm_xml_case, 25),
    (gpx_number_case, 25),
    (gpx_glitch_case, 14),
    (gpx_time_case, 21),
    (gpx_shape_case, 21),
    (gpx_ele_case, 9),
    (gpx_xml_case, 25),
    (csv_shape_case, 40),
    (jobs_number_case, 25),
    (jobs_out_case, 20),
    (json_shape_case, 57),
    (option_case, 48),
    (path_case, 32),
    (batch_option_case, 22),
    (stacked_case, 30),
    (demo_case, 12),
    (batch_state_case, 10),
)


def generate(seed: int = 19, scale: int = 1) -> list[Case]:
    """Every case for *seed* at *scale* (an int >= 1)."""
    corpus = Corpus(make_base(seed), random.Random(seed))
    for make, count in KINDS:
        for number in range(count * scale):
            make(corpus, number)
    return corpus.cases
