"""Numbers in OSM, GPX and jobs files are read by one strict ASCII grammar, everywhere."""

import re

import pytest

from leanroute.route.building_geometry import building_height
from leanroute.route.errors import InputFileError, SettingsError
from leanroute.route.gpx_track import read_gpx
from leanroute.route.osm_parse import read_osm
from leanroute.route.road_geometry import road_width
from leanroute.route.routing import parse_waypoints
from leanroute.route.strict_numbers import NumberError, parse_decimal, parse_integer

#: Written so that Python's float() or int() reads each as a number: none of them is one here.
NOT_NUMBERS = {
    "underscore": "1_0",
    "spaces": " 12 ",
    "no-break space": "\u00a012",
    "inf": "inf",
    "nan": "nan",
    "Infinity": "-Infinity",
    "Arabic-Indic digits": "\u0661\u0662",
    "full-width digits": "\uff11\uff12",
    "Devanagari digits": "\u0967\u0968",
    "full-width in a fraction": "1.\uff15",
    "hex": "0x10",
    "empty": "",
    "sign only": "-",
    "comma": "12,5",
    "trailing newline": "12\n",
}
HINTS = {
    "underscore": "write it without '_'",
    "spaces": "remove the spaces around it",
    "no-break space": "remove the spaces around it",
    "inf": "it must be a finite number",
    "nan": "it must be a finite number",
    "Arabic-Indic digits": "use the ASCII digits 0-9",
    "full-width digits": "use the ASCII digits 0-9",
    "comma": "use '.' as the decimal point",
}
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")


@pytest.mark.parametrize("name", NOT_NUMBERS)
def test_the_grammar_refuses_what_python_would_read(name):
    text = NOT_NUMBERS[name]
    for parse in (parse_decimal, parse_integer):
        with pytest.raises(NumberError) as caught:
            parse(text)
        assert str(caught.value).startswith(repr(text))
        if name in HINTS:
            assert str(caught.value).endswith(f"({HINTS[name]})")


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12.0), ("-12.5", -12.5), (".5", 0.5), ("12.", 12.0), ("+1e3", 1000.0), ("-0", 0.0)],
)
def test_plain_numbers_read(text, value):
    assert parse_decimal(text) == value


def test_too_large_and_too_long_are_refused():
    with pytest.raises(NumberError, match=r"'1e999' is too large a number"):
        parse_decimal("1e999")
    with pytest.raises(NumberError, match="has 5,000 digits, more than any value here can have"):
        parse_integer("9" * 5000)
    assert parse_integer("-" + "9" * 40) == -int("9" * 40)


# ---- OSM attributes: an error at file:line:col --------------------------------------------------


def _osm(tmp_path, body: str):
    path = tmp_path / "n.osm"
    path.write_text(
        f"<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n{body}\n</osm>\n"
    )
    return path


# XML turns a newline inside an attribute into a space: that case is "spaces" again.
IN_ATTRIBUTES = [name for name, text in NOT_NUMBERS.items() if "\n" not in text]
# Spaces and newlines around element text are XML layout, and an empty <ele/> is none.
IN_TEXT = [name for name, text in NOT_NUMBERS.items() if text.strip(" \n") not in ("", "12")]


@pytest.mark.parametrize("name", IN_ATTRIBUTES)
@pytest.mark.parametrize(
    ("template", "attribute"),
    [
        ('<node id="1" lat="{}" lon="2"/>', "<node> lat="),
        ('<node id="1" lat="1" lon="{}"/>', "<node> lon="),
        ('<node id="{}" lat="1" lon="2"/>', "<node> id="),
        ('<way id="1"><nd ref="{}"/></way>', "<nd> ref="),
        ('<way id="{}"/>', "<way> id="),
        ('<relation id="1"><member type="way" ref="{}" role=""/></relation>', "<member> ref="),
        ('<bounds minlat="{}" minlon="1" maxlat="2" maxlon="2"/>', "<bounds> minlat="),
    ],
)
def test_osm_numbers_are_strict(tmp_path, name, template, attribute):
    text = NOT_NUMBERS[name]
    path = _osm(tmp_path, template.format(text.replace("&", "&amp;")))
    with pytest.raises(InputFileError) as caught:
        read_osm(path, keep_all=True)
    message = str(caught.value)
    assert message.startswith(f"{path}:3:")
    assert f"{attribute}{text!r}" in message
    assert not EXCEPTION_NAME.search(message)


def test_osmosis_bound_box_is_strict(tmp_path):
    path = _osm(tmp_path, '<bound box="1,2,3,4_0"/>')
    with pytest.raises(InputFileError, match=r"n\.osm:3:1: <bound box='1,2,3,4_0'> is not four"):
        read_osm(path)


@pytest.mark.parametrize(
    ("lat", "lon", "reason"),
    [
        ("90.0001", "0", "lat='90.0001' is outside -90..90"),
        ("-91", "0", "lat='-91' is outside -90..90"),
        ("0", "180.5", "lon='180.5' is outside -180..180"),
        ("0", "-1e3", "lon='-1e3' is outside -180..180"),
    ],
)
def test_osm_coordinates_out_of_range_name_the_position(tmp_path, lat, lon, reason):
    path = _osm(tmp_path, f'<node id="7" lat="{lat}" lon="{lon}"/>')
    with pytest.raises(InputFileError, match=re.escape(f"n.osm:3:1: node 7: {reason}")):
        read_osm(path)


# ---- GPX ---------------------------------------------------------------------------------------


def _gpx(tmp_path, point: str):
    path = tmp_path / "t.gpx"
    path.write_text(
        '<?xml version="1.0"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<trk><trkseg>\n{point}\n<trkpt lat='1' lon='1'/></trkseg></trk></gpx>\n"
    )
    return path


@pytest.mark.parametrize("name", IN_ATTRIBUTES)
@pytest.mark.parametrize("key", ["lat", "lon"])
def test_gpx_coordinates_are_strict(tmp_path, name, key):
    text = NOT_NUMBERS[name]
    point = "<trkpt lat='{}' lon='2'/>" if key == "lat" else "<trkpt lat='1' lon='{}'/>"
    path = _gpx(tmp_path, point.format(text))
    with pytest.raises(InputFileError) as caught:
        read_gpx(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4:1: <trkpt> {key}={text!r} is not a number")
    assert not EXCEPTION_NAME.search(message)


@pytest.mark.parametrize("name", IN_TEXT)
def test_gpx_elevations_are_strict(tmp_path, name):
    text = NOT_NUMBERS[name]
    path = _gpx(tmp_path, f"<trkpt lat='1' lon='2'><ele>{text}</ele></trkpt>")
    with pytest.raises(InputFileError) as caught:
        read_gpx(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4:24: <ele> {text.strip(' ')!r} is not a number")
    assert not EXCEPTION_NAME.search(message)


def test_gpx_element_text_may_have_layout_spaces(tmp_path):
    track = read_gpx(_gpx(tmp_path, "<trkpt lat='1' lon='2'><ele>\n  12.5\n</ele></trkpt>"))
    assert track.lat.tolist() == [1.0, 1.0]


# ---- OSM tag values: messy data falls back to the default, never misread ------------------------


@pytest.mark.parametrize("name", ["underscore", "Arabic-Indic digits", "full-width digits", "nan"])
def test_tag_values_that_are_not_numbers_fall_back(name):
    text = NOT_NUMBERS[name]
    assert building_height({"height": text}) == (9.0, 0.0)
    assert building_height({"building:levels": text}) == (9.0, 0.0)
    assert building_height({"height": "12", "min_height": text}) == (12.0, 0.0)
    assert road_width({"width": text}, 5.0) == 5.0
    assert road_width({"lanes": text}, 5.0) == 5.0


def test_lanes_written_as_a_superscript_are_not_a_crash():
    # "²".isdigit() is True and int("²") raises: the roads stage failed on it.
    assert road_width({"lanes": "\u00b2"}, 5.0) == 5.0
    assert road_width({"lanes": " 3 "}, 5.0) == 3 * 3.25


def test_readable_tag_values_still_read():
    assert building_height({"height": "12,5"}) == (12.5, 0.0)
    assert building_height({"building:levels": "4"}) == (12.0, 0.0)
    assert road_width({"width": "7.5 m"}, 5.0) == 7.5


# ---- waypoints (the CLI's --route and a jobs file's column) ------------------------------------


@pytest.mark.parametrize("name", ["underscore", "Arabic-Indic digits", "full-width digits", "nan"])
def test_waypoints_are_strict(name):
    text = NOT_NUMBERS[name]
    with pytest.raises(SettingsError) as caught:
        parse_waypoints(f"48.4,15.6;48.4,{text}")
    assert f"longitude {text!r} is not a number" in str(caught.value)
    assert not EXCEPTION_NAME.search(str(caught.value))
