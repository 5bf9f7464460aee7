"""timeline_svg() draws a well-formed memory timeline of any number of jobs."""

import xml.etree.ElementTree as ET

from leanroute.memory.units import MIB
from leanroute.progress.timeline_chart import nice_ticks, timeline_svg, write_timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
STAGES = ("parse", "route", "roads", "buildings")


def figures(before, peak, after):
    return {"before": int(before * MIB), "peak": int(peak * MIB), "after": int(after * MIB)}


def job(index, *, pid=1, sequence=None, status="done", job_id=None, rss=300.0, blender=20.0):
    """A job record with four stages, each peaking above the settled figures (MiB)."""
    stages = [
        {
            "name": name,
            "seconds": 0.1,
            "rss": figures(rss, rss + 40 + 10 * n, rss),
            "blender": figures(blender, blender + 30, blender),
        }
        for n, name in enumerate(STAGES)
    ]
    return {
        "id": job_id or f"job-{index:03d}",
        "row": index + 1,
        "status": status,
        "process": {"pid": pid, "sequence": index if sequence is None else sequence},
        "metrics": {
            "seconds": 0.4,
            "rss": figures(rss, rss + 70, rss),
            "blender": figures(blender, blender + 30, blender),
            "stages": stages,
        },
    }


def parse(text):
    return ET.fromstring(text)


def polylines(root):
    return {p.get("class"): p.get("points").split() for p in root.iter(f"{SVG}polyline")}


def all_text(root):
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_two_series_with_matching_points():
    root = parse(timeline_svg([job(i) for i in range(5)]))
    lines = polylines(root)
    assert set(lines) == {"rss", "blender"}
    # 4 stages x (before, peak, after) + the settled after, per job.
    assert len(lines["rss"]) == len(lines["blender"]) == 5 * (3 * 4 + 1)
    assert "MiB/job after the first" in all_text(root)


def test_new_process_is_marked():
    records = [job(0, pid=10), job(1, pid=10), job(2, pid=11, sequence=0), job(3, pid=11)]
    root = parse(timeline_svg(records))
    assert "new process" in all_text(root)
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "new-process"]) == 1
    assert "new process" not in timeline_svg([job(0), job(1)])


def test_job_ids_are_escaped_and_failed_jobs_shaded():
    records = [job(0, job_id="A&B <north>"), job(1, status="failed", job_id="x&y")]
    text = timeline_svg(records)
    assert "A&amp;B &lt;north&gt;" in text
    root = parse(text)
    assert "failed: x&y" in all_text(root)
    assert len([r for r in root.iter(f"{SVG}rect") if r.get("class") == "failed"]) == 1


def test_no_records_and_one_record():
    root = parse(timeline_svg([]))
    assert "no jobs yet" in all_text(root)
    root = parse(timeline_svg([job(0)]))
    assert len(polylines(root)["rss"]) == 13
    assert "one job: no growth figure" in all_text(root)


def test_missing_figures_are_skipped():
    records = [job(i) for i in range(3)]
    for record in records:
        record["metrics"]["blender"] = None
        for stage in record["metrics"]["stages"]:
            stage["blender"] = {"before": None, "peak": None, "after": None}
    records.append({"id": "never-started", "status": "failed", "process": {}, "metrics": {}})
    root = parse(timeline_svg(records))
    assert set(polylines(root)) == {"rss"}


def test_budget_line_when_given():
    highest = max(v for r in (job(0), job(1)) for v in r["metrics"]["rss"].values())
    root = parse(timeline_svg([job(0), job(1)], hard_budget=int(highest * 1.5)))
    assert any(p.get("class") == "hard-budget" for p in root.iter(f"{SVG}path"))
    assert "hard budget" in all_text(root)
    # A budget far above the figures would flatten them: named, not drawn.
    far = parse(timeline_svg([job(0), job(1)], hard_budget=100 * highest))
    assert not any(p.get("class") == "hard-budget" for p in far.iter(f"{SVG}path"))
    assert "off the scale" in all_text(far)
    plain = parse(timeline_svg([job(0), job(1)]))
    assert not any(p.get("class") == "hard-budget" for p in plain.iter(f"{SVG}path"))


def test_hundreds_of_jobs_stay_small(tmp_path):
    records = [job(i, pid=1 + i // 100, sequence=i % 100) for i in range(500)]
    records[250]["status"] = "failed"
    path = write_timeline_svg(tmp_path / "charts" / "timeline.svg", records, hard_budget=MIB * 900)
    assert path.stat().st_size < 200_000
    root = parse(path.read_text(encoding="utf-8"))
    lines = polylines(root)
    assert len(lines["rss"]) == len(lines["blender"])
    labels = [t for t in root.iter(f"{SVG}text") if "rotate(-45" in (t.get("transform") or "")]
    assert len(labels) <= 25
    assert [p.name for p in path.parent.iterdir()] == ["timeline.svg"]  # no temp file left


def test_nice_ticks_start_at_zero_and_cover_the_top():
    assert nice_ticks(412) == [0, 100, 200, 300, 400, 500]
    assert nice_ticks(0) == [0, 20, 40, 60, 80, 100]
    ticks = nice_ticks(3.3)
    assert ticks[0] == 0 and ticks[-1] >= 3.3
