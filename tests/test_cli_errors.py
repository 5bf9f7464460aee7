"""Every command-line error is one clear line naming what to change: no exception names.

Negative option values without "=", --debug after the command, operating-system errors
(disk full for real on a small tmpfs, a read-only folder as an unprivileged user, a folder
removed during the build), --car-blend, --compare-to and budget sizes.
"""

import errno
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import bpy
import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.error_lines import EXCEPTION_NAME, assert_one_line
from helpers.unprivileged import as_unprivileged

from leanroute.cli.commands import main
from leanroute.route.build import SceneBuild
from leanroute.route.build_paths import check_blend_file
from leanroute.route.errors import OutputFileError, describe, os_error_line
from leanroute.route.sample_city import write_sample_city
from leanroute.route.settings import BuildSettings


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "sample.osm", buildings=20)


def route_of(waypoints) -> str:
    return ";".join(f"{lat},{lon}" for lat, lon in waypoints)


def south_of_the_equator(city, folder: Path):
    """The sample city mirrored to 45° S: its route is written with negative latitudes."""
    text = Path(city.path).read_text()
    bounds = re.search(r'minlat="([-0-9.]+)"(.*?)maxlat="([-0-9.]+)"', text)
    text = text.replace(bounds.group(0), f'minlat="-{bounds[3]}"{bounds[2]}maxlat="-{bounds[1]}"')
    text = re.sub(r' lat="([0-9])', r' lat="-\1', text)
    path = folder / "south.osm"
    path.write_text(text)
    return path, route_of((-lat, lon) for lat, lon in city.waypoints)


def test_a_southern_and_western_route_needs_no_equals_sign(city, tmp_path, capsys):
    osm, route = south_of_the_equator(city, tmp_path)
    assert route.startswith("-44.99")
    out = tmp_path / "south.blend"
    code = main(["build", "--osm", str(osm), "--route", route, "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes()[:7] == b"BLENDER"


def test_a_route_outside_the_map_is_a_route_error_not_a_usage_error(city, tmp_path, capsys):
    code = main(
        ["build", "--osm", str(city.path), "--route", "-33.86,151.2;-33.87,151.21",
         "--out", str(tmp_path / "x.blend")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert_one_line(code, err, ["waypoint 1 (-33.86, 151.2) lies outside the map data"])


@pytest.mark.parametrize(
    ("args", "code", "piece"),
    [
        (["--padding", "-0"], 0, ""),  # a negative zero is a value, here a fine one
        (["--car-object", "-Car", "--car-blend", "car.blend"], 1, "no such file (--car-blend)"),
        (["--frame-start", "-5"], 2, "argument --frame-start: must be a whole number from 0"),
        (["--speed", "-.5"], 2, "argument --speed: must be a number from 1 to 1,000 km/h"),
    ],
)
def test_values_that_start_with_a_minus_stay_values_in_batch_settings(
    tmp_path, capsys, monkeypatch, args, code, piece
):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "jobs.csv", job_rows(1))
    status = main(["batch", "jobs.csv", "--out", "out", "--quiet", *args])
    err = capsys.readouterr().err
    assert status == code, err
    assert piece in err
    assert "expected one argument" not in err and not EXCEPTION_NAME.search(err)
    assert (tmp_path / "out").exists() == (code == 0)


@pytest.mark.parametrize("where", ["before the command", "after the command", "at the end"])
def test_debug_is_accepted_anywhere(tmp_path, capsys, where):
    args = ["build", "--osm", str(tmp_path / "missing.osm"), "--route", "1,2;3,4",
            "--out", str(tmp_path / "x.blend")]  # fmt: skip
    position = {"before the command": 0, "after the command": 1, "at the end": len(args)}[where]
    args.insert(position, "--debug")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err  # --debug took effect
    assert (
        err.strip().splitlines()[-1]
        == f"leanroute: error: {tmp_path}/missing.osm: no such file (--osm)"
    )


# -- operating-system errors: one line naming the file and what to do --------------------


@pytest.mark.parametrize(
    ("code", "writing", "pieces"),
    [
        (errno.ENOSPC, True, ["/d/x.blend: no space left on the disk", "free some space"]),
        (errno.EDQUOT, True, ["/d/x.blend: disk quota exceeded"]),
        (errno.EACCES, True, ["/d/x.blend: permission denied: the folder /d is not writable"]),
        (errno.EPERM, True, ["the folder /d is not writable; choose another folder"]),
        (errno.EACCES, False, ["/d/x.blend: permission denied: check the permissions"]),
        (errno.EROFS, True, ["/d/x.blend: the file system is read-only: write to a folder"]),
        (errno.ENAMETOOLONG, True, ["/d/x.blend: the name is too long for the file system"]),
        (errno.ENOENT, True, ["/d/x.blend: the folder /d no longer exists: create it again"]),
        (errno.ENOENT, False, ["/d/x.blend: no such file or folder"]),
        (errno.ENOTDIR, False, ["/d/x.blend: a part of the path is a file, not a folder"]),
        (errno.EISDIR, True, ["/d/x.blend: is a folder: give a file name"]),
        (errno.EFBIG, True, ["/d/x.blend: the file grew past the size limit"]),
        (errno.ELOOP, False, ["/d/x.blend: too many levels of symbolic links"]),
        (errno.EMFILE, False, ["/d/x.blend: too many open files"]),
        (errno.EIO, True, ["/d/x.blend: input/output error"]),
    ],
)
def test_an_os_error_is_one_line_naming_the_file(code, writing, pieces):
    error = OSError(code, os.strerror(code), "/d/x.blend")
    line = os_error_line(error, writing=writing)
    for piece in pieces:
        assert piece in line, line
    assert not EXCEPTION_NAME.search(line) and "Errno" not in line
    if not writing:
        assert describe(error) == line


def test_describe_never_names_an_os_error_type():
    for error in (PermissionError(13, "Permission denied"), FileNotFoundError(2, "No such file")):
        assert not EXCEPTION_NAME.search(describe(error)), describe(error)


def test_a_full_disk_names_the_file_and_the_space_needed(city, tmp_path):
    """A real full disk: the .blend is saved into a 300 KiB tmpfs (a private mount)."""
    folder = tempfile.mkdtemp(prefix="leanroute-full-")
    try:
        script = (
            f"mount -t tmpfs -o size=300k tmpfs {folder} || exit 99; "
            f"{sys.executable} -m leanroute build --osm {city.path} "
            f"--route '{route_of(city.waypoints)}' --out {folder}/city.blend "
            f"--report {folder}/city.json --quiet; code=$?; ls -A {folder}; exit $code"
        )
        prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-Urm"]
        run = subprocess.run(
            [*prefix, "sh", "-c", script], capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        os.rmdir(folder)
    if run.returncode == 99 or "unshare" in run.stderr:
        pytest.skip(f"no private tmpfs here: {run.stderr.strip()}")
    line = assert_one_line(
        run.returncode,
        run.stderr,
        [f"{folder}/city.blend: no space left on the disk (needs about ", " free)",
         ": free some space or write elsewhere"],
    )  # fmt: skip
    needed, free = re.search(r"needs about ([0-9.]+ \w+), ([0-9.]+ \w+) free", line).groups()
    assert needed.endswith("MiB") and free.endswith("KiB"), line
    assert run.stdout.strip() == ""  # nothing left in the folder: no .blend, no temporary


def test_a_folder_removed_during_the_build_is_named(factory_scene, city, tmp_path):
    out = tmp_path / "scenes"
    out.mkdir()

    def remove_before_save(name, _index, _count):
        if name == "save":
            shutil.rmtree(out)

    settings = BuildSettings(osm=city.path, waypoints=city.waypoints, out=out / "x.blend")
    with pytest.raises(OutputFileError) as caught:
        SceneBuild(settings, on_stage=remove_before_save).run()
    assert describe(caught.value) == (
        f"{out}/x.blend: the folder {out} no longer exists: create it again or choose another"
    )
    assert not out.exists()


# -- read-only folders, as a user the permission bits apply to -----------------------------


@pytest.fixture
def read_only(city):
    """A world-readable folder holding the city and a read-only folder ``ro``."""
    base = Path(tempfile.mkdtemp(prefix="leanroute-ro-"))
    try:
        base.chmod(0o777)
        shutil.copy(city.path, base / "city.osm")
        (base / "city.osm").chmod(0o644)
        write_csv(base / "jobs.csv", [{**job_rows(1)[0], "osm": str(base / "city.osm"),
                                       "waypoints": route_of(city.waypoints)}])  # fmt: skip
        (base / "jobs.csv").chmod(0o644)
        (base / "ro").mkdir(mode=0o555)
        (base / "ro").chmod(0o555)
        (base / "locked.blend").write_bytes(b"BLENDER: a file its owner keeps")
        (base / "locked.blend").chmod(0o444)  # in a folder anyone may write to
        yield base
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize(
    ("args", "folder"),
    [
        (["build", "--osm", "city.osm", "--route", "{route}", "--out", "ro/x.blend"], "ro"),
        (
            [
                "build",
                "--osm",
                "city.osm",
                "--route",
                "{route}",
                "--out",
                "x.blend",
                "--report",
                "ro/x.json",
            ],
            "ro",
        ),
        (["demo", "--out-dir", "ro", "--buildings", "5"], "ro"),
        (["demo", "--out-dir", "ro/new", "--buildings", "5"], "ro"),
        (["batch", "jobs.csv", "--out", "ro"], "ro"),
        (["batch", "jobs.csv", "--out", "ro/new"], "ro"),
        (["build", "--osm", "city.osm", "--route", "{route}", "--out", "locked.blend"], None),
    ],
)
def test_a_read_only_folder_or_file_is_one_line_naming_it(city, read_only, args, folder):
    route = route_of(city.waypoints)
    command = [sys.executable, "-m", "leanroute", *[a.replace("{route}", route) for a in args]]
    before = sorted((p.name, p.stat().st_mtime_ns) for p in read_only.rglob("*"))
    run = as_unprivileged(command, read_only)
    option = "--out-dir" if args[0] == "demo" else "--report" if "--report" in args else "--out"
    expected = (
        f"{option}: the folder {read_only / folder} is not writable: choose another folder"
        if folder is not None
        else f"--out: {read_only}/locked.blend is read-only: make it writable to replace it"
    )
    assert_one_line(run.returncode, run.stderr, [expected])
    assert ".tmp-" not in run.stderr
    assert sorted((p.name, p.stat().st_mtime_ns) for p in read_only.rglob("*")) == before


# -- --car-blend, --compare-to, sizes: checked before anything runs ------------------------


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


@pytest.mark.parametrize(
    ("make", "pieces"),
    [
        (lambda p: p.mkdir(), ["is a folder, not a .blend file", "(--car-blend)"]),
        (None, ["car.blend: no such file (--car-blend)"]),
        (lambda p: p.write_text("<osm/>"), ["is not a Blender file (it starts with '<osm/>'"]),
        (lambda p: p.write_bytes(b""), ["is not a Blender file (it is empty)"]),
        (lambda p: p.write_bytes(_gzip(b"<osm/>" * 10)), ["is not a Blender file"]),
        (lambda p: p.write_bytes(b"\x1f\x8bgarbage"), ["is not a Blender file"]),
        (os.mkfifo, ["is a named pipe (FIFO), not a .blend file"]),
        (lambda p: p.symlink_to("/dev/zero"), ["is a character device, not a .blend file"]),
    ],
)
@pytest.mark.parametrize("command", ["build", "demo", "batch"])
def test_a_car_blend_that_is_no_blend_file_is_refused_before_the_build(
    city, tmp_path, capsys, command, make, pieces
):
    car = tmp_path / "car.blend"
    if make is not None:
        make(car)
    out = tmp_path / "out"
    args = {
        "build": [
            "build",
            "--osm",
            str(city.path),
            "--route",
            route_of(city.waypoints),
            "--out",
            str(out / "x.blend"),
        ],
        "demo": ["demo", "--out-dir", str(out)],
        "batch": ["batch", str(write_csv(tmp_path / "jobs.csv", job_rows(1))), "--out", str(out)],
    }[command]
    code = main([*args, "--car-blend", str(car), "--car-object", "Car"])
    assert_one_line(code, capsys.readouterr().err, [str(car), *pieces])
    assert not out.exists()


def test_real_blend_files_pass_the_car_check(factory_scene, tmp_path):
    plain = tmp_path / "plain.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(plain), copy=True, compress=False)
    packed = tmp_path / "packed.blend"  # Blender's own compression (zstd since 3.0)
    bpy.ops.wm.save_as_mainfile(filepath=str(packed), copy=True, compress=True)
    old_style = tmp_path / "gzip.blend"  # as Blender 2.x compressed
    old_style.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed, old_style):
        check_blend_file(path, "--car-blend")
    assert packed.read_bytes()[:7] != b"BLENDER"


@pytest.mark.parametrize(
    ("make", "pieces"),
    [
        (None, ["report.json: no such file (--compare-to)"]),
        (lambda p: p.mkdir(), ["report.json: is a folder", "(--compare-to)"]),
        (os.mkfifo, ["report.json: is a named pipe (FIFO)", "(--compare-to)"]),
        (lambda p: p.write_text("not json"), ["--compare-to: cannot read", "report.json"]),
        (lambda p: p.write_text('{"jobs": []}'), ["is not a LeanRoute batch report"]),
        (lambda p: p.write_text("[1, 2]"), ["is not a LeanRoute batch report"]),
        (lambda p: p.write_text("[" * 100_000 + "]" * 100_000), ["--compare-to:", "report.json"]),
    ],
)
def test_compare_to_that_is_no_batch_report_is_refused_before_the_batch(
    tmp_path, capsys, make, pieces
):
    report = tmp_path / "report.json"
    if make is not None:
        make(report)
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(1))
    code = main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--compare-to", str(report)])
    assert_one_line(code, capsys.readouterr().err, pieces)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "code", "pieces"),
    [
        (["--hard-budget", "0"], 2, ["argument --hard-budget: '0' is no memory at all"]),
        (["--hard-budget", "0.5"], 2, ["argument --hard-budget: '0.5' is no memory at all"]),
        (["--soft-budget", "-1"], 2, ["argument --soft-budget: '-1' is not a size"]),
        (["--hard-budget", "1e3GB"], 2, ["argument --hard-budget: '1e3GB' is not a size"]),
        (["--restart-above", "0"], 2, ["argument --restart-above: '0' is no memory at all"]),
        (["--hard-budget", "100MB"], 1, ["--hard-budget: 100.0 MiB is less than a Blender"]),
        (["--soft-budget", "1MB"], 1, ["--soft-budget: 1.0 MiB is less than a Blender"]),
        (
            ["--soft-budget", "3GB", "--hard-budget", "2GB"],
            1,
            ["--soft-budget: 3.0 GiB is not below --hard-budget (2.0 GiB)"],
        ),
        (["--workers", "0"], 2, ["argument --workers: expected a whole number from 1"]),
        (["--workers", "-3"], 2, ["argument --workers: expected a whole number from 1"]),
        (["--recycle-every", "0"], 2, ["argument --recycle-every: expected a whole number >= 1"]),
        (["--shard", "0/4"], 2, ["argument --shard: shard 0/4: N must be 1 or more and I from"]),
        (["--shard", "5/4"], 2, ["argument --shard: shard 5/4"]),
        (["--shard", "1/0"], 2, ["argument --shard: shard 1/0"]),
        (["--shard", "1_0/20"], 2, ["argument --shard: '1_0/20' is not I/N"]),
    ],
)
def test_batch_sizes_and_counts_that_make_no_sense_are_refused(
    tmp_path, capsys, args, code, pieces
):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(1))
    status = main(["batch", str(jobs), "--out", str(tmp_path / "out"), *args])
    assert_one_line(status, capsys.readouterr().err, pieces, exit_code=code)
    assert not (tmp_path / "out").exists()


def test_the_read_only_fixture_really_is_read_only(read_only):
    # The folder the tests above write into refuses an ordinary user's new file.
    run = as_unprivileged(["touch", "ro/probe"], read_only)
    assert run.returncode != 0 and not (read_only / "ro" / "probe").exists()
    assert stat.S_IMODE((read_only / "ro").stat().st_mode) == 0o555


def test_a_quiet_batch_still_says_which_job_failed_and_why(tmp_path, capsys):
    rows = job_rows(2, cities=("lisbon",))
    rows[1]["waypoints"] = "38.70,-9.30;38.71,-9.31"  # off the Lisbon extract
    jobs = write_csv(tmp_path / "jobs.csv", rows)
    code = main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    line = assert_one_line(code, captured.err, ["leanroute: failed: lisbon-02: waypoint 1"])
    assert "lies outside the map data" in line
