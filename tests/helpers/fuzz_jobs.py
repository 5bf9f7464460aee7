"""Fuzz cases of jobs files for ``batch``: CSV columns and rows, numbers, outputs, JSON (no bpy).

A jobs file with a bad row must be refused before anything runs, with one line per problem
under a heading naming the file.
"""

from helpers.fuzz_base import (
    ANY,
    CSV,
    GPX,
    JOB_COLUMNS,
    JSON,
    OSM,
    REFUSE,
    Corpus,
    csv_of,
    csv_text,
    job_rows,
    json_job,
    json_list,
    json_object,
    odd_number,
)


def _jobs_case(corpus: Corpus, kind: str, label: str, name: str, text, expect: str) -> None:
    corpus.add(kind, label, corpus.batch(name), {**corpus.jobs_inputs(), name: text},
               expect=expect, mention=(name,))  # fmt: skip


def csv_shape_case(corpus: Corpus, number: int) -> None:
    """A jobs CSV with duplicate, missing or unknown columns, odd quoting, encodings or rows."""
    rows = job_rows(corpus.base)
    first = rows[0]
    header = list(JOB_COLUMNS)
    values = [[row.get(c, "") for c in JOB_COLUMNS] for row in rows]
    one, good = values[0], csv_of(rows)

    def with_column(name: str, *cells: str) -> str:
        return csv_text(
            [*header, name], [[*v, cell] for v, cell in zip(values, cells, strict=True)]
        )

    def first_with(**changes) -> str:
        return csv_of([{**first, **changes}])

    shapes = (
        ("duplicate-osm-column", with_column("osm", OSM, OSM), REFUSE),
        ("duplicate-speed-column", with_column("speed", "10", "10"), REFUSE),
        ("duplicate-column-same-values", with_column("out", "a.blend", "b.blend"), REFUSE),
        ("no-osm-column", csv_text(header[:1] + header[2:], [v[:1] + v[2:] for v in values]),
         REFUSE),
        ("unknown-column", with_column("colour", "red", "blue"), REFUSE),
        ("extra-values", csv_text(header, [[*v, "surplus"] for v in values]), REFUSE),
        ("fewer-values", csv_text(header, [v[:3] for v in values]), ANY),
        ("header-only", csv_text(header, []), REFUSE),
        ("blank-first-line", "\n" + good, REFUSE),
        ("empty-column-name", with_column("", "x", "y"), REFUSE),
        ("spaced-header", csv_text([f" {h} " for h in header], values), ANY),
        ("upper-case-header", csv_text([h.upper() for h in header], values), REFUSE),
        ("columns-reordered", csv_text(header[::-1], [v[::-1] for v in values]), ANY),
        ("unbalanced-quote", good.replace(",a.blend", ',"a.blend', 1), ANY),
        ("quote-inside", good.replace("a.blend", 'a"b.blend', 1), ANY),
        ("semicolon-separated", good.replace(",", ";"), REFUSE),
        ("tab-separated", good.replace(",", "\t"), REFUSE),
        ("duplicate-id", csv_text(header, [one, [*one[:4], "c.blend", *one[5:]]]), REFUSE),
        ("same-out-twice", csv_text(header, [one, ["c", *one[1:]]]), REFUSE),
        ("same-out-other-case", csv_text(header, [one, ["c", *one[1:4], "A.BLEND", *one[5:]]]),
         ANY),
        ("same-out-dot-slash", csv_text(header, [one, ["c", *one[1:4], "./a.blend", *one[5:]]]),
         REFUSE),
        ("same-out-through-dot-dot", csv_text(header, [one, ["c", *one[1:4], "s/../a.blend",
                                                             *one[5:]]]), REFUSE),
        ("latin1-bytes", good.replace("a.blend", "caf\xe9.blend").encode("latin-1"), REFUSE),
        ("utf16", good.encode("utf-16"), REFUSE),
        ("waypoints-and-gpx", first_with(gpx=GPX), REFUSE),
        ("neither-waypoints-nor-gpx", first_with(waypoints=""), REFUSE),
        ("southern-route-format", first_with(waypoints="-33.86,151.2;-33.87,151.21"), ANY),
        ("waypoint-underscore", first_with(waypoints=first["waypoints"].replace(".", "_", 1)),
         REFUSE),
        ("waypoint-nan", first_with(waypoints="nan,nan;45,-30"), REFUSE),
        ("one-waypoint", first_with(waypoints="45,-30"), REFUSE),
        ("osm-missing", first_with(osm="nowhere.osm"), REFUSE),
        ("osm-is-folder", first_with(osm="."), REFUSE),
        ("osm-is-jobs-file", first_with(osm=CSV), ANY),
        ("id-with-path", first_with(id="../evil"), REFUSE),
        ("very-long-id", first_with(id="x" * 300, out=""), REFUSE),
        ("many-bad-rows", csv_of([{**first, "id": f"j{k}", "out": f"{k}.blend",
                                   "speed": "fast"} for k in range(120)]), REFUSE),
        ("rows-of-commas", good + ",,,,,,\n,,,,,,\n", ANY),
        ("thousands-of-columns", csv_text([*header, *(f"c{k}" for k in range(5000))], values),
         REFUSE),
        ("osm-is-fifo", first_with(osm="fifo.osm"), REFUSE),
        ("gpx-is-osm", csv_of([{**rows[1], "gpx": OSM}]), ANY),
    )  # fmt: skip
    label, text, expect = shapes[number % len(shapes)]
    if label == "osm-is-fifo":
        corpus.add("jobs-csv", label, corpus.batch(CSV), {**corpus.jobs_inputs(), CSV: text},
                   expect=expect, mention=(CSV,), fifos=("fifo.osm",))  # fmt: skip
        return
    _jobs_case(corpus, "jobs-csv", label, CSV, text, expect)


#: Each numeric column's valid value and kind of number.
_ORIGINALS = {
    "padding": ("100", "float"), "speed": ("50", "float"), "height": ("9.5", "float"),
    "fps": ("24", "int"), "frame_start": ("1", "int"), "frame_end": ("250", "int"),
}  # fmt: skip


def jobs_number_case(corpus: Corpus, number: int) -> None:
    """An odd number (each in turn) in a numeric column: CSV text, or a JSON string."""
    column = corpus.rng.choice(sorted(_ORIGINALS))
    original, kind = _ORIGINALS[column]
    label, value, expect = odd_number(number, original, kind)
    if label in ("empty", "blank"):
        expect = ANY  # an empty cell is a setting not given: the default
    row = {**job_rows(corpus.base)[0], column: value}
    if number % 2:
        name, text = JSON, json_list(json_object(json_job(row, numbers_as_text=True)))
    else:
        name, text = CSV, csv_of([row], (*JOB_COLUMNS, column))
    _jobs_case(corpus, "jobs-number", f"{name[5:]}-{column}-{label}", name, text, expect)


_OUTS = (
    ("parent", "../x.blend", REFUSE),
    ("grandparent", "../../x.blend", REFUSE),
    ("absolute", "{case}/elsewhere.blend", REFUSE),
    ("absolute-inside-out", "{case}/out/inside.blend", ANY),
    ("dot-dot-back-inside", "sub/../x.blend", ANY),
    ("subfolder", "sub/deeper/x.blend", ANY),
    ("no-suffix", "x", REFUSE),
    ("other-suffix", "x.osm", REFUSE),
    ("upper-suffix", "X.BLEND", ANY),
    ("only-suffix", ".blend", ANY),
    ("empty", "", ANY),
    ("tilde", "~/x.blend", REFUSE),
    ("state-folder", "leanroute-batch/x.blend", REFUSE),
    ("overwrites-input", "../" + OSM, REFUSE),
    ("very-long-name", "y" * 250 + ".blend", REFUSE),
    ("nul-in-name", "x\x00y.blend", REFUSE),
    ("newline-in-name", "x\ny.blend", ANY),
    ("existing-folder", "dir.blend", REFUSE),
    ("existing-fifo", "fifo.blend", REFUSE),
    ("symlink-to-input", "link.blend", REFUSE),
)
#: What stands at the special outputs' names in the output folder before the batch.
_OUT_SPECIALS = {
    "existing-folder": {"folders": ("out", "out/dir.blend")},
    "existing-fifo": {"fifos": ("out/fifo.blend",)},
    "symlink-to-input": {"links": (("out/link.blend", OSM, "symlink"),)},
}


def jobs_out_case(corpus: Corpus, number: int) -> None:
    """A job's ``out`` outside the output folder, without .blend, too long or odd."""
    label, out, expect = _OUTS[number % len(_OUTS)]
    row = {**job_rows(corpus.base)[0], "out": out}
    if (number // len(_OUTS) + number) % 2:
        name, text = JSON, json_list(json_object(json_job(row)))
    else:
        name, text = CSV, csv_of([row])
    # "{case}" in an absolute out is written into the file as the case's folder.
    corpus.add("jobs-out", f"{name[5:]}-{label}", corpus.batch(name),
               {**corpus.jobs_inputs(), name: text}, expect=expect, mention=(name,),
               templated=(name,), **_OUT_SPECIALS.get(label, {}))  # fmt: skip


def json_shape_case(corpus: Corpus, number: int) -> None:
    """A JSON jobs file with duplicate keys, NaN, huge ints, deep nesting, wrong types or tops."""
    good = json_job(job_rows(corpus.base)[0])

    def jobs(*pairs_list) -> str:
        return json_list(*map(json_object, pairs_list))

    def job_with(key: str, raw: str) -> str:
        return jobs([*((k, v) for k, v in good if k != key), (key, raw)])

    def file_with(**parts) -> str:
        return json_object(parts.items())

    shapes = (
        ("duplicate-key-speed", jobs([*good, ("speed", "10"), ("speed", "20")]), REFUSE),
        ("duplicate-key-osm", jobs([*good, ("osm", '"other.osm"')]), REFUSE),
        ("duplicate-top-jobs", json_object([("jobs", jobs(good)), ("jobs", "[]")]), REFUSE),
        ("nan-literal", job_with("speed", "NaN"), REFUSE),
        ("infinity-literal", job_with("padding", "Infinity"), REFUSE),
        ("neg-infinity", job_with("height", "-Infinity"), REFUSE),
        ("1e400", job_with("speed", "1e400"), REFUSE),
        ("huge-int-5000-digits", job_with("fps", "9" * 5000), REFUSE),
        ("huge-int-100-digits", job_with("frame_start", "9" * 100), REFUSE),
        ("deep-nesting", "[" * 100_000 + "]" * 100_000, REFUSE),
        ("deep-in-a-field", job_with("speed", "[" * 50_000 + "]" * 50_000), REFUSE),
        ("osm-number", job_with("osm", "5"), REFUSE),
        ("osm-null", job_with("osm", "null"), REFUSE),
        ("osm-list", job_with("osm", f'["{OSM}"]'), REFUSE),
        ("osm-object", job_with("osm", f'{{"path": "{OSM}"}}'), REFUSE),
        ("waypoints-number", job_with("waypoints", "5"), REFUSE),
        ("waypoints-object", job_with("waypoints", '{"a": 1}'), REFUSE),
        ("waypoints-short-pair", job_with("waypoints", "[[45], [45, -30]]"), REFUSE),
        ("waypoints-text-pair", job_with("waypoints", '[["a", "b"], [45, -30]]'), REFUSE),
        ("waypoints-nested", job_with("waypoints", "[[[45, -30]], [45, -30]]"), REFUSE),
        ("waypoints-true", job_with("waypoints", "true"), REFUSE),
        ("speed-text", job_with("speed", '"fast"'), REFUSE),
        ("speed-list", job_with("speed", "[50]"), REFUSE),
        ("speed-true", job_with("speed", "true"), REFUSE),
        ("speed-object", job_with("speed", "{}"), REFUSE),
        ("fps-fraction", job_with("fps", "24.5"), REFUSE),
        ("id-number", job_with("id", "5"), ANY),
        ("id-list", job_with("id", '["a"]'), REFUSE),
        ("id-null", job_with("id", "null"), ANY),
        ("out-number", job_with("out", "5"), REFUSE),
        ("out-list", job_with("out", '["a.blend"]'), REFUSE),
        ("layers-number", job_with("layers", "5"), REFUSE),
        ("layers-object", job_with("layers", '{"roads": true}'), REFUSE),
        ("snap-maybe", job_with("snap", '"maybe"'), REFUSE),
        ("snap-list", job_with("snap", "[]"), REFUSE),
        ("car-object-list", job_with("car_object", "[]"), REFUSE),
        ("unknown-key", job_with("colour", '"red"'), REFUSE),
        ("top-string", '"jobs"', REFUSE),
        ("top-number", "5", REFUSE),
        ("top-null", "null", REFUSE),
        ("top-true", "true", REFUSE),
        ("top-empty-object", "{}", REFUSE),
        ("jobs-object", file_with(jobs=json_object(good)), REFUSE),
        ("jobs-null", file_with(jobs="null"), REFUSE),
        ("empty-list", "[]", REFUSE),
        ("list-of-lists", "[[1, 2]]", REFUSE),
        ("defaults-list", file_with(defaults="[]", jobs=jobs(good)), REFUSE),
        ("defaults-nan", file_with(defaults='{"speed": NaN}', jobs=jobs(good)), REFUSE),
        ("defaults-unknown", file_with(defaults='{"osm": "x"}', jobs=jobs(good)), REFUSE),
        ("trailing-comma", jobs(good)[:-1] + ",]", REFUSE),
        ("comments", "// jobs\n" + jobs(good), REFUSE),
        ("two-documents", jobs(good) + "\n" + jobs(good), REFUSE),
        ("lone-surrogate", job_with("id", '"\\ud800"'), REFUSE),
        ("nul-in-osm", job_with("osm", '"city\\u0000.osm"'), REFUSE),
        ("nul-in-car-blend", job_with("car_blend", '"car\\u0000.blend"'), REFUSE),
        ("nul-in-id", job_with("id", '"a\\u0000b"'), REFUSE),
        ("nul-in-waypoints", job_with("waypoints", '"45,-30\\u0000;45.001,-29.999"'), REFUSE),
    )
    label, text, expect = shapes[number % len(shapes)]
    _jobs_case(corpus, "jobs-json", label, JSON, text, expect)
