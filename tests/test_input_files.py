"""Input files that are not regular files are refused before they are opened, never hang.

A FIFO as --osm blocked ``open()`` forever; /dev/zero would be read forever. Every reader (OSM,
GPX, jobs file, the car's .blend, the size forecast) asks one check first.
"""

import os
import re
import signal
import socket

import pytest
from helpers.paths import SHARED_DATA
from helpers.scene import fingerprint

from leanroute.cli.commands import main
from leanroute.route.build import SceneBuild
from leanroute.route.errors import InputFileError
from leanroute.route.gpx_track import read_gpx
from leanroute.route.input_files import check_input_file, open_input
from leanroute.route.memory_forecast import size_of_file
from leanroute.route.osm_parse import read_osm
from leanroute.route.sample_city import write_sample_city
from leanroute.route.settings import BuildSettings

EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback")
KINDS = ["FIFO", "socket", "/dev/zero", "/dev/null", "link to /dev/urandom", "folder", "missing"]
WHAT = {
    "FIFO": "is a named pipe (FIFO), not {what}: give a regular file",
    "socket": "is a socket, not {what}: give a regular file",
    "/dev/zero": "is a character device, not {what}: give a regular file",
    "/dev/null": "is a character device, not {what}: give a regular file",
    "link to /dev/urandom": "is a character device, not {what}: give a regular file",
    "folder": "is a folder, not {what}: give a regular file",
    "missing": "no such file",
}


@pytest.fixture
def no_hang():
    """Fail (not hang) a test that blocks: a hang detector, generous, not a speed check."""

    def hung(*_args):
        raise TimeoutError("hung for 120 s: a FIFO or device was opened")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def odd(tmp_path):
    """A path of each kind that is not a regular file."""
    os.mkfifo(tmp_path / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    os.symlink("/dev/urandom", tmp_path / "random")
    (tmp_path / "folder").mkdir()
    yield {
        "FIFO": str(tmp_path / "pipe"),
        "socket": str(tmp_path / "sock"),
        "/dev/zero": "/dev/zero",
        "/dev/null": "/dev/null",
        "link to /dev/urandom": str(tmp_path / "random"),
        "folder": str(tmp_path / "folder"),
        "missing": str(tmp_path / "nowhere.osm"),
    }
    server.close()


@pytest.mark.parametrize("kind", KINDS)
def test_the_check_and_the_open_refuse_each_kind(odd, kind, no_hang):
    for call in (check_input_file, open_input):
        with pytest.raises(InputFileError) as caught:
            call(odd[kind], "an OSM file", "--osm")
        assert str(caught.value) == f"{odd[kind]}: {WHAT[kind].format(what='an OSM file')} (--osm)"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("reader", "what"), [(read_osm, "an OSM file"), (read_gpx, "a GPX file")])
def test_the_readers_refuse_each_kind_without_opening_it(odd, kind, reader, what, no_hang):
    with pytest.raises(InputFileError) as caught:
        reader(odd[kind])
    assert str(caught.value) == f"{odd[kind]}: {WHAT[kind].format(what=what)}"


def test_a_regular_file_through_a_link_is_read(tmp_path):
    target = SHARED_DATA / "gpx" / "visnjan_drive.gpx"
    os.symlink(target, tmp_path / "link.gpx")
    assert len(read_gpx(tmp_path / "link.gpx")) == 104
    assert check_input_file(tmp_path / "link.gpx").is_absolute()


@pytest.mark.parametrize("kind", ["FIFO", "/dev/zero", "folder"])
def test_the_size_forecast_does_not_open_a_fifo_or_device(odd, kind, no_hang):
    assert size_of_file(odd[kind]).file_bytes == 0


# ---- whole builds on real Blender: refused in the parse or car stage, the scene as it was -------


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "sample.osm")


@pytest.mark.parametrize("kind", ["FIFO", "/dev/zero", "link to /dev/urandom", "socket"])
@pytest.mark.parametrize("option", ["osm", "gpx", "car_blend"])
def test_a_build_from_a_fifo_or_device_is_refused_and_the_scene_kept(
    factory_scene, city, odd, kind, option, no_hang
):
    changes = {option: odd[kind], **({"car_object": "Car"} if option == "car_blend" else {})}
    settings = BuildSettings(osm=city.path, waypoints=city.waypoints).but(**changes)
    before = fingerprint()
    with pytest.raises(InputFileError) as caught:
        SceneBuild(settings).run()
    assert str(caught.value).startswith(f"{odd[kind]}: {WHAT[kind].split(',')[0]}")
    assert fingerprint() == before


@pytest.mark.parametrize("kind", ["FIFO", "/dev/zero"])
@pytest.mark.parametrize("option", ["--osm", "--gpx"])
def test_the_cli_says_it_in_one_line(tmp_path, city, odd, kind, option, capsys, no_hang):
    arguments = ["build", "--osm", city.path, "--out", str(tmp_path / "x.blend")]
    arguments += [option, odd[kind]] if option == "--gpx" else []
    if option == "--osm":
        arguments[2] = odd[kind]
        arguments += ["--route", ";".join(f"{a},{b}" for a, b in city.waypoints)]
    assert main(arguments) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and odd[kind] in err[0]
    assert "named pipe (FIFO)" in err[0] or "character device" in err[0]
    assert not EXCEPTION_NAME.search(err[0])
    assert not (tmp_path / "x.blend").exists()


TWO_NODES = "<node id='1' lat='45' lon='-30'/><node id='2' lat='45.001' lon='-30'/>"
A_WAY = "<way id='3'><nd ref='1'/><nd ref='2'/><tag k='{}' v='{}'/></way>"


@pytest.mark.parametrize(
    "body",
    [
        "<osm version='0.6'/>",
        f"<osm version='0.6'>{TWO_NODES}{A_WAY.format('building', 'yes')}</osm>",
        f"<osm version='0.6'>{TWO_NODES}{A_WAY.format('highway', 'footway')}</osm>",
    ],
    ids=["empty", "buildings only", "footways only"],
)
def test_an_osm_file_without_drivable_roads_is_named(factory_scene, tmp_path, body):
    path = tmp_path / "city.osm"
    path.write_text(f"<?xml version='1.0'?>\n{body}\n")
    before = fingerprint()
    with pytest.raises(InputFileError) as caught:
        SceneBuild(BuildSettings(osm=path, waypoints=((45.0, -30.0), (45.001, -30.0)))).run()
    assert str(caught.value) == (
        f"{path}: has no drivable roads (no highway a car may use): give an OSM file that "
        "holds the streets of the route"
    )
    assert fingerprint() == before


def test_a_path_with_a_nul_character_is_one_line():
    with pytest.raises(InputFileError) as caught:
        check_input_file("city\x00.osm", "an OSM file", "osm")
    assert str(caught.value) == (
        "'city\\x00.osm': the path holds a NUL character: no file has that name (osm)"
    )
