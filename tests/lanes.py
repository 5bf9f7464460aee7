"""Run LeanRoute's three real-Blender test lanes; print each lane's counts and a total.

  module     pytest in this venv against the bpy module: every test except the two below
  binary     pytest-blender runs the `binary_compatible` tests inside a blender executable
             ($BLENDER_EXECUTABLE or `blender` on PATH), then the `blender_cli` tests start
             that executable as a subprocess
  packaging  the `packaging` tests: build the extension zips, install one into bpy

Usage: python tests/lanes.py [--lane NAME ...] [--strict | --no-strict] [-- PYTEST ARGS]

Strict (the default when $CI is set): a missing blender, a skipped test or a lane that
ran no test fails the run. Otherwise a missing blender skips the binary lane, loudly.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from helpers.blender_env import isolated_blender_env
from helpers.paths import REPO_ROOT, blender_executable

LANES = ("module", "binary", "packaging")
BLENDER_PYTHON_NEEDS = ("pytest", "psutil", "numpy")
DEBIAN_PACKAGES = "python3-pytest python3-psutil python3-numpy"
PYTEST_EXIT_NO_TESTS = 5


@dataclass
class Counts:
    """Test counts of one pytest run, read from its JUnit XML report."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            self.passed + other.passed, self.failed + other.failed, self.skipped + other.skipped
        )

    @property
    def ran(self) -> int:
        return self.passed + self.failed

    def __str__(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


@dataclass
class LaneResult:
    """What one lane did: its counts, a description of where it ran, and any problem."""

    name: str
    where: str
    counts: Counts
    problems: list[str]
    skipped_lane: bool = False


def read_junit(path: Path) -> Counts:
    """Count passed/failed/skipped tests in a JUnit XML report written by pytest."""
    if not path.is_file():
        return Counts()
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = Counts()
    for suite in suites:
        tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        total += Counts(tests - skipped - failed, failed, skipped)
    return total


def banner(text: str) -> None:
    """Print a section heading that stands out in long CI logs."""
    print(f"\n{'=' * 20} {text} {'=' * max(4, 70 - len(text))}", flush=True)


def run_pytest(
    args: list[str], report: Path, env: dict[str, str], python_flags=()
) -> tuple[int, Counts]:
    """Run pytest from this venv in the repository root; return (exit code, counts)."""
    command = [sys.executable, *python_flags, "-m", "pytest", f"--junitxml={report}", *args]
    code = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode
    return code, read_junit(report)


def check_part(name: str, code: int, counts: Counts, filtered: bool) -> list[str]:
    """Turn a pytest exit code into the problems it means for the lane."""
    if code == PYTEST_EXIT_NO_TESTS:
        return [] if filtered else [f"{name}: collected no tests (pytest exit 5)"]
    if code != 0 or counts.failed:
        return [f"{name}: pytest exit {code}, {counts.failed} failed"]
    return []


def module_lane(work: Path, extra: list[str]) -> LaneResult:
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(work / "module-user")}
    code, counts = run_pytest(
        ["-m", "not blender_cli and not packaging", *extra], work / "module.xml", env
    )
    where = f"bpy {metadata.version('bpy')} module, Python {platform.python_version()}"
    return LaneResult("module", where, counts, check_part("module", code, counts, bool(extra)))


def blender_python_problem(blender: str, env: dict[str, str]) -> str | None:
    """Say what blender's own Python lacks for the binary lane, or None."""
    probe = "; ".join(f"import {name}" for name in BLENDER_PYTHON_NEEDS)
    run = subprocess.run(
        [blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python-expr", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if run.returncode == 0:
        return None
    error = [line for line in run.stderr.splitlines() if "Error" in line][-1:]
    needs = ", ".join(BLENDER_PYTHON_NEEDS)
    return (
        f"{blender}'s Python cannot import {needs} ({' '.join(error)}). "
        f"With Debian's blender: apt-get install {DEBIAN_PACKAGES}"
    )


def blender_version(blender: str) -> str:
    run = subprocess.run([blender, "--version"], capture_output=True, text=True, check=False)
    return (run.stdout.splitlines() or ["unknown version"])[0]


def binary_lane(work: Path, extra: list[str], strict: bool) -> LaneResult:
    blender = blender_executable()
    why = None
    if blender is None:
        why = "no blender executable: set BLENDER_EXECUTABLE or put `blender` on PATH"
    elif shutil.which(blender) is None:
        why = f"BLENDER_EXECUTABLE={blender} is not an executable file"
    if why:
        banner("BINARY LANE SKIPPED")
        print(
            f"!!! The binary lane did NOT run: {why}.\n!!! Tests inside Blender 3.4+ were not run."
        )
        return LaneResult(
            "binary", f"NOT RUN: {why}", Counts(), [f"binary: {why}"] if strict else [], True
        )

    env = {**isolated_blender_env(work / "binary-user"), "BLENDER_EXECUTABLE": blender}
    where = f"{blender_version(blender)} at {blender}"
    problem = blender_python_problem(blender, env)
    if problem:
        return LaneResult("binary", where, Counts(), [f"binary: {problem}"])

    # Inside blender: pytest-blender hands the run to blender's own Python and pytest.
    # -W: pytest-blender itself trips pytest 9 deprecation warnings that are not ours.
    inside_code, inside = run_pytest(
        [
            "-p",
            "pytest-blender",
            "--blender-executable",
            blender,
            "-m",
            "binary_compatible",
            *extra,
        ],
        work / "binary-inside.xml",
        env,
        python_flags=("-W", "ignore::DeprecationWarning"),
    )
    cli_code, cli = run_pytest(["-m", "blender_cli", *extra], work / "binary-cli.xml", env)
    problems = check_part("binary (inside blender)", inside_code, inside, bool(extra))
    problems += check_part("binary (blender CLI)", cli_code, cli, bool(extra))
    return LaneResult("binary", where, inside + cli, problems)


def packaging_lane(work: Path, extra: list[str]) -> LaneResult:
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(work / "packaging-user")}
    code, counts = run_pytest(["-m", "packaging", *extra], work / "packaging.xml", env)
    where = f"extension zips installed into bpy {metadata.version('bpy')}"
    return LaneResult(
        "packaging", where, counts, check_part("packaging", code, counts, bool(extra))
    )


def print_summary(results: list[LaneResult], strict: bool) -> list[str]:
    """Print the per-lane table and the total line; return every problem found."""
    banner("LeanRoute test lanes")
    problems = []
    for result in results:
        status = "SKIPPED (lane not run)" if result.skipped_lane else str(result.counts)
        print(f"{result.name:<10} {status:<40} {result.where}")
        problems += result.problems
        if strict and result.counts.skipped:
            problems.append(
                f"{result.name}: {result.counts.skipped} test(s) skipped, not allowed when strict"
            )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    total = sum((r.counts for r in results), Counts())
    # One plain closing line: "lanes: N passed, N failed, N skipped".
    print(f"lanes: {total}", flush=True)
    return problems


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lane", action="append", choices=LANES, help="run only these lanes")
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("CI", "").lower() in {"1", "true", "yes"},
        help="fail on a missing blender, a skipped test or an empty lane (default: if $CI)",
    )
    args = parser.parse_args(own)
    lanes = args.lane or list(LANES)

    results = []
    with tempfile.TemporaryDirectory(prefix="leanroute-lanes-") as tmp:
        work = Path(tmp)
        for lane in lanes:
            banner(f"{lane} lane")
            if lane == "module":
                results.append(module_lane(work, extra))
            elif lane == "binary":
                results.append(binary_lane(work, extra, args.strict))
            else:
                results.append(packaging_lane(work, extra))
    return 1 if print_summary(results, args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
