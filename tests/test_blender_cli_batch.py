"""`leanroute batch` inside the blender executable, in one process and with worker processes."""

import json
import subprocess

import pytest
from helpers.batch_jobs import job_rows, write_csv
from helpers.blender_env import isolated_blender_env
from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.blender_cli

SCRIPT = REPO_ROOT / "cli" / "blender_script.py"


def batch_in_blender(blender, tmp_path, jobs, out, *options):
    return subprocess.run(
        [blender, "-b", "--factory-startup", "--python", str(SCRIPT), "--",
         "batch", str(jobs), "--out", str(out), *options],
        env=isolated_blender_env(tmp_path / "user"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip


def test_a_batch_runs_inside_blender_and_resumes(blender_binary, tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3))
    out = tmp_path / "out"
    run = batch_in_blender(blender_binary, tmp_path, jobs, out)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "batch: 3 jobs: 3 done, 0 failed" in run.stdout
    assert "in one process, hygiene on" in run.stdout
    again = batch_in_blender(blender_binary, tmp_path, jobs, out)
    assert "3 finished in an earlier run" in again.stdout, again.stdout + again.stderr
    for row in job_rows(3):
        assert (out / f"{row['id']}.blend").read_bytes()[:7] == b"BLENDER"


def test_workers_inside_blender_are_fresh_blender_processes(blender_binary, tmp_path):
    jobs = write_csv(tmp_path / "jobs.csv", job_rows(3, cities=("lisbon",)))
    out = tmp_path / "out"
    run = batch_in_blender(blender_binary, tmp_path, jobs, out, "--recycle-every", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    logs = sorted((out / "leanroute-batch" / "logs").glob("worker-*.log"))
    assert len(logs) == 2
    first_line = logs[0].read_text().splitlines()[0]
    assert first_line.startswith(f"$ {blender_binary} -b --factory-startup")
    assert "--worker-jobs lisbon-01,lisbon-02" in first_line
    records = json.loads((out / "leanroute-batch" / "checkpoint.json").read_text())["jobs"]
    assert sorted(r["process"]["sequence"] for r in records.values()) == [0, 0, 1]
