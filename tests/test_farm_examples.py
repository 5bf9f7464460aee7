"""The farm examples under docs/farm/ and the batch guide: they run, and they match the CLI.

Plain Python, no bpy. The Flamenco job type runs under Node with stub ``author`` objects
when ``node`` is on PATH; the SLURM script and the Kubernetes command run under ``bash`` and
``sh`` with a stand-in for the program. Every command line they produce is parsed by
LeanRoute's own argument parser.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from leanroute.cli.arguments import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDE = DOCS / "batch.md"
FLAMENCO = DOCS / "farm" / "flamenco" / "leanroute-batch.js"
SLURM = DOCS / "farm" / "slurm-array.sh"
KUBERNETES = DOCS / "farm" / "kubernetes-indexed-job.yaml"

# Loads the job type into a fresh context with recording stubs for Flamenco's `author`,
# fills in the settings' defaults, applies the given settings and prints what compileJob made.
NODE_HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const [file, given] = process.argv.slice(-2);  // with -e there is no script path
const author = {
  Task(name, type) {
    return { name, type, commands: [], addCommand(command) { this.commands.push(command); } };
  },
  Command(name, parameters) { return { name, parameters }; },
};
const context = { author, print() {} };
const source = fs.readFileSync(file, "utf8") + "\n;({ JOB_TYPE, compileJob });";
const { JOB_TYPE, compileJob } = vm.runInNewContext(source, context, { filename: file });
const settings = {};
for (const setting of JOB_TYPE.settings) {
  if ("default" in setting) settings[setting.key] = setting.default;
}
Object.assign(settings, JSON.parse(given));
const tasks = [];
const job = { settings, addTask(task) { tasks.push(task); } };
let error = null;
try {
  compileJob(job);
} catch (thrown) {
  error = String(thrown);
}
const strip = ({ name, type, commands }) => ({ name, type, commands });
console.log(JSON.stringify({
  label: JOB_TYPE.label,
  keys: JOB_TYPE.settings.map((setting) => setting.key),
  tasks: tasks.map(strip),
  error,
}));
"""

SUBMISSION = {
    "jobs_file": "/shared/routes/jobs.csv",
    "out_dir": "/shared/routes/out",
    "leanroute_script": "/opt/leanroute/cli/blender_script.py",
}


def batch_options() -> list[str]:
    """Every long option of ``leanroute batch`` a user sees in ``--help``."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    options = []
    for action in commands.choices["batch"]._actions:
        if action.help == argparse.SUPPRESS:
            continue  # the worker processes' own options
        options += [name for name in action.option_strings if name.startswith("--")]
    return options


def parse_batch(arguments: list[str]) -> argparse.Namespace:
    """LeanRoute's parser on a command line from a farm file (exits 2 if it is wrong)."""
    args = build_parser().parse_args(arguments)
    assert args.command == "batch"
    return args


def after_double_dash(arguments: list[str]) -> list[str]:
    """What Blender passes on to cli/blender_script.py."""
    return arguments[arguments.index("--") + 1 :]


# -- Flamenco ------------------------------------------------------------------------------


def test_flamenco_job_type_defines_the_job_type_and_shards():
    text = FLAMENCO.read_text(encoding="utf-8")
    assert re.search(r"^const JOB_TYPE = \{", text, re.MULTILINE)
    assert re.search(r"^function compileJob\(job\)", text, re.MULTILINE)
    assert "--shard" in text
    assert 'author.Command("blender-render"' in text
    assert "https://flamenco.blender.org/" in text  # where the API comes from


def run_job_type(settings: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the Flamenco job type was only checked as text")
    result = subprocess.run(
        [node, "-e", NODE_HARNESS, str(FLAMENCO), json.dumps({**SUBMISSION, **settings})],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_flamenco_job_type_makes_one_blender_task_per_shard():
    compiled = run_job_type({"shards": 3})
    assert compiled["error"] is None
    assert {"jobs_file", "out_dir", "shards", "isolate", "workers", "extra_args"} <= set(
        compiled["keys"]
    )
    tasks = compiled["tasks"]
    assert len(tasks) == 3
    for index, task in enumerate(tasks, start=1):
        assert task["type"] == "blender"
        (command,) = task["commands"]
        assert command["name"] == "blender-render"
        parameters = command["parameters"]
        assert parameters["exe"] == "{blender}"
        assert parameters["blendfile"] == ""
        assert parameters["argsBefore"] == [
            "-b",
            "--factory-startup",
            "--python",
            SUBMISSION["leanroute_script"],
        ]
        args = parameters["args"]
        assert "--shard" in args
        assert args[args.index("--shard") + 1] == f"{index}/3"
        parsed = parse_batch(after_double_dash(args))
        assert (parsed.shard, str(parsed.jobs), str(parsed.out)) == (
            f"{index}/3",
            SUBMISSION["jobs_file"],
            SUBMISSION["out_dir"],
        )
        assert not parsed.isolate and parsed.workers == 1


def test_flamenco_job_type_passes_the_mode_and_extra_options():
    compiled = run_job_type(
        {"shards": 2, "isolate": True, "workers": 3, "extra_args": " --hard-budget 6GB  --quiet "}
    )
    assert compiled["error"] is None
    parsed = parse_batch(
        after_double_dash(compiled["tasks"][1]["commands"][0]["parameters"]["args"])
    )
    assert (parsed.shard, parsed.isolate, parsed.workers) == ("2/2", True, 3)
    assert (parsed.hard_budget, parsed.quiet) == ("6GB", True)


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        ({"workers": 2}, "needs isolate"),
        ({"shards": 0}, "shards must be"),
        ({"extra_args": "--shard 1/2"}, "leave out --shard"),
    ],
)
def test_flamenco_job_type_refuses_what_leanroute_would_refuse(settings, why):
    compiled = run_job_type(settings)
    assert why in (compiled["error"] or "")
    assert compiled["tasks"] == []


def test_flamenco_workers_with_recycling_is_accepted():
    compiled = run_job_type({"shards": 1, "workers": 2, "extra_args": "--recycle-every 5"})
    assert compiled["error"] is None
    parsed = parse_batch(
        after_double_dash(compiled["tasks"][0]["commands"][0]["parameters"]["args"])
    )
    assert (parsed.workers, parsed.recycle_every, parsed.shard) == (2, 5, "1/1")


# -- SLURM ---------------------------------------------------------------------------------


def test_slurm_script_is_valid_bash():
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not on PATH")
    result = subprocess.run([bash, "-n", str(SLURM)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    text = SLURM.read_text(encoding="utf-8")
    for directive in ("#SBATCH --array=1-4", "#SBATCH --mem=", "#SBATCH --cpus-per-task="):
        assert directive in text
    assert '--shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}"' in text


def run_slurm_task(folder: Path, **environment: str) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not on PATH")
    # A stand-in for Python: the script's last command prints its arguments, one a line.
    python = folder / "python"
    python.write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n", encoding="utf-8")
    python.chmod(0o755)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHON": str(python), **environment}
    return subprocess.run(
        [bash, str(SLURM)], capture_output=True, text=True, env=env, check=False, timeout=30
    )


def test_slurm_array_task_runs_its_shard(tmp_path):
    result = run_slurm_task(
        tmp_path,
        SLURM_ARRAY_TASK_ID="3",
        SLURM_ARRAY_TASK_COUNT="4",
        SLURM_ARRAY_TASK_MIN="1",
        SLURM_ARRAY_TASK_MAX="4",
        JOBS="/shared/jobs.csv",
        OUT="/shared/out",
    )
    assert result.returncode == 0, result.stderr
    arguments = result.stdout.splitlines()
    assert arguments[:2] == ["-m", "leanroute"]
    parsed = parse_batch(arguments[2:])
    assert (parsed.shard, str(parsed.jobs), str(parsed.out)) == (
        "3/4",
        "/shared/jobs.csv",
        "/shared/out",
    )


def test_slurm_array_not_numbered_from_one_is_refused(tmp_path):
    result = run_slurm_task(
        tmp_path,
        SLURM_ARRAY_TASK_ID="0",
        SLURM_ARRAY_TASK_COUNT="4",
        SLURM_ARRAY_TASK_MIN="0",
        SLURM_ARRAY_TASK_MAX="3",
    )
    assert result.returncode == 2
    assert "--array=1-4" in result.stderr
    assert result.stdout == ""


# -- Kubernetes ----------------------------------------------------------------------------


def folded_command(text: str) -> str:
    """The container's ``sh -c`` script: the ``>-`` block under ``args``, folded to one line."""
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip() == "- >-")
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.strip())
    return " ".join(part for part in block if part)


def test_kubernetes_job_is_an_indexed_job_of_four_shards():
    text = KUBERNETES.read_text(encoding="utf-8")
    try:
        import yaml  # PyYAML is optional; without it, the structure is checked as text
    except ImportError:
        yaml = None
    if yaml is not None:
        job = yaml.safe_load(text)
        spec = job["spec"]
        assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
        assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == (
            "Indexed",
            4,
            4,
        )
        (container,) = spec["template"]["spec"]["containers"]
        assert container["command"] == ["sh", "-c"]
        assert container["resources"]["limits"]["memory"]
        assert spec["template"]["spec"]["volumes"]
    for needle in (
        "apiVersion: batch/v1",
        "kind: Job",
        "completionMode: Indexed",
        "completions: 4",
        "parallelism: 4",
        'command: ["sh", "-c"]',
        "JOB_COMPLETION_INDEX + 1",
        "memory:",
        "volumeMounts:",
        "persistentVolumeClaim:",
    ):
        assert needle in text, needle
    assert "\t" not in text  # YAML forbids tabs for indentation


@pytest.mark.parametrize(("index", "shard"), [("0", "1/4"), ("3", "4/4")])
def test_kubernetes_pod_index_becomes_a_one_based_shard(index, shard):
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("sh is not on PATH")
    script = folded_command(KUBERNETES.read_text(encoding="utf-8"))
    assert script.startswith("exec blender ")
    # A shell function stands in for Blender and prints the arguments it gets, one a line.
    stand_in = "blender() { printf '%s\\n' \"$@\"; }; " + script.removeprefix("exec ")
    result = subprocess.run(
        [sh, "-c", stand_in],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "JOB_COMPLETION_INDEX": index},
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    arguments = result.stdout.splitlines()
    assert arguments[:2] == ["-b", "--factory-startup"]
    parsed = parse_batch(after_double_dash(arguments))
    assert (parsed.shard, str(parsed.out)) == (shard, "/data/routes/out")


# -- the guide -----------------------------------------------------------------------------


def test_guide_mentions_every_batch_option():
    text = GUIDE.read_text(encoding="utf-8")
    options = batch_options()
    assert "--shard" in options and "--worker-jobs" not in options
    missing = [o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)]
    assert not missing, f"docs/batch.md does not mention {missing}"


def test_guide_links_farm_files_that_exist():
    text = GUIDE.read_text(encoding="utf-8")
    referenced = {
        match.rstrip(".").removeprefix("docs/")
        for match in re.findall(r"(?:docs/)?farm/[\w./-]+", text)
    }
    assert {
        "farm/flamenco/leanroute-batch.js",
        "farm/slurm-array.sh",
        "farm/kubernetes-indexed-job.yaml",
    } <= referenced
    missing = sorted(path for path in referenced if not (DOCS / path).is_file())
    assert not missing, f"docs/batch.md refers to missing files: {missing}"


def test_guide_relative_links_resolve():
    text = GUIDE.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if "://" not in target]
    assert local
    missing = [target for target in local if not (DOCS / target).exists()]
    assert not missing, missing


def test_guide_and_farm_files_credit_openstreetmap():
    for path in (GUIDE, FLAMENCO, SLURM, KUBERNETES):
        assert "© OpenStreetMap contributors" in path.read_text(encoding="utf-8"), path.name
