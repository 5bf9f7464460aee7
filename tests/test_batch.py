"""`leanroute batch`: jobs run in this process (the bpy module), checkpoint, report, shards."""

import json
import xml.etree.ElementTree as ET

import bpy
from helpers.batch_jobs import ROUTES, job_rows, write_csv

from leanroute.cli.commands import main
from leanroute.progress.event_log import read_events


def run_batch(jobs, out, *options):
    return main(["batch", str(jobs), "--out", str(out), *options])


def state(out, name="checkpoint.json"):
    path = out / "leanroute-batch" / name
    return read_events(path) if name.endswith(".jsonl") else json.loads(path.read_text())


def test_a_batch_builds_every_job_and_a_second_run_skips_them(factory_scene, tmp_path, capsys):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(4, cities=("lisbon", "berlin")))
    out = tmp_path / "out"
    assert run_batch(jobs, out) == 0
    printed = capsys.readouterr()
    assert "batch: 4 jobs: 4 done, 0 failed" in printed.out
    assert "memory: RSS after each job" in printed.out
    assert "[4/4] berlin-04 done" in printed.err  # the progress lines (not a terminal here)
    for k, city in enumerate(("lisbon", "berlin", "lisbon", "berlin"), start=1):
        assert (out / f"{city}-{k:02d}.blend").read_bytes()[:7] == b"BLENDER"
        assert (out / "leanroute-batch" / "jobs" / f"{city}-{k:02d}.json").is_file()
    records = state(out)["jobs"]
    assert {r["status"] for r in records.values()} == {"done"}
    metrics = records["lisbon-01"]["metrics"]
    assert set(metrics) == {"seconds", "rss", "blender", "leaks_swept", "stages"}
    assert metrics["rss"]["peak"] >= metrics["rss"]["before"] > 0
    assert metrics["blender"]["after"] > 0
    assert [s["name"] for s in metrics["stages"]][:2] == ["parse", "project"]
    report = json.loads((out / "leanroute-batch" / "report.json").read_text())
    assert report["batch"]["mode"] == "in-process" and len(report["jobs"]) == 4
    assert report["summary"]["measured_jobs"] == 4
    chart = ET.parse(out / "leanroute-batch" / "memory-timeline.svg").getroot()
    assert chart.tag.endswith("svg")
    # The scene holds no build between or after jobs.
    assert not [c for c in bpy.data.collections if c.name.startswith("LeanRoute")]

    mtimes = {path: path.stat().st_mtime_ns for path in out.glob("*.blend")}
    assert run_batch(jobs, out) == 0
    assert "4 finished in an earlier run" in capsys.readouterr().out
    assert {path: path.stat().st_mtime_ns for path in out.glob("*.blend")} == mtimes
    events = [e["event"] for e in state(out, "events.jsonl")]
    assert events.count("job_started") == 4 and events.count("batch_started") == 2


def test_a_failing_job_is_recorded_and_the_batch_goes_on(factory_scene, tmp_path, capsys):
    rows = job_rows(3, cities=("lisbon",))
    rows[1]["waypoints"] = ROUTES["berlin"][1]  # Berlin's waypoints on the Lisbon map
    out = tmp_path / "out"
    assert run_batch(write_csv(tmp_path / "jobs.csv", rows), out) == 1
    records = state(out)["jobs"]
    assert [records[k]["status"] for k in ("lisbon-01", "lisbon-02", "lisbon-03")] == [
        "done", "failed", "done",
    ]  # fmt: skip
    assert "waypoint 1" in records["lisbon-02"]["reason"]
    assert not (out / "lisbon-02.blend").exists()
    printed = capsys.readouterr().out
    assert "batch: 3 jobs: 2 done, 1 failed" in printed
    assert "failed: lisbon-02: " in printed
    # A resumed run leaves the failure alone unless asked to retry it.
    assert run_batch(write_csv(tmp_path / "jobs.csv", rows), out) == 1
    assert [e["event"] for e in state(out, "events.jsonl")].count("job_started") == 3
    assert run_batch(write_csv(tmp_path / "jobs.csv", rows), out, "--retry-failed") == 1
    assert state(out)["jobs"]["lisbon-02"]["attempts"] == 2


def test_fail_fast_stops_at_the_first_failed_job(factory_scene, tmp_path, capsys):
    rows = job_rows(3, cities=("lisbon",))
    rows[0]["waypoints"] = ROUTES["berlin"][1]
    out = tmp_path / "out"
    assert run_batch(write_csv(tmp_path / "jobs.csv", rows), out, "--fail-fast") == 1
    assert set(state(out)["jobs"]) == {"lisbon-01"}
    assert "stopped: --fail-fast: a job failed" in capsys.readouterr().out


def test_a_bad_jobs_file_lists_every_problem_and_runs_nothing(tmp_path, capsys):
    rows = job_rows(3)
    rows[0]["speed"] = "fast"
    rows[2]["osm"] = "nowhere.osm"
    out = tmp_path / "out"
    assert run_batch(write_csv(tmp_path / "jobs.csv", rows), out) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors[0].endswith("jobs.csv: 2 problems in 2 jobs; nothing was run")
    assert "line 2 (job 'lisbon-01'): speed: 'fast' is not a number" in errors[1]
    assert "line 4 (job 'krems-03'): osm: file not found" in errors[2]
    assert not out.exists()


def test_the_shards_of_a_batch_run_every_job_exactly_once(factory_scene, tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(5, cities=("lisbon",)))
    out = tmp_path / "out"
    for shard in ("1/2", "2/2"):
        assert run_batch(jobs, out, "--shard", shard, "--quiet") == 0
    first = state(out, "checkpoint-shard-1-of-2.json")["jobs"]
    second = state(out, "checkpoint-shard-2-of-2.json")["jobs"]
    assert set(first) == {"lisbon-01", "lisbon-03", "lisbon-05"}
    assert set(second) == {"lisbon-02", "lisbon-04"}
    assert len(list(out.glob("*.blend"))) == 5
    assert (out / "leanroute-batch" / "report-shard-2-of-2.json").is_file()


def test_the_report_says_what_hygiene_saved_against_a_no_hygiene_run(
    factory_scene, tmp_path, capsys
):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(4, cities=("krems",)))
    assert run_batch(jobs, tmp_path / "base", "--no-hygiene", "--quiet") == 0
    baseline = tmp_path / "base" / "leanroute-batch" / "report.json"
    assert json.loads(baseline.read_text())["batch"]["hygiene"] is False
    assert run_batch(jobs, tmp_path / "out", "--compare-to", str(baseline)) == 0
    assert "memory saved vs no-hygiene baseline" in capsys.readouterr().out
    comparison = json.loads((tmp_path / "out" / "leanroute-batch" / "report.json").read_text())[
        "comparison"
    ]
    saved = comparison["memory_usage_reduction_mb"]
    assert set(saved) >= {"peak", "growth_per_job", "total_growth"}
    # Without hygiene every Krems build leaves its meshes behind: several MB per job.
    assert saved["growth_per_job"] > 2
    assert comparison["jobs_compared"] == 4 and "warning" not in comparison


def test_usage_problems_name_the_option(tmp_path, capsys):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(1))
    assert run_batch(jobs, tmp_path / "o", "--workers", "2") == 1
    assert "--workers: runs several processes: add --isolate" in capsys.readouterr().err
    assert run_batch(jobs, tmp_path / "o", "--shard", "3/2") == 2
    assert "--shard: shard 3/2: N must be 1 or more and I from 1 to N" in capsys.readouterr().err
    assert run_batch(jobs, tmp_path / "o", "--hard-budget", "lots") == 2
    assert "--hard-budget: 'lots' is not a size" in capsys.readouterr().err
    assert run_batch(jobs, tmp_path / "o", "--isolate", "--recycle-every", "2") == 2


def test_isolated_workers_run_jobs_in_fresh_processes(tmp_path, capsys):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3, cities=("lisbon",)))
    out = tmp_path / "out"
    assert run_batch(jobs, out, "--isolate", "--workers", "2") == 0
    records = state(out)["jobs"]
    assert len({r["process"]["pid"] for r in records.values()}) == 3
    assert all(r["process"]["sequence"] == 0 for r in records.values())
    logs = sorted((out / "leanroute-batch" / "logs").glob("worker-*.log"))
    assert len(logs) == 3 and "--worker-jobs lisbon-01" in logs[0].read_text()
    assert "a fresh process per job, up to 2 at once" in capsys.readouterr().out


def test_recycled_workers_take_n_jobs_each(tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3, cities=("lisbon",)))
    out = tmp_path / "out"
    assert run_batch(jobs, out, "--recycle-every", "2", "--quiet") == 0
    sequences = [r["process"]["sequence"] for r in state(out)["jobs"].values()]
    assert sorted(sequences) == [0, 0, 1]


def test_the_blender_c_command_runs_batches(addon_scene, tmp_path):
    from leanroute.cli import blender_command

    jobs = write_csv(tmp_path / "jobs.csv", job_rows(1))
    code = blender_command._run(["batch", str(jobs), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 0 and (tmp_path / "o" / "lisbon-01.blend").is_file()


def test_workers_wait_while_memory_would_not_cover_another_job(tmp_path, monkeypatch, capsys):
    from leanroute.batch import coordinator

    # No memory to spare: one worker at a time, however many are allowed.
    monkeypatch.setattr(coordinator, "available_bytes", lambda: 1)
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3, cities=("lisbon",)))
    out = tmp_path / "out"
    assert run_batch(jobs, out, "--isolate", "--workers", "3") == 0
    running, most = 0, 0
    log = state(out, "events.jsonl")
    for event in log:
        running += {"worker_started": 1, "worker_exit": -1}.get(event["event"], 0)
        most = max(most, running)
    assert most == 1
    throttled = [e for e in log if e["event"] == "throttled"]
    assert throttled and "reserved for running jobs" in throttled[-1]["reason"]
    assert "waiting for memory" in capsys.readouterr().err


def test_the_scene_settings_are_as_before_after_every_job(factory_scene, tmp_path):
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end, scene.render.fps = 7, 77, 30
    before = (scene.frame_start, scene.frame_end, scene.render.fps, scene.camera)
    rows = job_rows(2, cities=("lisbon",))
    rows[1]["waypoints"] = ROUTES["berlin"][1]  # fails: its own settings are rolled back
    assert run_batch(write_csv(tmp_path / "jobs.csv", rows), tmp_path / "out", "--quiet") == 1
    assert (scene.frame_start, scene.frame_end, scene.render.fps, scene.camera) == before
