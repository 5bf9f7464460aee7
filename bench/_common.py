"""Helpers shared by the benchmark scripts: statistics, machine description, JSON output.

Not a benchmark itself; imported by the scripts beside it (``bench/`` is on ``sys.path``
when a script in it runs).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import bpy

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
REPO_DIR = BENCH_DIR.parent
#: The real OSM extracts, beside the checkout (../shared/data/osm), never copied into it.
OSM_DIR = REPO_DIR.parent / "shared" / "data" / "osm"


def summarize(values: "list[float]") -> dict:
    """Median, quartiles, min, max and relative spread of *values* (at least one)."""
    ordered = sorted(values)
    median = statistics.median(ordered)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "n": len(ordered),
        "median": median,
        "q1": q1,
        "q3": q3,
        "min": ordered[0],
        "max": ordered[-1],
        "iqr": q3 - q1,
        # Spread relative to the median: (max - min) / median.
        "rel_range": (ordered[-1] - ordered[0]) / median if median else None,
    }


def balanced_order(items: list, round_index: int) -> list:
    """Order of *items* for one round of an interleaved benchmark.

    Rows of a balanced Latin square (Williams design): over a full cycle of rounds every
    item runs in every position once and follows every other item equally often, so
    neither position nor the item run just before biases a variant. A plain rotation
    would always put the same variant before a given one.
    """
    n = len(items)
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    rows = [[(index + shift) % n for index in first] for shift in range(n)]
    if n % 2:  # odd n needs each row's mirror image too
        rows += [row[::-1] for row in rows]
    return [items[index] for index in rows[round_index % len(rows)]]


def git_revision() -> "dict[str, str | bool | None]":
    """The checkout's commit and whether its code has local changes (None outside git)."""
    from report import git_revision as revision  # one definition, in the bpy-free module

    return revision()


def load_average() -> "list[float] | None":
    """The 1, 5 and 15 minute load averages (other work on the machine adds noise)."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def machine() -> dict:
    """Where the figures were measured."""
    try:
        import psutil

        total_memory = psutil.virtual_memory().total
    except ImportError:
        total_memory = None
    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cpus = None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus,
        "total_memory_bytes": total_memory,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "blender": bpy.app.version_string,
        "libc": " ".join(platform.libc_ver()).strip() or None,
        "load_average": load_average(),
        "git": git_revision(),
    }


def write_json(name: str, data: dict) -> Path:
    """Write *data* to ``bench/results/<name>.json`` atomically; returns the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    target = RESULTS_DIR / f"{name}.json"
    fd, temp_name = tempfile.mkstemp(dir=RESULTS_DIR, prefix=f".{name}.", suffix=".tmp")
    try:
        os.chmod(temp_name, 0o644)  # mkstemp makes it private; results are for everyone
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def ms(seconds: "float | None") -> str:
    """Seconds as a short millisecond string."""
    return "n/a" if seconds is None else f"{seconds * 1000:.2f} ms"


def mib(size: "float | None") -> str:
    """Bytes as a short MiB string."""
    return "n/a" if size is None else f"{size / 2**20:.1f} MiB"


def bench_parser(description: str, quick_help: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: --quick and --repeats."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--repeats", type=int, default=None, help="measured (interleaved) rounds")
    return parser
