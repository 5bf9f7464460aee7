"""bench/report.py on synthetic result files: rows, missing rows, target flags, the table.

Plain Python: report.py needs no bpy, and nothing here runs a benchmark.
"""

import json
import os
from pathlib import Path

import pytest
from helpers.bench_scripts import load_bench_module


@pytest.fixture(scope="module")
def report():
    return load_bench_module("report")


MACHINE = {
    "platform": "Linux-6.1-x86_64",
    "cpu_count": 2,
    "usable_cpus": 2,
    "total_memory_bytes": 24 * 2**30,
    "python": "3.11.7",
    "python_implementation": "CPython",
    "blender": "5.0.1",
    "load_average": [0.5, 0.4, 0.3],
}


def row(report, benchmark, *, target=None, met=None, seconds=(1.0, 1.04)):
    return report.make_row(
        benchmark,
        f"Title of {benchmark}",
        f"What {benchmark} measures.",
        {
            "fast | variant": {"seconds": seconds[0], "peak_rss_mib": 48.0},
            "slow": {"seconds": seconds[1], "peak_rss_mib": 180.5, "jobs_per_min": 56.0},
        },
        [report.ratio("time, slow / fast", seconds[1] / seconds[0], (1.01, 1.07))],
        rounds=7,
        target=target,
        target_met=met,
    )


def write_result(folder: Path, name: str, rows: list, mtime: "float | None" = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": MACHINE, "rows": rows}))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_metric_keys_must_end_in_a_unit(report):
    assert report.unit_of("seconds") == "s"
    assert report.unit_of("parse_s") == "s"
    assert report.unit_of("peak_rss_mib") == "mib"
    assert report.unit_of("jobs_per_min") == "per_min"
    assert report.unit_of("overhead_percent") == "percent"
    assert report.unit_of("gen2_collections_count") == "count"
    assert report.unit_of("peak_rss") is None
    with pytest.raises(ValueError, match="peak_rss"):
        report.make_row("x", "t", "m", {"a": {"peak_rss": 1}}, [], rounds=3)


def test_metrics_are_shown_with_their_units(report):
    assert report.format_metric("seconds", 0.3125) == "time 312 ms"
    assert report.format_metric("parse_s", 2.5) == "parse 2.50 s"
    assert report.format_metric("peak_rss_mib", 180.54) == "peak rss 181 MiB"
    assert report.format_metric("jobs_per_min", 56.04) == "jobs 56.0/min"
    assert report.format_metric("overhead_percent", 3.456) == "overhead 3.46 %"
    assert report.format_metric("processes_count", 10.0) == "processes 10"
    assert report.format_metric("growth_count", 0.5) == "growth 0.50"
    assert report.format_metric("peak_rss_mib", None) == "peak rss n/a"


def test_a_row_without_a_target_is_not_judged(report):
    plain = row(report, "parse", met=True)
    assert plain["target"] is None and plain["target_met"] is None
    assert report.target_cell(plain) == "—"
    assert report.target_cell(row(report, "x", target="under 5 %", met=True)).endswith(": met")
    assert "NOT met" in report.target_cell(row(report, "x", target="under 5 %", met=False))


def test_missing_required_rows_are_listed_as_not_run(report, tmp_path):
    write_result(tmp_path, "parse", [row(report, "parse")])
    write_result(tmp_path, "extra", [row(report, "panel_refresh")])
    rows, problems = report.collect_rows(report.load_results(tmp_path))
    assert problems == []
    ids = [r["benchmark"] for r in rows]
    assert ids == ["parse", "panel_refresh"]  # required rows first, in REQUIRED's order
    assert rows[0]["source"] == "bench/results/parse.json"
    missing = report.missing_required(rows)
    assert set(missing) == set(report.REQUIRED) - {"parse"}
    assert all(why.startswith("not run") for why in missing.values())
    assert "bench/hygiene_overhead.py" in missing["hygiene_overhead"]


def test_rows_older_than_the_run_are_stale(report, tmp_path):
    write_result(tmp_path, "parse", [row(report, "parse")], mtime=1_000_000)
    write_result(tmp_path, "geometry", [row(report, "geometry")], mtime=3_000_000)
    rows, _ = report.collect_rows(report.load_results(tmp_path), since=2_000_000)
    stale = {r["benchmark"]: r["stale"] for r in rows}
    assert stale == {"parse": True, "geometry": False}
    missing = report.missing_required(rows)
    assert missing["parse"].startswith("stale")
    assert "geometry" not in missing


def test_duplicates_keep_the_newer_row_and_bad_files_are_problems(report, tmp_path):
    write_result(tmp_path, "old", [row(report, "parse", seconds=(1.0, 9.0))], mtime=1_000)
    write_result(tmp_path, "new", [row(report, "parse", seconds=(1.0, 2.0))], mtime=2_000)
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / ".partial.json").write_text("{")  # a write_json temporary: ignored
    rows, problems = report.collect_rows(report.load_results(tmp_path))
    assert [r["source"] for r in rows] == ["bench/results/new.json"]
    assert rows[0]["ratios"][0]["value"] == 2.0
    assert any("broken.json: unreadable" in p for p in problems)
    assert any("the newer one is kept" in p for p in problems)


def test_the_table_has_every_row_the_machine_and_the_missing(report):
    rows = [
        row(report, "hygiene_overhead", target="under 5 % overhead", met=True),
        row(report, "gc_tuning", target="faster", met=False),
    ]
    missing = report.missing_required(rows)
    text = report.render_markdown(
        rows,
        missing,
        MACHINE,
        {"commit": "abc123", "dirty": True},
        "2025-01-01T00:00:00+00:00",
        ["a problem"],
    )
    assert "Generated by `bench/report.py`" in text
    assert "2025-01-01T00:00:00+00:00" in text
    assert "`abc123` with local changes" in text
    assert "2 CPUs" in text and "24.0 GiB RAM" in text and "Blender 5.0.1" in text
    summary = [line for line in text.splitlines() if line.startswith("| [")]
    assert summary == [
        "| [Title of hygiene_overhead](#hygiene-overhead) | time, slow / fast: "
        "**1.04** (1.01\u20131.07) | under 5 % overhead: met |",
        "| [Title of gc_tuning](#gc-tuning) | time, slow / fast: **1.04** (1.01\u20131.07) | "
        "faster: **NOT met** |",
    ]
    for key in ("parse", "geometry", "rebuild_growth", "batch_throughput"):
        assert f"| `{key}` | not run" in text
    assert "- a problem" in text
    # each row's section: what it measures, a variants table with units, every ratio, target
    section = text[text.index("### Title of hygiene_overhead") :]
    section = section[: section.index("### Title of gc_tuning")]
    assert "**What it measures:** What hygiene_overhead measures." in section
    assert "| variant (medians) | time | peak rss | jobs |" in section
    assert "| fast \\| variant | 1.00 s | 48.0 MiB |  |" in section  # pipe escaped
    assert "| slow | 1.04 s | 180 MiB | 56.0/min |" in section
    assert "- time, slow / fast: **1.04** (1.01\u20131.07)" in section
    assert "**Target:** under 5 % overhead: met" in section
    assert "7 rounds" in section


def test_main_writes_both_files_and_is_strict_only_when_asked(report, tmp_path):
    results = tmp_path / "results"
    out_json, out_md = tmp_path / "results.json", tmp_path / "benchmarks.md"
    write_result(results, "parse", [row(report, "parse")])
    argv = ["--results-dir", str(results), "--json", str(out_json), "--markdown", str(out_md)]
    assert report.main(argv) == 0
    data = json.loads(out_json.read_text())
    assert data["machine"] == MACHINE
    assert [r["benchmark"] for r in data["rows"]] == ["parse"]
    assert set(data["missing"]) == set(report.REQUIRED) - {"parse"}
    assert "not run" in out_md.read_text()
    assert report.main([*argv, "--strict"]) == 1
    for key in report.REQUIRED:
        write_result(results, key, [row(report, key)])
    assert report.main([*argv, "--strict"]) == 0
    assert json.loads(out_json.read_text())["missing"] == {}
    marker = tmp_path / "started"
    marker.touch()
    os.utime(results / "parse.json", (0, 0))  # from before the run
    assert report.main([*argv, "--strict", "--since-file", str(marker)]) == 1


def test_a_rows_extra_tables_and_new_units_render(report):
    made = report.make_row(
        "scale",
        "Scale",
        "Full builds of generated cities.",
        {"1,000 buildings": {"time_per_building_net_ms": 0.0612, "peak_per_building_net_kib": 2.4}},
        [report.ratio("time per building, 100 k vs 1 k", 1.05)],
        rounds=3,
        tables=[
            {"title": "Per stage", "columns": ["stage", "1,000: s"], "rows": [["parse", "0.04"]]}
        ],
    )
    text = "\n".join(report.render_details(made))
    assert "| time per building net | peak per building net |" in text
    assert "0.0612 ms" in text and "2.40 KiB" in text
    assert "Per stage:\n\n| stage | 1,000: s |\n|---|---|\n| parse | 0.04 |" in text
    assert "tables" not in report.make_row("plain", "t", "m", {}, [], rounds=1)
