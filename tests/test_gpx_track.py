"""GPX reading (real recordings and hand-made edge cases) and cleaning, smoothing, resampling."""

from datetime import datetime, timezone

import numpy as np
import pytest
from helpers.paths import SHARED_DATA

from leanroute.route.errors import InputFileError, SettingsError
from leanroute.route.gpx_track import parse_iso_time, read_gpx
from leanroute.route.projection import LocalProjection, centre_of
from leanroute.route.track_smoothing import (
    clean_track,
    clean_track_indices,
    cumulative_length,
    resample,
    smooth_track,
)

GPX_DIR = SHARED_DATA / "gpx"
VISNJAN = GPX_DIR / "visnjan_drive.gpx"
LIVERPOOL = GPX_DIR / "liverpool_ride.gpx"
UTC = timezone.utc  # noqa: UP017 - as in the module: Python 3.10 in older Blenders

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
GPX11 = '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'


def _write(tmp_path, text: str, name: str = "t.gpx"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _projected(track):
    projection = LocalProjection(*centre_of(track.latlon))
    return projection.forward_points(track.latlon)


# ---- real recordings ------------------------------------------------------------------------


def test_visnjan_drive_garmin_extensions():
    track = read_gpx(VISNJAN)
    assert len(track) == 104 and track.kind == "trkpt"
    assert track.name == "2020-12-18 07:24:29"
    assert track.lat[0] == pytest.approx(45.2735188510) and track.lon[0] == 13.7142099626
    assert track.start_time == datetime(2020, 12, 18, 6, 15, 50, tzinfo=UTC)
    assert track.times[0] == 0 and track.times[1] == 10 and np.all(np.diff(track.times) > 0)
    assert track.duration_s == 514.0
    assert track.ele[:2].tolist() == [211.15, 211.63]
    length = cumulative_length(_projected(track))[-1]
    assert length == pytest.approx(2700, rel=0.05)  # the data README: 2.7 km


def test_liverpool_ride():
    track = read_gpx(LIVERPOOL)
    assert len(track) == 1929
    assert track.name == "Tracked with OSMTracker for Android™"
    assert track.times is not None and track.ele is not None
    assert track.start_time == datetime(2021, 6, 18, 16, 28, 19, tzinfo=UTC)
    length = cumulative_length(_projected(track))[-1]
    assert length == pytest.approx(34_600, rel=0.02)  # the data README: 34.6 km


# ---- hand-made files ------------------------------------------------------------------------


def test_segments_concatenate_in_order_and_extensions_are_ignored(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + GPX11.replace(">", ' xmlns:x="urn:x">')
        + "<metadata><name>not this</name></metadata>"
        + "<trk><name>ride</name><trkseg>"
        + '<trkpt lat="1" lon="2"><ele>5</ele><time>2021-01-01T00:00:00Z</time>'
        + "<extensions><x:p><ele>999</ele><x:ele>9</x:ele></x:p><speed>3</speed></extensions>"
        + "</trkpt>"
        + '<trkpt lat="1.5" lon="2.5"><ele>6</ele><time>2021-01-01T00:00:01.5Z</time></trkpt>'
        + '</trkseg><trkseg><trkpt lat="2" lon="3"><ele>7</ele>'
        + "<time>2021-01-01T01:00:02+01:00</time></trkpt></trkseg></trk>"
        + '<trk><trkseg><trkpt lat="3" lon="4"><ele> 8 </ele>'
        + "<time>2021-01-01T00:00:03</time></trkpt></trkseg></trk>"
        + '<rte><rtept lat="50" lon="50"/></rte><wpt lat="60" lon="60"/></gpx>',
    )
    track = read_gpx(path)
    assert track.lat.tolist() == [1, 1.5, 2, 3] and track.lon.tolist() == [2, 2.5, 3, 4]
    assert track.ele.tolist() == [5, 6, 7, 8]
    assert track.times.tolist() == [0, 1.5, 2, 3]
    assert track.name == "ride"


def test_route_points_when_there_is_no_track(tmp_path):
    path = _write(
        tmp_path,
        HEAD + GPX11 + '<rte><name>plan</name><rtept lat="1" lon="2"/><rtept lat="3" lon="4"/>'
        "</rte></gpx>",
    )
    track = read_gpx(path)
    assert track.kind == "rtept" and track.name == "plan"
    assert track.latlon.tolist() == [[1, 2], [3, 4]]
    assert track.times is None and track.ele is None and track.duration_s is None


def test_gpx_10_and_no_namespace(tmp_path):
    for opening in ('<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0">', "<gpx>"):
        path = _write(
            tmp_path,
            HEAD + opening + '<trk><trkseg><trkpt lat="1" lon="2"/>'
            '<trkpt lat="1" lon="3"/></trkseg></trk></gpx>',
        )
        assert len(read_gpx(path)) == 2


def test_times_and_elevations_only_if_every_point_has_one(tmp_path):
    path = _write(
        tmp_path,
        HEAD + GPX11 + '<trk><trkseg><trkpt lat="1" lon="2"><time>2021-01-01T00:00:00Z</time>'
        '<ele></ele></trkpt><trkpt lat="1" lon="3"><ele>4</ele></trkpt></trkseg></trk></gpx>',
    )
    track = read_gpx(path)
    assert track.times is None and track.ele is None and track.start_time is None


@pytest.mark.parametrize(
    ("body", "message", "line", "column"),
    [
        (
            '<!DOCTYPE gpx [\n<!ENTITY e "x">\n]>\n<gpx/>',
            "DTD and entity declarations are not allowed",
            2,
            None,
        ),
        ("<osm/>", "the root element is <osm>, expected <gpx>", 2, 1),
        (GPX11 + '\n<trk><trkseg>\n  <trkpt lon="2"/>', "<trkpt> has no lat attribute", 4, 3),
        (
            GPX11 + '<trk><trkseg><trkpt lat="x" lon="2"/>',
            "<trkpt> lat='x' is not a number",
            2,
            None,
        ),
        (GPX11 + '<rte><rtept lat="91" lon="2"/>', "<rtept> lat='91' is outside -90..90", 2, None),
        (
            GPX11 + '<trk><trkseg><trkpt lat="1" lon="2">\n<time>yesterday</time>',
            "<time> 'yesterday' is not an ISO 8601 time",
            3,
            1,
        ),
        (
            GPX11 + '<trk><trkseg><trkpt lat="1" lon="2">\n<time>2021-13-01T00:00:00Z</time>',
            "is not a real time: month 13 is not 01-12",
            3,
            1,
        ),
        (GPX11 + '<trk><trkseg><trkpt lat="1" lon="2">\n <ele>high</ele>', "<ele> 'high'", 3, 2),
        (GPX11 + "<trk></gpx>", "invalid XML: mismatched tag", 2, None),
        (GPX11 + "<trk>", "the XML ends early, before </gpx>", 2, None),
        (GPX11 + "<trk><name>x</name></trk></gpx>", "no track points (<trkpt>)", None, None),
    ],
)
def test_bad_files_are_refused_with_their_position(tmp_path, body, message, line, column):
    path = _write(tmp_path, HEAD + body)
    with pytest.raises(InputFileError) as caught:
        read_gpx(path)
    error = caught.value
    assert message in str(error)
    assert error.path == str(path)
    assert error.line == line
    if column is not None:
        assert error.column == column
    assert str(error).startswith(f"{path}:{line}:" if line else f"{path}: ")


def test_entity_is_never_expanded(tmp_path):
    laughs = '<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
    path = _write(tmp_path, HEAD + laughs + GPX11 + "<trk><name>&b;</name></trk></gpx>")
    with pytest.raises(InputFileError, match="refused, not expanded"):
        read_gpx(path)


def test_missing_empty_and_folder(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_gpx(tmp_path / "nope.gpx")
    with pytest.raises(InputFileError, match="is a folder"):
        read_gpx(tmp_path)
    empty = _write(tmp_path, "  \n")
    with pytest.raises(InputFileError, match=r":1:1: the file is empty"):
        read_gpx(empty)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-06-18T16:28:19Z", datetime(2021, 6, 18, 16, 28, 19, tzinfo=UTC)),
        ("2023-08-03T20:17:48.505Z", datetime(2023, 8, 3, 20, 17, 48, 505000, tzinfo=UTC)),
        ("2023-08-03T20:17:48.123456789Z", datetime(2023, 8, 3, 20, 17, 48, 123456, tzinfo=UTC)),
        ("2023-08-03T22:17:48+02:00", datetime(2023, 8, 3, 20, 17, 48, tzinfo=UTC)),
        ("2023-08-03T15:17:48-0500", datetime(2023, 8, 3, 20, 17, 48, tzinfo=UTC)),
        ("2023-08-03 20:17:48", datetime(2023, 8, 3, 20, 17, 48, tzinfo=UTC)),
        ("2023-08-03T20:17Z", datetime(2023, 8, 3, 20, 17, tzinfo=UTC)),
    ],
)
def test_parse_iso_time(text, expected):
    assert parse_iso_time(text) == expected


# ---- cleaning -------------------------------------------------------------------------------


def _with_spikes(xy, times, rng, count):
    """Move *count* points sideways 150-400 m where the fixes are at most 5 s apart."""
    gaps = np.diff(times)
    dense = np.flatnonzero((gaps[:-1] <= 5) & (gaps[1:] <= 5)) + 1
    dense = dense[(dense > 2) & (dense < len(xy) - 3)]
    bad = np.sort(rng.choice(dense, count, replace=False))
    bad = bad[np.diff(np.concatenate(([-10], bad))) > 2]  # isolated spikes
    along = xy[bad + 1] - xy[bad - 1]
    along /= np.maximum(np.hypot(*along.T), 1e-9)[:, None]
    side = np.column_stack((-along[:, 1], along[:, 0]))
    spiked = xy.copy()
    spiked[bad] += side * rng.uniform(150, 400, (len(bad), 1)) * rng.choice([-1, 1], (len(bad), 1))
    return spiked, bad


@pytest.mark.parametrize(("path", "count"), [(VISNJAN, 5), (LIVERPOOL, 40)])
def test_clean_track_keeps_a_good_recording_and_drops_spikes(path, count):
    track = read_gpx(path)
    xy = _projected(track)
    assert clean_track_indices(xy, track.times).tolist() == list(range(len(xy)))
    rng = np.random.default_rng(4)
    for _ in range(5):
        spiked, bad = _with_spikes(xy, track.times, rng, count)
        for times in (track.times, None):
            keep = clean_track_indices(spiked, times)
            assert not np.isin(bad, keep).any()
            assert np.setdiff1d(np.arange(len(xy)), keep).tolist() == bad.tolist()
            np.testing.assert_array_equal(clean_track(spiked, times), spiked[keep])


def test_clean_track_drops_duplicates_and_speed_jumps():
    xy = np.array([[0, 0], [0.3, 0], [10, 0], [20, 0], [2000, 0], [2010, 0], [40, 0], [50, 0]])
    times = np.arange(len(xy), dtype=float)
    # 0.3 m is standing still; the two fixes 2 km away are a glitch, not 2 km/s driving.
    assert clean_track_indices(xy, times).tolist() == [0, 2, 3, 6, 7]
    assert clean_track(xy, times).tolist() == [[0, 0], [10, 0], [20, 0], [40, 0], [50, 0]]
    assert clean_track_indices(np.zeros((0, 2))).tolist() == []
    assert clean_track_indices([[1.0, 1.0], [1.0, 1.0]]).tolist() == [0]
    with pytest.raises(ValueError, match="3 times for 8 points"):
        clean_track_indices(xy, times[:3])


def test_clean_track_keeps_a_u_turn_and_a_sustained_fast_stretch():
    # Out 50 m and back at 5 m/s, sampled every second: a U-turn, not a spike.
    out = np.column_stack((np.arange(0, 55, 5.0), np.zeros(11)))
    xy = np.concatenate((out, out[-2::-1] + np.array([0.0, 4.0])))
    assert len(clean_track_indices(xy, np.arange(len(xy), dtype=float))) == len(xy)
    assert len(clean_track_indices(xy)) == len(xy)
    # A motorway stretch at 40 m/s after town driving at 8 m/s is real.
    steps = np.concatenate((np.full(30, 8.0), np.full(30, 40.0)))
    xy = np.column_stack((np.concatenate(([0], np.cumsum(steps))), np.zeros(61)))
    assert len(clean_track_indices(xy, np.arange(61, dtype=float))) == 61


# ---- smoothing and resampling ---------------------------------------------------------------


def test_smooth_track_reduces_noise_and_keeps_the_ends():
    rng = np.random.default_rng(2)
    angle = np.linspace(0, np.pi, 95)
    true = np.column_stack((300 * np.cos(angle), 300 * np.sin(angle)))  # a fix every 10 m
    noisy = true + rng.normal(0, 3.0, true.shape)  # typical GPS noise
    smooth = smooth_track(noisy, window_m=30.0)
    np.testing.assert_array_equal(smooth[[0, -1]], noisy[[0, -1]])
    before = np.hypot(*(noisy - true).T)[5:-5]
    after = np.hypot(*(smooth - true).T)[5:-5]
    assert after.mean() < 0.6 * before.mean()
    assert cumulative_length(noisy)[-1] > 1.05 * 300 * np.pi  # noise makes a track longer
    assert cumulative_length(smooth)[-1] == pytest.approx(300 * np.pi, rel=0.02)


def test_smooth_track_ignores_fixes_beyond_a_gap():
    # Dense fixes, a 150 m gap, dense again: the gap's far side must not pull the near side.
    xy = np.column_stack((np.r_[0:50:5.0, 200:250:5.0], np.r_[np.zeros(10), np.full(10, 40.0)]))
    smooth = smooth_track(xy, window_m=15.0)
    assert np.hypot(*(smooth - xy).T).max() < 1e-9  # straight stretches stay as they are


@pytest.mark.parametrize("path", [VISNJAN, LIVERPOOL])
def test_smooth_real_tracks_moves_points_little(path):
    track = read_gpx(path)
    xy = _projected(track)
    xy = clean_track(xy, track.times)
    smooth = smooth_track(xy)
    np.testing.assert_array_equal(smooth[[0, -1]], xy[[0, -1]])
    assert np.hypot(*(smooth - xy).T).max() < 10.0
    assert cumulative_length(smooth)[-1] == pytest.approx(cumulative_length(xy)[-1], rel=0.03)
    with pytest.raises(SettingsError, match="window_m"):
        smooth_track(xy, window_m=0)


def test_resample():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [10.0, 5.0]])
    points = resample(line, 4.0)  # 15 m in 4 steps of 3.75 m along the line
    np.testing.assert_allclose(points, [[0, 0], [3.75, 0], [7.5, 0], [10, 1.25], [10, 5]])
    assert resample(line, 100.0).tolist() == [[0, 0], [10, 5]]
    assert resample(np.array([[1.0, 2.0]]), 1.0).tolist() == [[1, 2]]
    with pytest.raises(SettingsError, match="step_m"):
        resample(line, -1)


def test_resample_a_real_track():
    track = read_gpx(LIVERPOOL)
    xy = _projected(track)
    points = resample(xy, 5.0)
    steps = np.hypot(*np.diff(points, axis=0).T)
    assert steps.max() <= 5.0 + 1e-9
    assert len(points) == int(np.ceil(cumulative_length(xy)[-1] / 5.0)) + 1
