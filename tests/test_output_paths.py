"""Outputs never destroy inputs: every output is checked before anything is built or written.

Each case runs the real command line (``main``, the bpy module) in a folder of real files,
links, FIFOs, sockets and devices, and asserts the exit code, the one error line (the option,
the path, what is wrong) and that nothing in the folder was created, changed or replaced.
"""

import hashlib
import os
import socket
import stat
from pathlib import Path

import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.error_lines import assert_one_line

from leanroute.cli.commands import DEMO_FILES, main
from leanroute.route.output_paths import unused_name
from leanroute.route.sample_city import write_sample_city

OSM_TEXT = "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'></osm>\n"
GPX_TEXT = "<?xml version='1.0'?>\n<gpx version='1.1'></gpx>\n"
ROUTE = ["--route", "45.0,-30.0;45.001,-29.999"]


def snapshot(folder: Path) -> dict:
    """Every entry under *folder*: its kind, and for files their bytes' hash, size and mtime."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            info = path.lstat()
            entry = (stat.S_IFMT(info.st_mode), info.st_ino, info.st_mtime_ns)
            if stat.S_ISREG(info.st_mode):
                entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
            elif stat.S_ISLNK(info.st_mode):
                entry += (os.readlink(path),)
            elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                entry += (info.st_rdev,)
            found[str(path.relative_to(folder))] = entry
    return found


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """A folder of inputs (the current folder: relative paths are part of the attack)."""
    (tmp_path / "city.osm").write_text(OSM_TEXT)
    (tmp_path / "track.gpx").write_text(GPX_TEXT)
    (tmp_path / "car.blend").write_bytes(b"BLENDER-v300" + bytes(200))
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fake_null(path: Path) -> None:
    """A character device like /dev/null (mknod as root; else a link to /dev/null)."""
    if os.geteuid() == 0:
        os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 3))
    else:
        path.symlink_to("/dev/null")


def make_socket(path: Path) -> None:
    """A unix socket file at *path* (its server closed: the file stays)."""
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
    finally:
        server.close()


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def assert_refused(code: int, err: str, pieces, exit_code: int = 1) -> None:
    assert_one_line(code, err, pieces, exit_code)


# (id, how to prepare the folder, the build's arguments, pieces of the one error line)
BUILD_CASES = [
    ("out-is-osm", None, ["--out", "city.osm"], ["--out:", "city.osm", "same file as --osm"]),
    ("out-is-osm-dot", None, ["--out", "./city.osm"], ["--out:", "same file as --osm"]),
    (
        "out-is-osm-dotdot",
        None,
        ["--out", "out/../city.osm"],
        ["--out:", "out/../city.osm", "same file as --osm"],
    ),
    (
        "out-is-symlink-to-osm",
        lambda d: (d / "link.blend").symlink_to("city.osm"),
        ["--out", "link.blend"],
        ["--out:", "link.blend", "same file as --osm"],
    ),
    (
        "out-is-hard-link-to-osm",
        lambda d: os.link(d / "city.osm", d / "hard.blend"),
        ["--out", "hard.blend"],
        ["--out:", "hard.blend", "same file as --osm"],
    ),
    (
        "out-is-car-blend",
        None,
        ["--out", "car.blend", "--car-blend", "car.blend", "--car-object", "Car"],
        ["--out:", "car.blend", "same file as --car-blend"],
    ),
    ("report-is-osm", None, ["--report", "city.osm"], ["--report:", "same file as --osm"]),
    (
        "report-is-out",
        None,
        ["--report", "out/x.blend"],
        ["--report:", "out/x.blend", "same file as --out"],
    ),
    (
        "report-is-hard-link-to-out",
        lambda d: (
            (d / "out" / "x.blend").write_bytes(b"BLENDER old"),
            os.link(d / "out" / "x.blend", d / "out" / "x.json"),
        ),
        ["--report", "out/x.json"],
        ["--report:", "x.json", "same file as --out"],
    ),
    ("out-is-folder", None, ["--out", "out"], ["--out:", "out is a folder; give a file name"]),
    (
        "out-is-folder-named-blend",
        lambda d: (d / "dir.blend").mkdir(),
        ["--out", "dir.blend"],
        ["--out:", "dir.blend is a folder"],
    ),
    (
        "out-is-fifo",
        lambda d: os.mkfifo(d / "fifo.blend"),
        ["--out", "fifo.blend"],
        ["--out:", "fifo.blend is a named pipe (FIFO), not a regular file"],
    ),
    (
        "out-is-socket",
        lambda d: make_socket(d / "s.blend"),
        ["--out", "s.blend"],
        ["--out:", "s.blend is a socket, not a regular file"],
    ),
    (
        "out-is-dev-null",
        None,
        ["--out", "/dev/null"],
        ["--out: /dev/null is a character device, not a regular file"],
    ),
    (
        "out-is-fakenull",
        lambda d: fake_null(d / "fakenull"),
        ["--out", "fakenull"],
        ["--out:", "fakenull is a character device, not a regular file"],
    ),
    (
        "out-is-symlink-to-dev-null",
        lambda d: (d / "null.blend").symlink_to("/dev/null"),
        ["--out", "null.blend"],
        ["--out:", "null.blend is a character device"],
    ),
    (
        "out-is-symlink-to-fifo",
        lambda d: (os.mkfifo(d / "fifo"), (d / "f.blend").symlink_to("fifo")),
        ["--out", "f.blend"],
        ["--out:", "f.blend is a named pipe (FIFO)"],
    ),
    (
        "out-is-symlink-to-folder",
        lambda d: (d / "o.blend").symlink_to("out"),
        ["--out", "o.blend"],
        ["--out:", "o.blend is a folder"],
    ),
    (
        "out-is-dangling-symlink",
        lambda d: (d / "gone.blend").symlink_to("nowhere/x.blend"),
        ["--out", "gone.blend"],
        ["--out:", "gone.blend is a symbolic link to nowhere/x.blend, which does not exist"],
    ),
    (
        "report-is-fifo",
        lambda d: os.mkfifo(d / "fifo.json"),
        ["--report", "fifo.json"],
        ["--report:", "fifo.json is a named pipe (FIFO)"],
    ),
    (
        "report-is-dev-null",
        None,
        ["--report", "/dev/null"],
        ["--report: /dev/null is a character device"],
    ),
    (
        "out-under-a-file",
        None,
        ["--out", "city.osm/x.blend"],
        ["--out:", "city.osm/x.blend", "a part of the path is a file, not a folder"],
    ),
    (
        "out-in-a-missing-folder",
        None,
        ["--out", "new/deeper/x.blend"],
        ["--out:", "the folder", "new/deeper does not exist"],
    ),
    (
        "out-without-blend",
        None,
        ["--out", "a"],
        ["--out:", "does not end in .blend: use ", "/a.blend"],
    ),
    (
        "out-with-another-suffix",
        None,
        ["--out", "city.json"],
        ["--out:", "does not end in .blend: use ", "/city.blend"],
    ),
    (
        "report-without-json",
        None,
        ["--report", "out/r.txt"],
        ["--report:", "does not end in .json: use ", "out/r.json"],
    ),
    (
        "out-name-too-long",
        None,
        ["--out", "n" * 240 + ".blend"],
        [
            "--out:",
            "the name is too long",
            "it would be 263 bytes, and this disk takes at most 255",
            "shorten it to 232 bytes before .blend",
        ],
    ),
    (
        "report-name-too-long",
        None,
        ["--report", "r" * 240 + ".json"],
        ["--report:", "the name is too long", "at most 255"],
    ),
    (
        "out-path-too-long-for-blender",
        lambda d: (d / ("p" * 200) / ("q" * 200) / ("r" * 200) / ("s" * 200)).mkdir(parents=True),
        ["--out", "/".join(c * 200 for c in "pqrs") + "/" + "t" * 150 + ".blend"],
        ["--out:", "the path is too long", "Blender takes at most 1023"],
    ),
]


@pytest.mark.parametrize(
    ("prepare", "args", "pieces"),
    [case[1:] for case in BUILD_CASES],
    ids=[case[0] for case in BUILD_CASES],
)
def test_build_refuses_an_output_that_would_destroy_something(
    inputs, capsys, prepare, args, pieces
):
    if prepare is not None:
        prepare(inputs)
    before = snapshot(inputs)
    options = dict(zip(args[::2], args[1::2], strict=False))
    base = ["build", "--osm", "city.osm", *ROUTE, "--out", options.pop("--out", "out/x.blend")]
    code, err = run(capsys, *base, *[item for pair in options.items() for item in pair])
    assert_refused(code, err, pieces)
    assert snapshot(inputs) == before  # no file created, changed or replaced


@pytest.mark.parametrize("name", ["new.blend/", "out/", ".", "..", "out/.."])
@pytest.mark.parametrize("option", ["--out", "--report"])
def test_a_file_option_that_names_a_folder_is_a_usage_error(inputs, capsys, option, name):
    before = snapshot(inputs)
    args = {"--out": "out/x.blend", option: name}
    code, err = run(capsys, "build", "--osm", "city.osm", *ROUTE, *sum(args.items(), ()))
    assert_refused(code, err, [f"argument {option}: {name!r} names a folder"], exit_code=2)
    assert snapshot(inputs) == before


def test_out_on_a_gpx_input_is_refused(inputs, capsys):
    before = snapshot(inputs)
    code, err = run(
        capsys, "build", "--osm", "city.osm", "--gpx", "track.gpx", "--out", "track.gpx"
    )
    assert_refused(code, err, ["--out:", "track.gpx", "same file as --gpx"])
    assert snapshot(inputs) == before


@pytest.mark.parametrize("option", ["--out", "--report"])
def test_a_device_stays_a_device_after_a_buildable_route(inputs, capsys, option):
    # The case: --out fakenull turned a character device into a 1.7 MB file. The
    # city and route here build, so only the check stands between the device and the save.
    city = write_sample_city(inputs / "sample.osm", buildings=5)
    route = ";".join(f"{lat},{lon}" for lat, lon in city.waypoints)
    fake_null(inputs / "fakenull")
    outputs = {"--out": "out/x.blend", "--report": "out/x.json", option: "fakenull"}
    args = ["build", "--osm", "sample.osm", "--route", route, *sum(outputs.items(), ())]
    code, err = run(capsys, *args, "--quiet")
    assert_refused(code, err, [f"{option}:", "fakenull is a character device"])
    assert stat.S_ISCHR(os.stat(inputs / "fakenull").st_mode)
    assert sorted(p.name for p in (inputs / "out").iterdir()) == []


DEMO_CASES = [
    (
        "out-dir-is-a-file",
        lambda d: (d / "taken").write_text("mine"),
        "taken",
        ["--out-dir:", "taken is a file, not a folder"],
    ),
    ("out-dir-is-dev-null", None, "/dev/null", ["--out-dir: /dev/null is a character device"]),
    (
        "out-dir-under-a-file",
        None,
        "city.osm/demo",
        ["--out-dir:", "city.osm is a file, not a folder"],
    ),
    (
        "demo-blend-is-a-fifo",
        lambda d: os.mkfifo(d / "out" / "demo.blend"),
        "out",
        ["--out-dir (demo.blend):", "demo.blend is a named pipe (FIFO)"],
    ),
    (
        "demo-report-is-a-folder",
        lambda d: (d / "out" / "demo-report.json").mkdir(),
        "out",
        ["--out-dir (demo-report.json):", "demo-report.json is a folder"],
    ),
    (
        "sample-osm-links-to-a-device",
        lambda d: (d / "out" / "sample.osm").symlink_to("/dev/null"),
        "out",
        ["--out-dir (sample.osm):", "sample.osm is a symbolic link to /dev/null"],
    ),
    (
        "sample-osm-is-a-dangling-link",
        lambda d: (d / "out" / "sample.osm").symlink_to("gone/sample.osm"),
        "out",
        ["--out-dir (sample.osm):", "is a symbolic link to gone/sample.osm;", "remove it"],
    ),
]


@pytest.mark.parametrize(
    ("prepare", "out_dir", "pieces"),
    [case[1:] for case in DEMO_CASES],
    ids=[case[0] for case in DEMO_CASES],
)
def test_demo_refuses_its_folder_or_files_before_writing_anything(
    inputs, capsys, prepare, out_dir, pieces
):
    if prepare is not None:
        prepare(inputs)
    before = snapshot(inputs)
    code, err = run(capsys, "demo", "--out-dir", out_dir, "--buildings", "5", "--quiet")
    assert_refused(code, err, pieces)
    assert snapshot(inputs) == before


def test_demo_refuses_writing_its_blend_over_the_car_it_uses(inputs, capsys):
    (inputs / "out" / "demo.blend").write_bytes(b"BLENDER-v300" + bytes(64))
    before = snapshot(inputs)
    code, err = run(
        capsys, "demo", "--out-dir", "out", "--car-blend", "out/demo.blend", "--car-object", "Car"
    )
    assert_refused(code, err, ["--out-dir (demo.blend):", "same file as --car-blend"])
    assert snapshot(inputs) == before


#: What demo may find under the name of a file it writes, none of which it may write through
#: or replace: (id, how to make it at *path* in folder *d*, what the line says it is).
FOUND_UNDER_DEMO_NAMES = [
    ("symlink-to-osm", lambda d, path: path.symlink_to(d / "city.osm"), "is a symbolic link to"),
    (
        "relative-symlink-to-osm",
        lambda d, path: path.symlink_to(os.path.relpath(d / "city.osm", path.parent)),
        "is a symbolic link to ../city.osm",
    ),
    (
        "symlink-to-a-file-elsewhere",
        lambda d, path: path.symlink_to(d / "keep" / "mine.bin"),
        "is a symbolic link to",
    ),
    (
        "symlink-to-an-earlier-demo-file",
        lambda d, path: path.symlink_to(d / "keep" / path.name),
        "is a symbolic link to",
    ),
    ("dangling-symlink", lambda d, path: path.symlink_to("gone/x"), "is a symbolic link to gone/x"),
    ("symlink-to-folder", lambda d, path: path.symlink_to(d / "keep"), "is a symbolic link to"),
    (
        "hard-link-to-osm",
        lambda d, path: os.link(d / "city.osm", path),
        "is a file with another name (a hard link)",
    ),
    (
        "hard-link-twice",
        lambda d, path: (
            os.link(d / "keep" / "mine.bin", d / "keep" / "again.bin"),
            os.link(d / "keep" / "mine.bin", path),
        ),
        "is a file with 2 other names (a hard link)",
    ),
    ("folder", lambda d, path: path.mkdir(), "is a folder"),
    ("fifo", lambda d, path: os.mkfifo(path), "is a named pipe (FIFO), not a regular file"),
    ("socket", lambda d, path: make_socket(path), "is a socket, not a regular file"),
    (
        "device",
        lambda d, path: fake_null(path),
        "is a symbolic link to /dev/null" if os.geteuid() else "is a character device, not a",
    ),
]


@pytest.mark.parametrize("name", ["sample.osm", "demo.blend", "demo-report.json"])
@pytest.mark.parametrize(
    ("make", "what"),
    [case[1:] for case in FOUND_UNDER_DEMO_NAMES],
    ids=[case[0] for case in FOUND_UNDER_DEMO_NAMES],
)
def test_demo_writes_no_name_it_chose_unless_new_or_a_plain_file(inputs, capsys, name, make, what):
    # The user named only --out-dir, so whatever holds one of demo's names was not meant as
    # its output: refused before anything is written, and what a link leads to is unchanged.
    (inputs / "keep").mkdir()
    (inputs / "keep" / "mine.bin").write_bytes(b"the user's own bytes")
    (inputs / "keep" / name).write_bytes(b"an earlier demo's file, kept elsewhere")
    make(inputs, inputs / "out" / name)
    before, osm = snapshot(inputs), (inputs / "city.osm").read_bytes()
    code, err = run(capsys, "demo", "--out-dir", "out", "--buildings", "2", "--quiet")
    assert_refused(
        code,
        err,
        [f"--out-dir ({name}): ", f"out/{name} {what}", "remove it or choose another --out-dir"],
    )
    assert (inputs / "city.osm").read_bytes() == osm
    assert snapshot(inputs) == before  # nothing created, changed, replaced or removed


@pytest.mark.parametrize("kept", [".sample.tmp-{pid}.osm@", ".sample.tmp-{pid}.osm"])
def test_demo_replaces_its_own_plain_files_and_a_killed_runs_kept_sample(inputs, capsys, kept):
    # An earlier demo's files (one name each) are replaced as before; the hard link a killed
    # demo kept of its sample city (named as its temporary) is not another name of the user's.
    out = inputs / "out"
    for name in DEMO_FILES:
        (out / name).write_bytes(b"an earlier run's " + name.encode())
    dead = 999_999_999  # above any pid_max: no process has it
    os.link(out / "sample.osm", out / kept.format(pid=dead))
    code, err = run(capsys, "demo", "--out-dir", "out", "--buildings", "2", "--quiet")
    assert (code, err) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == sorted(DEMO_FILES)
    assert (out / "demo.blend").read_bytes().startswith(b"BLENDER")
    assert b"<osm" in (out / "sample.osm").read_bytes()
    assert all((out / name).stat().st_nlink == 1 for name in DEMO_FILES)


def test_a_name_leanroute_picks_in_a_users_folder_is_one_nothing_holds(inputs):
    # The panel's report after each build (leanroute-<time>.json in the report folder): a
    # link to the user's file, a dangling link, a hard link, a folder or a FIFO holding the
    # name is left alone and the next number taken, never written through or replaced.
    folder = inputs / "reports"
    folder.mkdir()
    (folder / "leanroute-1.json").symlink_to(inputs / "city.osm")
    (folder / "leanroute-1-2.json").symlink_to("gone.json")
    os.link(inputs / "city.osm", folder / "leanroute-1-3.json")
    (folder / "leanroute-1-4.json").mkdir()
    os.mkfifo(folder / "leanroute-1-5.json")
    assert unused_name(folder, "leanroute-1", ".json") == folder / "leanroute-1-6.json"
    assert unused_name(folder, "leanroute-2", ".json") == folder / "leanroute-2.json"


BATCH_CASES = [
    ("out-is-the-jobs-file", None, "jobs.csv", ["--out:", "jobs.csv is a file, not a folder"]),
    ("out-is-an-osm-input", None, "city.osm", ["--out:", "city.osm is a file, not a folder"]),
    ("out-is-dev-null", None, "/dev/null", ["--out: /dev/null is a character device"]),
    (
        "out-is-a-fifo",
        lambda d: os.mkfifo(d / "fifo"),
        "fifo",
        ["--out:", "fifo is a named pipe (FIFO), not a folder"],
    ),
    (
        "out-under-a-file",
        None,
        "jobs.csv/out",
        ["--out:", "jobs.csv is a file, not a folder"],
    ),
    (
        "state-folder-is-a-file",
        lambda d: (d / "out" / "leanroute-batch").write_text("mine"),
        "out",
        ["--out:", "leanroute-batch is a file, not a folder"],
    ),
    (
        "jobs-file-in-the-state-folder",
        lambda d: (
            (d / "out" / "leanroute-batch").mkdir(),
            (d / "jobs.csv").rename(d / "out" / "leanroute-batch" / "report.json"),
            (d / "jobs.csv").symlink_to("out/leanroute-batch/report.json"),
        ),
        "out",
        ["--out:", "jobs.csv (a link to ", "leanroute-batch/report.json) is inside"],
    ),
]


@pytest.mark.parametrize(
    ("prepare", "out", "pieces"),
    [case[1:] for case in BATCH_CASES],
    ids=[case[0] for case in BATCH_CASES],
)
def test_batch_refuses_an_out_folder_that_would_destroy_something(
    inputs, capsys, prepare, out, pieces
):
    write_csv(inputs / "jobs.csv", job_rows(1))
    if prepare is not None:
        prepare(inputs)
    before = snapshot(inputs)
    code, err = run(capsys, "batch", "jobs.csv", "--out", out, "--quiet")
    assert_refused(code, err, pieces)
    assert snapshot(inputs) == before
