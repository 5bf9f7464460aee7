"""The jobs file read strictly: duplicate columns and keys, JSON's holes, types, and outputs.

Every case is refused before anything runs, with the file, the line (and column where known)
or the job, the field, and what to change; never a Python exception's name.
"""

import os
import re
import socket

import pytest
from helpers.batch_jobs import ROUTES, job_rows, write_csv
from helpers.paths import SHARED_DATA

from leanroute.batch.jobs_file import JobsFileError, read_jobs
from leanroute.cli.commands import main
from leanroute.route.strict_json import JsonError, load_json

LISBON = str(SHARED_DATA / "osm" / ROUTES["lisbon"][0])
WAYPOINTS = ROUTES["lisbon"][1]
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback")
QUOTE = '"'


def refused(path, out_dir) -> JobsFileError:
    with pytest.raises(JobsFileError) as caught:
        read_jobs(path, out_dir)
    assert not EXCEPTION_NAME.search(str(caught.value))
    return caught.value


def json_jobs(tmp_path, text: str, name: str = "jobs.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def job(**values) -> str:
    """One JSON job object's text with the Lisbon route, *values* added (already JSON)."""
    fields = {"osm": f'"{LISBON}"', "waypoints": f'"{WAYPOINTS}"', **values}
    return "{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}"


# ---- CSV: duplicate and unnamed columns ---------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,osm,speed,waypoints,speed", "the column 'speed' appears twice (columns 3 and 5)"),
        ("osm,waypoints, osm", "the column 'osm' appears twice (columns 1 and 3)"),
        ("id,id,osm,waypoints", "the column 'id' appears twice (columns 1 and 2)"),
        ("osm,waypoints,,speed", "column 3 has no name: name it or remove it"),
    ],
)
def test_csv_headers_with_a_column_twice_or_unnamed_are_refused(tmp_path, header, message):
    path = tmp_path / "jobs.csv"
    path.write_text(f"{header}\n" + ",".join(["x"] * len(header.split(","))) + "\n")
    error = refused(path, tmp_path)
    assert str(error) == f"{path}:1: {message}" + (": keep one" if "twice" in message else "")


# ---- JSON: the holes of Python's json module, at line and column --------------------------------

SPEED_TWICE = "[\n" + job(speed="30")[:-1] + ', "speed": 5}]'


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"jobs": [], "jobs": []}', (1, 14), "the key 'jobs' appears twice in one object"),
        (SPEED_TWICE, (2, None), "the key 'speed' appears twice in one object (first at line 2"),
        ('{"defaults": {"fps": 24,\n "fps": 25}, "jobs": []}', (2, 2), "'fps' appears twice"),
        ('[{"osm": "x", "waypoints": [[1, 2], {"a": 1, "a": 2}]}]', (1, 46), "'a' appears twice"),
        (f"[{job(speed='NaN')}]", None, "NaN is not allowed in JSON: write a finite number"),
        (f"[{job(padding='Infinity')}]", None, "Infinity is not allowed in JSON"),
        (f"[{job(padding='-Infinity')}]", None, "-Infinity is not allowed in JSON"),
        (f"[{job(speed='1e999')}]", None, "1e999 is too large a number"),
        (f"[{job(fps='9' * 5000)}]", None, "a number of 5,000 digits"),
        ("[" * 100_000 + "]" * 100_000, (1, 65), "nested deeper than 64 levels"),
        ('{"jobs": [' + "{" * 3000, (1, 12), "'{' where a key in double quotes was expected"),
        (f"[{job()}", (1, None), "the text ends early, where ',' or ']' was expected (cut off?)"),
        (f"[{job()},]", (1, None), "']' where a value was expected"),
        ('[{"osm": "\\ud800"}]', (1, 10), "half of a character (a lone surrogate)"),
        ('[{"osm": "city\\u0000.osm"}]', (1, 10), "the string holds \\u0000, a NUL character"),
        ('[{"car_blend": "car\\u0000.blend"}]', (1, 16), "a NUL character: not text"),
        ('[{"out": "x\\u0000y.blend"}]', (1, 10), "a NUL character: not text"),
    ],
)
def test_json_holes_are_refused_at_their_line_and_column(tmp_path, text, where, message):
    path = json_jobs(tmp_path, text)
    error = refused(path, tmp_path)
    line = str(error)
    assert line.startswith(f"{path}:"), line
    assert "not valid JSON: " in line and message in line, line
    assert "\n" not in line
    if where is not None:
        assert error.line == where[0]
        if where[1] is not None:
            assert error.column == where[1]


def test_every_json_refusal_is_one_strict_json_error():
    for text in ("[NaN]", '{"a": 1, "a": 1}', "[1e400]", "[" * 70 + "]" * 70, '"\\x"', "[01]"):
        with pytest.raises(JsonError) as caught:
            load_json(text)
        assert caught.value.line == 1 and caught.value.column >= 1
    assert load_json('{"a": [1, 2.5, "é", true, null], "b": {}}') == {
        "a": [1, 2.5, "é", True, None],
        "b": {},
    }


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (b"\xff\xfe[\x00]\x00", ":1:1: ", "is UTF-16 text: save it as UTF-8"),
        (b"\xfe\xff\x00[\x00]", ":1:1: ", "is UTF-16 text: save it as UTF-8"),
        (b"\xff\xfe\x00\x00[\x00\x00\x00", ":1:1: ", "is UTF-32 text: save it as UTF-8"),
        (b'[{"osm":\n "a\x00b"}]', ":2:4: ", "a NUL byte (binary data): the file is damaged"),
        (b'[{"osm": "caf\xe9"}]', ":1:14: ", "is not UTF-8 text (invalid continuation byte)"),
    ],
)
def test_encodings_and_binary_data_are_named(tmp_path, data, where, message):
    path = tmp_path / "jobs.json"
    path.write_bytes(data)
    assert str(refused(path, tmp_path)).startswith(f"{path}{where}{message}")
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_bytes(data.replace(b'[{"osm":', b"osm,x\n"))
    assert message in str(refused(csv_path, tmp_path))


def test_a_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "jobs.json"
    path.write_bytes(b"\xef\xbb\xbf" + f"[{job()}]".encode())
    assert len(read_jobs(path, tmp_path)) == 1
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + f'osm,waypoints\n{LISBON},"{WAYPOINTS}"\n'.encode())
    assert len(read_jobs(csv_path, tmp_path)) == 1


@pytest.mark.parametrize(
    ("row", "field", "why"),
    [
        ("5", "job", "must be an object, not a number"),
        ('"x"', "job", "must be an object, not text"),
        ("null", "job", "must be an object, not null"),
        ("[1, 2]", "job", "must be an object, not a list"),
        (job(osm="5"), "osm", "must be text, not a number"),
        (job(osm='["a"]'), "osm", "must be text, not a list"),
        (job(id="7"), "id", "must be text, not a number"),
        (job(out="true"), "out", "must be text, not true/false"),
        (
            job(car_object="{}", car_blend=f'"{LISBON}"'),
            "car_object",
            "must be text, not an object",
        ),
        (job(speed="[1]"), "speed", "a list is not a number"),
        (job(speed="true"), "speed", "true/false is not a number"),
        (job(speed='"fast"'), "speed", "'fast' is not a number"),
        (job(fps="24.5"), "fps", "24.5 is not a whole number"),
        (job(padding='"1_0"'), "padding", "'1_0' is not a number (write it without '_')"),
        (job(height='"\uff11\uff12"'), "height", "is not a number (use the ASCII digits 0-9)"),
        (job(snap='"maybe"'), "snap", "'maybe' is not yes/no"),
        (job(snap="2"), "snap", "2 is not yes/no"),
        (job(layers="5"), "layers", "must be text like 'roads,buildings', not a number"),
        (job(layers="[1]"), "layers", "must be a list of layer names (text)"),
        (job(waypoints="5"), "waypoints", "must be text or a list of [lat, lon], not a number"),
        (job(waypoints="[[1]]"), "waypoints", "waypoint 1 must be a [lat, lon] pair"),
        (job(waypoints='[[1, 2], [3, "x"]]'), "waypoints", "longitude 'x' is not a number"),
        (job(waypoints="[[1, 2], [3, true]]"), "waypoints", "waypoint 2: true/false is not a"),
        (job(waypoints='"38.7_3,-9.1;38.7,-9.1"'), "waypoints", "latitude '38.7_3' is not a"),
    ],
)
def test_each_column_takes_only_its_type(tmp_path, row, field, why):
    path = json_jobs(tmp_path, f"[\n{job()},\n{row}\n]")
    error = refused(path, tmp_path / "out")
    problems = [p for p in error.problems if p.field == field]
    assert problems, str(error)
    assert problems[0].where.startswith("job 2 at line 3")
    assert why in problems[0].why
    assert not (tmp_path / "out").exists()


def test_csv_cells_are_strict_numbers_too(tmp_path):
    rows = job_rows(4)
    rows[0]["speed"] = "1_0"
    rows[1]["padding"] = "\u0661\u0662"
    rows[2]["fps"] = "nan"
    rows[3]["speed"] = " 50 "  # spaces around a cell are CSV layout
    error = refused(write_csv(tmp_path / "jobs.csv", rows), tmp_path)
    assert [(p.where[:6], p.field) for p in error.problems] == [
        ("line 2", "speed"),
        ("line 3", "padding"),
        ("line 4", "fps"),
    ]
    assert "'1_0' is not a number (write it without '_')" in error.problems[0].why


# ---- outputs: inside --out, one job each, never an input ----------------------------------------


def _row(number: int, out, **extra) -> dict:
    return {"id": f"j{number}", "osm": LISBON, "waypoints": WAYPOINTS, "out": out, **extra}


@pytest.fixture
def out_dir(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "a-folder.blend").mkdir()
    os.symlink(tmp_path, out / "escape")  # a link inside --out pointing out of it
    os.symlink(tmp_path / "elsewhere.blend", out / "link.blend")
    os.mkfifo(out / "fifo.blend")
    return out


@pytest.mark.parametrize(
    ("out", "why"),
    [
        ("../x.blend", "resolves to {tmp}/x.blend, outside --out"),
        ("../../x.blend", "outside --out"),
        ("sub/../../x.blend", "outside --out"),
        ("/tmp/x.blend", "must be a path relative to --out"),
        ("~/x.blend", "must be a path relative to --out"),
        ("escape/x.blend", "resolves to {tmp}/x.blend, outside --out"),
        ("link.blend", "resolves to {tmp}/elsewhere.blend, outside --out"),
        (".", "is the --out folder itself"),
        ("sub/..", "is the --out folder itself"),
        ("sub", "must be a .blend file"),
        ("sub/", "must be a .blend file"),
        ("a-folder.blend", "is a folder"),
        ("fifo.blend", "is a named pipe (FIFO), not a regular file"),
        ("leanroute-batch/x.blend", "is in leanroute-batch/, the batch's own folder"),
        ("x" * 300 + ".blend", "too long"),
    ],
)
def test_an_out_outside_the_out_folder_or_not_a_new_file_is_a_bad_row(tmp_path, out_dir, out, why):
    rows = [*job_rows(1), _row(2, out)]
    error = refused(write_csv(tmp_path / "jobs.csv", rows), out_dir)
    (problem,) = error.problems
    assert problem.where.startswith("line 3") and problem.field == "out"
    assert why.format(tmp=tmp_path) in problem.why
    assert str(error).splitlines()[0].endswith("1 problem in 1 job; nothing was run")


def test_an_empty_out_in_json_is_a_bad_row_and_an_empty_csv_cell_means_the_default(tmp_path):
    path = json_jobs(tmp_path, f"[{job(out=QUOTE * 2)}, {job(out=QUOTE + '  ' + QUOTE)}]")
    error = refused(path, tmp_path)
    assert [p.why[:9] for p in error.problems] == ["is empty:", "is empty:"]
    (only,) = read_jobs(write_csv(tmp_path / "jobs.csv", [{**job_rows(1)[0], "out": ""}]), tmp_path)
    assert only.out == (tmp_path / "lisbon-01.blend").resolve()


def test_two_jobs_writing_one_file_by_any_spelling_are_bad_rows(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "same.blend").write_bytes(b"BLENDER")
    os.link(out / "same.blend", out / "hard.blend")
    rows = [
        _row(1, "same.blend"),
        _row(2, "./same.blend"),
        _row(3, "sub/../same.blend"),
        _row(4, "hard.blend"),
    ]
    error = refused(write_csv(tmp_path / "jobs.csv", rows), out)
    assert [(p.where[:6], p.field) for p in error.problems] == [
        ("line 3", "out"),
        ("line 4", "out"),
        ("line 5", "out"),
    ]
    assert all("is already the output of line 2" in p.why for p in error.problems)


def test_an_out_that_is_an_input_of_any_job_is_a_bad_row(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    car = out / "car.blend"
    car.write_bytes(b"BLENDER")
    os.link(car, out / "car-link.blend")
    rows = [
        _row(1, "car.blend", car_blend=str(car), car_object="Car"),  # its own input
        _row(2, "x.blend", car_blend=str(car), car_object="Car"),
        _row(3, "car-link.blend"),  # another job's input, by a hard link
        _row(4, "jobs.blend"),  # the jobs file itself, by a hard link
    ]
    jobs_csv = write_csv(out / "jobs.csv", rows)
    os.link(jobs_csv, out / "jobs.blend")
    error = refused(jobs_csv, out)
    whys = {p.where[:6]: p.why for p in error.problems}
    assert set(whys) == {"line 2", "line 4", "line 5"}
    assert "'car.blend' is the car_blend of line 2" in whys["line 2"]
    assert "writing it would destroy that input" in whys["line 2"]
    assert "'car-link.blend' is the car_blend of line 2" in whys["line 4"]
    assert "'jobs.blend' is the jobs file itself" in whys["line 5"]


def test_bad_outputs_are_reported_with_the_other_bad_rows_and_nothing_runs(tmp_path, capsys):
    rows = job_rows(3)
    rows[0]["out"] = "../escape.blend"
    rows[1]["speed"] = "fast"
    rows[2]["out"] = "/abs/x.blend"
    path = write_csv(tmp_path / "jobs.csv", rows)
    assert main(["batch", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("jobs.csv: 3 problems in 3 jobs; nothing was run")
    assert "line 2 (job 'lisbon-01'): out: '../escape.blend' resolves to" in err[1]
    assert "line 3 (job 'berlin-02'): speed: 'fast' is not a number" in err[2]
    assert "line 4 (job 'krems-03'): out: '/abs/x.blend' must be a path relative" in err[3]
    assert not EXCEPTION_NAME.search("\n".join(err))
    assert not (tmp_path / "escape.blend").exists()


# ---- non-regular files: the jobs file and a row's inputs ----------------------------------------


@pytest.fixture
def odd_files(tmp_path):
    """Paths that are not regular files, by kind (FIFO, socket, device, folder, links)."""
    fifo = tmp_path / "pipe.osm"
    os.mkfifo(fifo)
    sock = tmp_path / "sock.osm"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    os.symlink("/dev/zero", tmp_path / "zero.osm")
    (tmp_path / "folder.osm").mkdir()
    yield {
        "FIFO": (fifo, "is a named pipe (FIFO)"),
        "socket": (sock, "is a socket"),
        "/dev/zero": (tmp_path / "zero.osm", "is a character device"),
        "/dev/null": ("/dev/null", "is a character device"),
        "folder": (tmp_path / "folder.osm", "is a folder"),
    }
    server.close()


@pytest.mark.parametrize("kind", ["FIFO", "socket", "/dev/zero", "/dev/null", "folder"])
@pytest.mark.parametrize("column", ["osm", "gpx", "car_blend"])
def test_a_rows_input_that_is_not_a_regular_file_is_a_bad_row(tmp_path, odd_files, kind, column):
    path, what = odd_files[kind]
    row = {**job_rows(1)[0], column: str(path)}
    if column == "gpx":
        row.pop("waypoints")
    if column == "car_blend":
        row["car_object"] = "Car"
    error = refused(write_csv(tmp_path / "jobs.csv", [row]), tmp_path / "out")
    (problem,) = error.problems
    assert problem.field == column and what in problem.why and "give a regular file" in problem.why


@pytest.mark.parametrize("kind", ["FIFO", "socket", "/dev/null", "folder"])
def test_a_jobs_file_that_is_not_a_regular_file_is_refused_unopened(tmp_path, odd_files, kind):
    path, what = odd_files[kind]
    jobs = tmp_path / "jobs.csv"
    os.symlink(path, jobs)
    error = refused(jobs, tmp_path / "out")
    assert str(error).startswith(f"{jobs}: {what}, not a jobs file: give a regular file")


def test_a_jobs_file_too_large_to_be_one_is_refused_before_it_is_read_whole(tmp_path):
    path = tmp_path / "jobs.csv"
    with open(path, "wb") as handle:
        handle.truncate((256 << 20) + 1)  # sparse: no disk used
    error = refused(path, tmp_path)
    assert str(error) == f"{path}: is larger than 256 MiB, too large for a jobs file: split it"
