"""The jobs file: CSV and JSON, validated up front, every bad row reported at once (no bpy)."""

import pytest
from helpers.batch_jobs import ROUTES, job_rows, write_csv, write_json
from helpers.paths import SHARED_DATA

from leanroute.batch.jobs_file import JobsFileError, read_jobs

LISBON = str(SHARED_DATA / "osm" / ROUTES["lisbon"][0])


def test_a_csv_file_gives_one_job_per_row_with_outputs_under_the_out_folder(tmp_path):
    jobs = read_jobs(write_csv(tmp_path / "jobs.csv", job_rows(4)), tmp_path / "out")
    assert [job.id for job in jobs] == ["lisbon-01", "berlin-02", "krems-03", "lisbon-04"]
    assert [job.row for job in jobs] == [1, 2, 3, 4]
    assert jobs[0].out == (tmp_path / "out" / "lisbon-01.blend").resolve()
    assert jobs[2].settings.waypoints[0] == (48.40768, 15.61074)
    assert jobs[0].settings.padding_m == 100.0


def test_json_lists_and_defaults_work_and_waypoints_may_be_lists(tmp_path):
    rows = [{"id": "a", "osm": LISBON, "waypoints": [[38.7355, -9.1465], [38.7327, -9.1432]]}]
    jobs = read_jobs(write_json(tmp_path / "j.json", rows, {"speed": 55}), tmp_path)
    assert jobs[0].settings.speed_kmh == 55
    assert jobs[0].settings.waypoints == ((38.7355, -9.1465), (38.7327, -9.1432))
    assert read_jobs(write_json(tmp_path / "k.json", rows), tmp_path)[0].settings.speed_kmh == 40


def test_settings_come_from_defaults_then_command_line_then_the_job(tmp_path):
    rows = [
        {"id": "own", "osm": LISBON, "waypoints": ROUTES["lisbon"][1], "speed": 70},
        {"id": "inherits", "osm": LISBON, "waypoints": ROUTES["lisbon"][1]},
    ]
    path = write_json(tmp_path / "j.json", rows, {"speed": 30, "fps": 30})
    own, inherits = read_jobs(path, tmp_path, overrides={"speed": 50})
    assert (own.settings.speed_kmh, inherits.settings.speed_kmh) == (70, 50)
    assert inherits.settings.fps == 30


def test_every_bad_row_is_reported_at_once_with_line_field_and_why(tmp_path):
    rows = job_rows(5)
    rows[1]["osm"] = str(tmp_path / "missing.osm")
    rows[1]["padding"] = "wide"
    rows[3]["waypoints"] = "38.7,-9.1;north"
    rows[4]["id"] = rows[0]["id"]
    path = write_csv(tmp_path / "jobs.csv", rows)
    with pytest.raises(JobsFileError) as caught:
        read_jobs(path, tmp_path / "out")
    error = caught.value
    text = str(error).splitlines()
    assert text[0] == f"{path}: 4 problems in 3 jobs; nothing was run"
    assert f"line 3 (job 'berlin-02'): osm: file not found: {tmp_path / 'missing.osm'}" in text[1]
    assert "line 3 (job 'berlin-02'): padding: 'wide' is not a number" in text[2]
    assert "line 5 (job 'lisbon-04'): waypoints: waypoint 2 'north' is not two numbers" in text[3]
    assert "line 6 (job 'lisbon-01'): id: 'lisbon-01' is already the id of line 2" in text[4]
    assert [p.field for p in error.problems] == ["osm", "padding", "waypoints", "id"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"waypoints": ""}, "waypoints", "missing: give waypoints"),
        ({"osm": ""}, "osm", "missing: every job needs an OpenStreetMap file"),
        ({"speed": "-5"}, "speed", "must be a number from 1 to 1,000 km/h, not -5.0"),
        ({"fps": "24.5"}, "fps", "is not a whole number"),
        ({"layers": "roads,trees"}, "layers", "unknown ['trees']"),
        ({"out": "x.png"}, "out", "must be a .blend file"),
        ({"id": "a/b"}, "id", "it names files"),
        ({"frame_end": "0"}, "frame_end", "must be after the first frame"),
        ({"car_object": "Car"}, "car", "choose the .blend file that holds 'Car'"),
        ({"snap": "maybe"}, "snap", "is not yes/no"),
    ],
)
def test_each_kind_of_bad_value_names_its_field(tmp_path, change, field, why):
    row = {**job_rows(1)[0], **change}
    with pytest.raises(JobsFileError) as caught:
        read_jobs(write_csv(tmp_path / "jobs.csv", [row]), tmp_path)
    (problem,) = caught.value.problems
    assert (problem.field, problem.where[:6]) == (field, "line 2")
    assert why in problem.why


def test_gpx_and_waypoints_together_are_refused(tmp_path):
    row = {**job_rows(1)[0], "gpx": str(SHARED_DATA / "gpx" / "visnjan_drive.gpx")}
    with pytest.raises(JobsFileError, match="give waypoints or a gpx track, not both"):
        read_jobs(write_csv(tmp_path / "jobs.csv", [row]), tmp_path)


def test_two_jobs_writing_one_output_are_refused(tmp_path):
    rows = job_rows(2)
    rows[0]["out"] = rows[1]["out"] = "same.blend"
    with pytest.raises(JobsFileError, match=r"'same\.blend' is already the output of line 2"):
        read_jobs(write_csv(tmp_path / "jobs.csv", rows), tmp_path)


def test_file_level_problems_say_what_is_wrong(tmp_path):
    cases = {
        "none.csv": "no such jobs file",
        "jobs.txt": "unknown jobs file type '.txt'",
        "empty.csv": "is empty: the first line must name the columns",
        "header.csv": "holds no jobs",
        "typo.csv": "unknown column(s) 'paddng'",
        "broken.json": "broken.json:1:10: not valid JSON",
        "shape.json": "must be a list of jobs",
    }
    (tmp_path / "jobs.txt").write_text("osm\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("id,osm,waypoints\n\n")
    (tmp_path / "typo.csv").write_text("osm,paddng\nx,1\n")
    (tmp_path / "broken.json").write_text('[{"osm": }]')
    (tmp_path / "shape.json").write_text('{"job": []}')
    for name, why in cases.items():
        with pytest.raises(JobsFileError, match=why.replace("(", r"\(").replace(")", r"\)")):
            read_jobs(tmp_path / name, tmp_path)


def test_paths_are_relative_to_the_jobs_file_and_outputs_to_the_out_folder(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "city.osm").write_bytes((SHARED_DATA / "osm" / ROUTES["lisbon"][0]).read_bytes())
    row = {"osm": "city.osm", "waypoints": ROUTES["lisbon"][1], "out": "scenes/a.blend"}
    (job,) = read_jobs(write_csv(folder / "jobs.csv", [row]), tmp_path / "out")
    assert job.settings.osm == (folder / "city.osm").resolve()
    assert job.out == (tmp_path / "out" / "scenes" / "a.blend").resolve()
    assert job.id == "a"  # from the output's name when no id is given


def test_the_fingerprint_changes_with_the_settings_only(tmp_path):
    rows = job_rows(1)
    first = read_jobs(write_csv(tmp_path / "a.csv", rows), tmp_path)[0]
    again = read_jobs(write_csv(tmp_path / "b.csv", rows), tmp_path)[0]
    rows[0]["padding"] = 120
    changed = read_jobs(write_csv(tmp_path / "c.csv", rows), tmp_path)[0]
    assert first.fingerprint == again.fingerprint != changed.fingerprint


def test_a_hundred_bad_rows_are_listed_up_to_a_limit(tmp_path):
    rows = [{**row, "speed": "x"} for row in job_rows(80)]
    with pytest.raises(JobsFileError) as caught:
        read_jobs(write_csv(tmp_path / "jobs.csv", rows), tmp_path)
    assert len(caught.value.problems) == 80
    assert str(caught.value).splitlines()[-1] == "  … and 30 more"
