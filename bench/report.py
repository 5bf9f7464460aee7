"""Collect every benchmark's rows into ``bench/results.json`` and ``docs/benchmarks.md``.

Each script in ``bench/`` writes ``bench/results/<name>.json`` with a top-level ``"rows"``
list (one row per comparison: title, what it measures, every variant's medians, the
headline ratios, the target if there is one) and a ``"machine"`` block. This script reads
them all, writes the combined JSON and a generated Markdown table, and lists each required
row that no file provides as "not run".

With ``--strict`` (what ``make bench`` uses) it exits 1 when a required row is missing, or
comes from a file older than ``--since-file`` (a marker touched when the run started): a
full run must have produced them all. Without it, missing rows are listed and it exits 0.

No bpy here: the row helpers below are imported by the scripts (``from report import
make_row``) and by the plain test ``tests/test_bench_report.py``.

Run: ``.venv/bin/python bench/report.py [--strict] [--since-file PATH]``.
"""

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_JSON = BENCH_DIR / "results.json"
MARKDOWN = REPO_DIR / "docs" / "benchmarks.md"

#: The rows a full ``make bench`` must produce, and the script that writes each.
REQUIRED = {
    "rebuild_growth": "bench/rebuild_leak.py",
    "hygiene_overhead": "bench/hygiene_overhead.py",
    "gc_tuning": "bench/gc_build.py",
    "parse": "bench/parse_bench.py",
    "geometry": "bench/geometry_bench.py",
    "batch_throughput": "bench/batch_throughput.py",
    "scale": "bench/scale_bench.py",
}

#: How a metric key ends, and how its value is shown. Checked longest first.
UNITS = {
    "_per_min": "per_min",
    "_percent": "percent",
    "_count": "count",
    "_mib": "mib",
    "_kib": "kib",
    "_mb": "mb",
    "_ms": "ms",
    "_s": "s",
    "seconds": "s",
}


# -- building rows (used by the scripts) --------------------------------------------------


def unit_of(key: str) -> "str | None":
    """The unit a metric key ends in (``"s"``, ``"mib"``, ...), or None if it has none."""
    for suffix, unit in sorted(UNITS.items(), key=lambda item: -len(item[0])):
        if key.endswith(suffix):
            return unit
    return None


def ratio(what: str, value: float, spread: "tuple[float, float] | None" = None) -> dict:
    """One headline comparison: *what* it compares, its value, and optionally its spread."""
    out = {"what": what, "value": value}
    if spread is not None:
        out["spread"] = [spread[0], spread[1]]
    return out


def make_row(  # noqa: PLR0913 - one argument per field of a row
    benchmark: str,
    title: str,
    measures: str,
    variants: "dict[str, dict[str, float | None]]",
    ratios: "list[dict]",
    *,
    rounds: int,
    target: "str | None" = None,
    target_met: "bool | None" = None,
    tables: "list[dict] | None" = None,
) -> dict:
    """A row in the shared format; refuses metric keys without a unit suffix.

    *tables* are extra tables for the row's section: ``{"title", "columns", "rows"}`` with
    the cells as text.
    """
    for name, metrics in variants.items():
        for key in metrics:
            if unit_of(key) is None:
                raise ValueError(f"row {benchmark!r}, variant {name!r}: {key!r} has no unit")
    row = {
        "benchmark": benchmark,
        "title": title,
        "measures": measures,
        "variants": variants,
        "ratios": ratios,
        "target": target,
        "target_met": target_met if target is not None else None,
        "rounds": rounds,
    }
    if tables:
        row["tables"] = tables
    return row


# -- collecting ---------------------------------------------------------------------------


def load_results(results_dir: Path = RESULTS_DIR) -> "list[dict]":
    """Every ``<name>.json`` in *results_dir* with its rows: name, data, mtime (sorted).

    A file that is not valid JSON is reported as a problem rather than skipped silently.
    """
    out = []
    if not results_dir.is_dir():
        return out
    for path in sorted(results_dir.glob("*.json")):
        if path.name.startswith("."):
            continue  # a temporary file of write_json
        entry = {"name": path.stem, "path": str(path), "mtime": path.stat().st_mtime}
        try:
            entry["data"] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            entry["data"] = {}
            entry["error"] = f"{path.name}: unreadable ({error})"
        out.append(entry)
    return out


def collect_rows(results: "list[dict]", since: "float | None" = None) -> "tuple[list, list]":
    """The rows of every file, each tagged with its source; and the problems found.

    When two files carry the same benchmark id, the newer file's row is kept. Rows from
    files older than *since* (a Unix time) are marked ``stale``.
    """
    problems = [entry["error"] for entry in results if "error" in entry]
    by_id: dict[str, dict] = {}
    for entry in sorted(results, key=lambda e: e["mtime"]):
        for row in entry["data"].get("rows", []) or []:
            if not isinstance(row, dict) or "benchmark" not in row:
                problems.append(f"{entry['name']}.json: a row without a benchmark id")
                continue
            tagged = dict(row)
            tagged["source"] = f"bench/results/{entry['name']}.json"
            tagged["measured_at"] = _iso(entry["mtime"])
            tagged["stale"] = since is not None and entry["mtime"] < since
            if row["benchmark"] in by_id:
                problems.append(
                    f"row {row['benchmark']!r} is in {by_id[row['benchmark']]['source']} and "
                    f"{tagged['source']}: the newer one is kept"
                )
            by_id[row["benchmark"]] = tagged
    required = [by_id[key] for key in REQUIRED if key in by_id]
    others = sorted(
        (row for key, row in by_id.items() if key not in REQUIRED), key=lambda r: r["benchmark"]
    )
    return required + others, problems


def missing_required(rows: "list[dict]") -> "dict[str, str]":
    """Required ids with no row, or only a stale one: id -> why."""
    present = {row["benchmark"]: row for row in rows}
    out = {}
    for key, script in REQUIRED.items():
        if key not in present:
            out[key] = f"not run (no result from {script})"
        elif present[key].get("stale"):
            out[key] = f"stale: {present[key]['source']} is older than this run"
    return out


def newest_machine(results: "list[dict]") -> "dict | None":
    """The ``machine`` block of the newest result file that has one."""
    for entry in sorted(results, key=lambda e: -e["mtime"]):
        machine = entry["data"].get("machine")
        if isinstance(machine, dict):
            return machine
    return None


def git_revision() -> dict:
    """The checkout's commit and whether its code has local changes (None outside git)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    # The benchmarks' own outputs do not make the code that was measured "changed".
    outputs = (":!bench/results", ":!bench/results.json", ":!docs/benchmarks.md")
    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(
                git("status", "--porcelain", "--untracked-files=no", "--", ".", *outputs)
            ),
        }
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def describe_machine(machine: "dict | None") -> str:
    """One line: OS, CPUs, memory, Python, Blender."""
    if not machine:
        return f"{platform.platform()} (no machine block in the results)"
    memory = machine.get("total_memory_bytes")
    cpus = machine.get("usable_cpus") or machine.get("cpu_count")
    parts = [
        machine.get("platform") or "?",
        f"{cpus} CPUs" if cpus else None,
        f"{memory / 2**30:.1f} GiB RAM" if memory else None,
        f"{machine.get('python_implementation', 'Python')} {machine.get('python', '?')}",
        f"Blender {machine['blender']} (bpy module)" if machine.get("blender") else None,
    ]
    load = machine.get("load_average")
    if load:
        parts.append("load average at start " + " / ".join(f"{x:.2f}" for x in load))
    return ", ".join(p for p in parts if p)


# -- rendering ----------------------------------------------------------------------------


def format_number(value: float) -> str:
    """A number with about three significant figures, thousands separated."""
    if isinstance(value, bool) or not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if isinstance(value, int) or magnitude >= 100:
        pattern = "{:,.0f}"
    elif magnitude >= 10:
        pattern = "{:.1f}"
    elif magnitude >= 0.1 or magnitude == 0:
        pattern = "{:.2f}"
    else:
        pattern = "{:.3g}"
    return pattern.format(value)


def metric_label(key: str) -> str:
    """A metric key without its unit suffix, in words (``peak_rss_mib`` -> ``peak rss``)."""
    unit = unit_of(key)
    label = key
    for suffix in sorted(UNITS, key=len, reverse=True):
        if key.endswith(suffix):
            label = key[: -len(suffix)]
            break
    return label.strip("_").replace("_", " ") or ("time" if unit == "s" else key)


def format_value(key: str, value) -> str:
    """*value* with the unit its key ends in (seconds under 1 s as milliseconds)."""
    unit = unit_of(key)
    if value is None:
        return "n/a"
    if not isinstance(value, int | float):
        return str(value)
    if unit == "count" and float(value).is_integer():
        return f"{int(value):,}"
    number = format_number(value)
    if unit == "s":
        return f"{format_number(value * 1000)} ms" if abs(value) < 1 else f"{value:.2f} s"
    suffixes = {
        "mib": " MiB",
        "kib": " KiB",
        "mb": " MB",
        "ms": " ms",
        "per_min": "/min",
        "percent": " %",
    }
    return number + suffixes.get(unit, "")


def format_metric(key: str, value) -> str:
    """``label value unit`` for one metric."""
    return f"{metric_label(key)} {format_value(key, value)}"


def format_ratio(item: dict, bold: bool = True) -> str:
    """``what: value`` (with its spread when given)."""
    value = item.get("value")
    text = "n/a" if value is None else format_number(value)
    if bold:
        text = f"**{text}**"
    spread = item.get("spread")
    if spread and None not in spread:
        text += f" ({format_number(spread[0])}\u2013{format_number(spread[1])})"
    return f"{item.get('what', '?')}: {text}"


def target_cell(row: dict) -> str:
    """The target and whether it was met."""
    if not row.get("target"):
        return "—"
    met = row.get("target_met")
    flag = "met" if met is True else "**NOT met**" if met is False else "not judged"
    return f"{row['target']}: {flag}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rounds(count) -> str:
    return f"{count} round" if count == 1 else f"{count if count is not None else '?'} rounds"


def _anchor(row: dict) -> str:
    return row["benchmark"].replace("_", "-")


def summary_line(row: dict) -> str:
    """One line of the summary table: title, headline ratio, target."""
    ratios = row.get("ratios") or []
    headline = _cell(format_ratio(ratios[0])) if ratios else "—"
    stale = " (stale: from an earlier run)" if row.get("stale") else ""
    return (
        f"| [{_cell(row.get('title', row['benchmark']))}](#{_anchor(row)}){stale} | "
        f"{headline} | {_cell(target_cell(row))} |"
    )


def render_details(row: dict) -> "list[str]":
    """The section of one row: what it measures, the variants' medians, every ratio."""
    lines = [
        f'<a id="{_anchor(row)}"></a>',
        "",
        f"### {row.get('title', row['benchmark'])}",
        "",
        f"`{row['benchmark']}` from `{row.get('source', '?')}`, measured "
        f"{row.get('measured_at', '?')}, {_rounds(row.get('rounds'))}."
        + (" **Stale: from an earlier run.**" if row.get("stale") else ""),
        "",
        f"**What it measures:** {row.get('measures', '')}",
        "",
    ]
    variants = row.get("variants") or {}
    keys: list[str] = []
    for metrics in variants.values():
        keys.extend(key for key in metrics if key not in keys)
    if variants:
        lines.append("| variant (medians) | " + " | ".join(map(metric_label, keys)) + " |")
        lines.append("|---" * (len(keys) + 1) + "|")
        for name, metrics in variants.items():
            cells = [format_value(key, metrics[key]) if key in metrics else "" for key in keys]
            lines.append(f"| {_cell(name)} | " + " | ".join(map(_cell, cells)) + " |")
        lines.append("")
    for table in row.get("tables") or ():
        lines += [f"{table['title']}:", ""]
        lines.append("| " + " | ".join(map(_cell, table["columns"])) + " |")
        lines.append("|---" * len(table["columns"]) + "|")
        lines.extend("| " + " | ".join(map(_cell, cells)) + " |" for cells in table["rows"])
        lines.append("")
    if row.get("ratios"):
        lines.append("**Ratios:**")
        lines.append("")
        lines.extend(f"- {format_ratio(item)}" for item in row["ratios"])
        lines.append("")
    lines += [f"**Target:** {target_cell(row)}", ""]
    return lines


def render_markdown(
    rows: "list[dict]",
    missing: "dict[str, str]",
    machine: "dict | None",
    revision: dict,
    generated: str,
    problems: "list[str] | None" = None,
) -> str:
    """The whole of ``docs/benchmarks.md``: a summary table, then a section per row."""
    commit = revision.get("commit") or "unknown"
    dirty = " with local changes" if revision.get("dirty") else ""
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by bench/report.py from bench/results/*.json: do not edit by hand. -->",
        "",
        "Generated by `bench/report.py` (`make bench`) from `bench/results/*.json`; "
        "do not edit by hand. The same rows, with the machine, are in `bench/results.json`, "
        "and each script's file in `bench/results/` has every raw run.",
        "",
        f"- **Generated:** {generated}",
        f"- **Git revision:** `{commit}`{dirty}",
        f"- **Machine:** {describe_machine(machine)}",
        "",
        "Every comparison was measured side by side in one run: the variants interleaved "
        "(balanced Latin-square order), repeated, and the medians over the rounds are shown. "
        "A range in brackets after a ratio is the interquartile range of the paired "
        "(same-round) ratios unless the ratio says otherwise.",
        "",
        "| Benchmark | Headline ratio | Target |",
        "|---|---|---|",
    ]
    lines.extend(summary_line(row) for row in rows)
    present = {row["benchmark"] for row in rows}
    lines.extend(
        f"| `{key}` | {_cell(why)} | — |" for key, why in missing.items() if key not in present
    )
    lines.append("")
    if missing:
        lines += ["**Not run or stale:**", ""]
        lines.extend(f"- `{key}`: {why}" for key, why in missing.items())
        lines.append("")
    if problems:
        lines += ["**Problems while collecting:**", ""]
        lines.extend(f"- {_cell(problem)}" for problem in problems)
        lines.append("")
    lines += ["## The rows", ""]
    for row in rows:
        lines.extend(render_details(row))
    lines += [
        "Reproduce: `make bench` (about 8 minutes on a 2-core machine); each script also "
        "runs on its own, e.g. `.venv/bin/python bench/hygiene_overhead.py --quick`. "
        "See `bench/README.md`.",
        "",
    ]
    return "\n".join(lines)


def combined(
    rows: "list[dict]",
    missing: "dict[str, str]",
    machine: "dict | None",
    revision: dict,
    generated: str,
    problems: "list[str]",
) -> dict:
    """The content of ``bench/results.json``."""
    return {
        "generated": generated,
        "git": revision,
        "machine": machine,
        "required": list(REQUIRED),
        "missing": missing,
        "problems": problems,
        "rows": rows,
    }


# -- main ---------------------------------------------------------------------------------


def _iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")


def write_text(path: Path, text: str) -> None:
    """Write *text* to *path* through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def main(argv: "list[str] | None" = None) -> int:
    """Collect, write both outputs, print what is missing; 1 under --strict if any is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--json", type=Path, default=RESULTS_JSON, help="combined JSON out")
    parser.add_argument("--markdown", type=Path, default=MARKDOWN, help="Markdown table out")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a required row is missing or stale"
    )
    parser.add_argument(
        "--since-file",
        type=Path,
        default=None,
        help="rows from result files older than this file are stale "
        "(make bench touches build/.bench-started when it starts)",
    )
    args = parser.parse_args(argv)
    since = args.since_file.stat().st_mtime if args.since_file else None
    results = load_results(args.results_dir)
    rows, problems = collect_rows(results, since)
    missing = missing_required(rows)
    machine = newest_machine(results)
    revision = git_revision()
    generated = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    write_text(
        args.json,
        json.dumps(combined(rows, missing, machine, revision, generated, problems), indent=2)
        + "\n",
    )
    write_text(
        args.markdown, render_markdown(rows, missing, machine, revision, generated, problems)
    )
    print(f"{len(rows)} rows from {len(results)} result files -> {args.json}, {args.markdown}")
    for problem in problems:
        print(f"  problem: {problem}")
    for key, why in missing.items():
        print(f"  {'MISSING' if args.strict else 'missing'}: {key}: {why}", file=sys.stderr)
    if args.strict and missing:
        print(
            f"bench/report.py: {len(missing)} required row(s) missing after the run: "
            f"{', '.join(missing)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
