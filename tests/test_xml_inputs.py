"""OSM and GPX files: encodings, BOMs, NUL bytes, GPX versions and times, each one clear line."""

import codecs
import re
from datetime import datetime, timezone

import pytest
from helpers.paths import SHARED_DATA

from leanroute.route.errors import InputFileError
from leanroute.route.gpx_track import parse_iso_time, read_gpx
from leanroute.route.osm_parse import read_osm

UTC = timezone.utc  # noqa: UP017 - as in the module: Python 3.10 in older Blenders
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback")
OSM_BODY = (
    "<osm version='0.6'>\n<node id='1' lat='1' lon='2'/><node id='2' lat='1' lon='3'/>\n"
    "<way id='5'><nd ref='1'/><nd ref='2'/><tag k='highway' v='residential'/>"
    "<tag k='name' v='Caf\u00e9'/></way>\n</osm>\n"
)
GPX_BODY = (
    "<gpx version='1.1' xmlns='http://www.topografix.com/GPX/1/1'><trk><name>Caf\u00e9</name>"
    "<trkseg>\n<trkpt lat='1' lon='2'/><trkpt lat='1' lon='3'/></trkseg></trk></gpx>\n"
)


def declared(encoding: str) -> str:
    return f"<?xml version='1.0' encoding='{encoding}'?>\n"


def read(kind: str, tmp_path, data: bytes):
    path = tmp_path / f"file.{kind}"
    path.write_bytes(data)
    return path, (read_osm if kind == "osm" else read_gpx)


#: name -> (bytes of the file from its text, what the error says, line, column).
REFUSED = {
    "unknown encoding": (
        lambda text: (declared("x-foo") + text).encode(),
        'the XML declaration says encoding="x-foo", an encoding LeanRoute does not know: '
        "save the file as UTF-8",
        1,
        31,
    ),
    "UTF-32 declared": (
        lambda text: (declared("utf-32") + text).encode(),
        'encoding="utf-32", which LeanRoute cannot read (only UTF-8, UTF-16 and single-byte',
        1,
        31,
    ),
    "unknown encoding declared in UTF-16": (
        lambda text: (declared("x-foo") + text).encode("utf-16"),
        'the XML declaration says encoding="x-foo", an encoding LeanRoute does not know',
        1,
        31,
    ),
    "multi-byte encoding declared in UTF-16 without a BOM": (
        lambda text: (declared("gb18030") + text).encode("utf-16-le"),
        'encoding="gb18030", which LeanRoute cannot read',
        1,
        31,
    ),
    "UTF-32 with its BOM": (
        lambda text: (declared("utf-32") + text).encode("utf-32"),
        "the file is UTF-32 text: save it as UTF-8",
        1,
        1,
    ),
    "UTF-32 big-endian with its BOM": (
        lambda text: codecs.BOM_UTF32_BE + text.encode("utf-32-be"),
        "the file is UTF-32 text: save it as UTF-8",
        1,
        1,
    ),
    "EBCDIC": (
        lambda text: (declared("cp500") + text).encode("cp500"),
        "the file is EBCDIC text: save it as UTF-8",
        1,
        1,
    ),
    "EBCDIC declared in ASCII": (
        lambda text: (declared("cp037") + text).encode(),
        'encoding="cp037", which LeanRoute cannot read',
        1,
        31,
    ),
    "Shift JIS": (
        lambda text: (declared("shift_jis") + text).encode("shift_jis", "replace"),
        'encoding="shift_jis", which LeanRoute cannot read',
        1,
        31,
    ),
    "UTF-7": (lambda text: (declared("utf-7") + text).encode(), 'encoding="utf-7"', 1, 31),
    "rot13 (not a text encoding)": (
        lambda text: (declared("rot13") + text).encode(),
        'encoding="rot13", which is not a text encoding',
        1,
        31,
    ),
    "idna": (lambda text: (declared("idna") + text).encode(), 'encoding="idna"', 1, 31),
    "empty encoding": (
        lambda text: (declared("") + text).encode(),
        'encoding="", an encoding LeanRoute does not know',
        1,
        31,
    ),
    "UTF-16 BOM on UTF-8 text": (
        lambda text: codecs.BOM_UTF16_LE + text.encode(),
        "the file starts with a UTF-16 byte-order mark but is not UTF-16 text",
        1,
        1,
    ),
    "NUL byte": (
        lambda text: (
            text.replace("<node id='2'", "\x00<node id='2'")
            .replace("<trkpt lat='1' lon='3'", "\x00<trkpt lat='1' lon='3'")
            .encode()
        ),
        "a NUL byte (binary data) where XML text was expected",
        2,
        None,
    ),
    "gzip": (lambda text: b"\x1f\x8b\x08\x00" + text.encode(), "is gzip-compressed", 1, 1),
    "xz": (lambda text: b"\xfd7zXZ\x00" + text.encode(), "is xz-compressed", 1, 1),
    "zip": (lambda text: b"PK\x03\x04" + text.encode(), "is a zip archive", 1, 1),
    "truncated": (lambda text: text.encode()[:70], "the XML ends early", None, None),
}


@pytest.mark.parametrize("kind", ["osm", "gpx"])
@pytest.mark.parametrize("name", REFUSED)
def test_unreadable_files_are_one_line_at_their_position(tmp_path, kind, name):
    make, message, line, column = REFUSED[name]
    path, reader = read(kind, tmp_path, make(OSM_BODY if kind == "osm" else GPX_BODY))
    with pytest.raises(InputFileError) as caught:
        reader(path)
    error = caught.value
    assert message in str(error)
    assert str(error).startswith(f"{path}:")
    assert "\n" not in str(error) and not EXCEPTION_NAME.search(str(error))
    if line is not None:
        assert error.line == line
    if column is not None:
        assert error.column == column


#: Encodings that are read: the street's name "Café" comes through whole.
READ = {
    "UTF-8": lambda text: text.encode(),
    "UTF-8 declared": lambda text: (declared("UTF-8") + text).encode(),
    "UTF-8 with a BOM": lambda text: codecs.BOM_UTF8 + (declared("utf-8") + text).encode(),
    "UTF-16 with a BOM": lambda text: (declared("UTF-16") + text).encode("utf-16"),
    "UTF-16 big-endian": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "ISO-8859-1": lambda text: (declared("ISO-8859-1") + text).encode("latin-1"),
    "Windows-1252": lambda text: (declared("windows-1252") + text).encode("cp1252"),
    "ISO-8859-15": lambda text: (declared("iso-8859-15") + text).encode("iso-8859-15"),
}


@pytest.mark.parametrize("name", READ)
def test_utf8_utf16_and_single_byte_encodings_are_read(tmp_path, name):
    path, _ = read("osm", tmp_path, READ[name](OSM_BODY))
    assert read_osm(path).ways[5].tags["name"] == "Caf\u00e9"
    path, _ = read("gpx", tmp_path, READ[name](GPX_BODY))
    assert read_gpx(path).name == "Caf\u00e9"


@pytest.mark.parametrize(
    "folder",
    sorted(p.name for p in (SHARED_DATA / "osm-testdata").iterdir() if (p / "data.osm").exists()),
)
def test_every_osm_testdata_case_reads_or_is_refused_in_one_line(folder):
    path = SHARED_DATA / "osm-testdata" / folder / "data.osm"
    try:
        read_osm(path)
    except InputFileError as error:
        assert str(error).startswith(f"{path}:") and "\n" not in str(error)
        assert not EXCEPTION_NAME.search(str(error))


# ---- GPX versions and namespaces ----------------------------------------------------------------


@pytest.mark.parametrize(
    "root",
    [
        '<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0">',
        '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">',
        '<gpx version="1.2" xmlns="http://www.topografix.com/GPX/1/2">',
        '<gpx version="2.0" xmlns="https://example.org/gpx/2">',
        '<g:gpx version="1.1" xmlns:g="http://www.topografix.com/GPX/1/1">',
        "<gpx>",
    ],
)
def test_gpx_of_any_version_is_read_by_its_roots_namespace(tmp_path, root):
    prefix = "g:" if root.startswith("<g:") else ""
    text = (
        f'<?xml version="1.0"?>\n{root}<{prefix}trk><{prefix}trkseg>'
        f'<{prefix}trkpt lat="1" lon="2"><{prefix}ele>5</{prefix}ele></{prefix}trkpt>'
        f'<{prefix}trkpt lat="1" lon="3"><{prefix}ele>6</{prefix}ele></{prefix}trkpt>'
        f'<x:trkpt xmlns:x="urn:other" lat="9" lon="9"/>'
        f"</{prefix}trkseg></{prefix}trk></{prefix}gpx>"
    )
    path = tmp_path / "t.gpx"
    path.write_text(text)
    track = read_gpx(path)
    assert track.latlon.tolist() == [[1, 2], [1, 3]]  # not the other namespace's point
    assert track.ele.tolist() == [5, 6]


@pytest.mark.parametrize(
    ("root", "shown"),
    [
        (
            '<track xmlns="http://www.topografix.com/GPX/1/2">',
            '<track xmlns="http://www.topografix.com/GPX/1/2">',
        ),
        ("<kml>", "<kml>"),
    ],
)
def test_a_root_that_is_not_gpx_is_shown_with_its_namespace(tmp_path, root, shown):
    path = tmp_path / "t.gpx"
    path.write_text(f'<?xml version="1.0"?>\n{root}</{root[1:].split()[0].rstrip(">")}>')
    with pytest.raises(InputFileError) as caught:
        read_gpx(path)
    assert str(caught.value) == (
        f"{path}:2:1: the root element is {shown}, expected <gpx> (not a GPX file)"
    )


# ---- GPX times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-13-01T00:00:00Z", "is not a real time: month 13 is not 01-12"),
        ("2024-00-10T00:00:00Z", "is not a real time: month 00 is not 01-12"),
        ("0000-01-01T00:00:00Z", "is not a real time: year 0000 is before year 0001"),
        ("2023-02-29T00:00:00Z", "is not a real time: day 29 is not in 2023-02 (01-28)"),
        ("2024-04-31T00:00:00Z", "is not a real time: day 31 is not in 2024-04 (01-30)"),
        ("2024-01-01T24:61:00Z", "is not a real time: hour 24 is not 00-23"),
        ("2024-01-01T12:61:00Z", "is not a real time: minute 61 is not 00-59"),
        ("2024-01-01T12:00:61Z", "is not a real time: second 61 is not 00-59"),
        ("2024-01-01T12:00:00+25:00", "has the time zone offset +25:00, which no place has"),
        ("2024-01-01T12:00:00-19:00", "has the time zone offset -19:00"),
        ("2024-01-01T12:00:00+05:75", "has the time zone offset +05:75"),
        ("1234567890-01-01T00:00:00Z", "is not an ISO 8601 time like 2021-06-18T16:28:19Z"),
        ("\uff12\uff10\uff12\uff14-01-01T00:00:00Z", "is not an ISO 8601 time"),
        ("2024-01-01T00:00:00.\u0665Z", "is not an ISO 8601 time"),
        ("0001-01-01T00:30:00+01:00", "is outside the dates LeanRoute can handle"),
        ("9999-12-31T23:59:59-01:00", "is outside the dates LeanRoute can handle"),
    ],
)
def test_gpx_times_out_of_range_are_one_clear_line(tmp_path, text, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_iso_time(text)
    path = tmp_path / "t.gpx"
    path.write_text(
        '<?xml version="1.0"?>\n<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n'
        f'<trkpt lat="1" lon="2">\n  <time>{text}</time></trkpt></trkseg></trk></gpx>'
    )
    with pytest.raises(InputFileError) as caught:
        read_gpx(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4:3: <time> {text!r} ")
    assert why in message and not EXCEPTION_NAME.search(message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),  # a leap second
        ("2024-02-29T12:00:00+14:00", datetime(2024, 2, 28, 22, tzinfo=UTC)),
        ("2024-01-01T00:00:00-12:00", datetime(2024, 1, 1, 12, tzinfo=UTC)),
        ("2024-01-01t00:00:00z", datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_real_times_at_the_edges_are_read(text, expected):
    assert parse_iso_time(text) == expected
