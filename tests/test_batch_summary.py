"""memory_growth() measures per-job growth within one process; compare() what hygiene saved."""

import pytest

from leanroute.memory.units import MIB
from leanroute.progress.batch_summary import (
    compare,
    compare_reports,
    memory_growth,
    process_runs,
    summary_lines,
)


def job(index, after, *, before=None, peak=None, pid=1, sequence=None, status="done", blender=0):
    """A job record whose settled RSS is *after* MiB (Blender's allocator: *blender* MiB)."""
    before = after if before is None else before
    peak = max(before, after) + 20 if peak is None else peak

    def figures(b, p, a):
        return {"before": int(b * MIB), "peak": int(p * MIB), "after": int(a * MIB)}

    return {
        "id": f"job-{index:02d}",
        "row": index + 1,
        "status": status,
        "reason": "" if status == "done" else "boom",
        "attempts": 1,
        "process": {"pid": pid, "sequence": index if sequence is None else sequence},
        "metrics": {
            "seconds": 0.5,
            "rss": figures(before, peak, after),
            "blender": figures(blender, blender + 10, blender),
            "stages": [],
        },
    }


def linear_run(n, *, start=300, per_job=2.0, warm_up=85.0, pid=1):
    """*n* jobs: the first warms up by *warm_up* MiB, then RSS grows *per_job* MiB a job."""
    records = [job(0, start, before=start - warm_up, pid=pid)]
    for k in range(1, n):
        after = start + per_job * k
        records.append(job(k, after, before=after - per_job, pid=pid))
    return records


def test_slope_is_recovered_exactly_on_linear_data():
    summary = memory_growth(linear_run(20, per_job=2.0))
    rss = summary["rss"]
    assert summary["jobs"] == 20
    assert summary["processes"] == 1
    assert summary["measured_jobs"] == 20
    assert rss["per_job"] == pytest.approx(2 * MIB)
    assert rss["first_job"] == 85 * MIB
    assert rss["total"] == (85 + 2 * 19) * MIB
    assert rss["first_after"] == 300 * MIB
    assert rss["last_after"] == (300 + 38) * MIB
    assert rss["per_job_vs_first"] == pytest.approx(2 / 85)


def test_flat_data_grows_nothing_and_the_warm_up_stays_apart():
    summary = memory_growth(linear_run(10, per_job=0.0, warm_up=120.0))
    assert summary["rss"]["per_job"] == pytest.approx(0.0)
    assert summary["rss"]["first_job"] == 120 * MIB
    assert summary["blender"]["per_job"] == pytest.approx(0.0)


def test_warm_up_does_not_tilt_the_slope():
    # A large first-job jump followed by a flat line: a fit over all jobs would show growth.
    records = linear_run(5, per_job=0.0, warm_up=500.0)
    records[0]["metrics"]["rss"]["after"] = int(100 * MIB)  # far below the rest
    assert memory_growth(records)["rss"]["per_job"] == pytest.approx(0.0)


def test_two_jobs_use_their_difference_one_job_has_no_figure():
    two = memory_growth(linear_run(2, per_job=3.0))
    assert two["rss"]["per_job"] == pytest.approx(3 * MIB)
    one = memory_growth(linear_run(1))
    assert one["rss"]["per_job"] is None
    assert one["rss"]["per_job_vs_first"] is None
    assert one["rss"]["first_job"] == 85 * MIB


def test_the_longest_process_run_is_measured_and_peak_covers_all():
    short = linear_run(3, per_job=10.0, pid=11)
    short[1]["metrics"]["rss"]["peak"] = int(2000 * MIB)
    long = linear_run(6, per_job=1.0, pid=22)
    summary = memory_growth(short + long)
    assert summary["processes"] == 2
    assert summary["measured_jobs"] == 6
    assert summary["measured_pid"] == 22
    assert summary["rss"]["per_job"] == pytest.approx(1 * MIB)
    assert summary["rss"]["peak"] == int(2000 * MIB)


def test_ties_measure_the_first_run_and_a_reused_pid_starts_a_new_run():
    first = linear_run(3, per_job=4.0, pid=5)
    second = linear_run(3, per_job=1.0, pid=5)  # same pid, sequence restarts at 0
    assert len(process_runs(first + second)) == 2
    assert memory_growth(first + second)["rss"]["per_job"] == pytest.approx(4 * MIB)


def test_failed_and_metric_less_records_are_left_out():
    records = linear_run(4, per_job=1.0)
    records.insert(2, {"id": "broken", "status": "failed", "process": {}, "metrics": {}})
    records[1]["status"] = "failed"
    summary = memory_growth(records)
    assert summary["jobs"] == 3
    assert summary["processes"] == 1


def test_missing_figures_give_none_not_errors():
    records = linear_run(5)
    for record in records:
        record["metrics"]["blender"] = {"before": None, "peak": None, "after": None}
    del records[0]["metrics"]["rss"]
    summary = memory_growth(records)
    assert summary["blender"] == {
        "first_job": None,
        "per_job": None,
        "per_job_vs_first": None,
        "total": None,
        "peak": None,
        "first_after": None,
        "last_after": None,
    }
    assert summary["rss"]["first_job"] is None
    assert summary["rss"]["per_job"] == pytest.approx(2 * MIB)
    lines = summary_lines(summary)
    assert any("Blender allocator n/a" in line for line in lines)


def test_no_records():
    summary = memory_growth([])
    assert summary["jobs"] == 0
    assert summary["rss"]["per_job"] is None
    assert summary_lines(summary) == ["memory: no finished jobs, no memory figures"]


def test_compare_is_positive_when_hygiene_used_less_in_decimal_mb():
    hygiene = memory_growth(linear_run(10, per_job=0.0))
    baseline = memory_growth(linear_run(10, per_job=5.0))
    result = compare(hygiene, baseline)
    saved = result["memory_usage_reduction_mb"]
    assert saved == result["rss"]
    assert saved["growth_per_job"] == round(5 * MIB / 1e6, 2) == 5.24
    assert saved["total_growth"] == round(45 * MIB / 1e6, 2)
    assert saved["peak"] == round(45 * MIB / 1e6, 2)
    assert result["blender"]["growth_per_job"] == 0.0
    assert compare(baseline, hygiene)["rss"]["growth_per_job"] == -5.24


def test_compare_with_missing_figures():
    empty = memory_growth([])
    result = compare(empty, memory_growth(linear_run(3)))
    assert result["rss"] == {"peak": None, "growth_per_job": None, "total_growth": None}


def report(records, *, hygiene=True):
    return {"batch": {"hygiene": hygiene, "mode": "in-process"}, "jobs": records}


def test_compare_reports_of_matching_runs():
    result = compare_reports(
        report(linear_run(8, per_job=0.0)), report(linear_run(8, per_job=2.0), hygiene=False)
    )
    assert result["jobs_compared"] == 8
    assert "warning" not in result
    assert result["memory_usage_reduction_mb"]["growth_per_job"] == pytest.approx(2.1, abs=0.01)


def test_compare_reports_warns_about_a_hygiene_baseline():
    result = compare_reports(report(linear_run(4)), report(linear_run(4), hygiene=True))
    assert "not a --no-hygiene run" in result["warning"]


def test_compare_reports_compares_only_common_ids():
    ours = linear_run(6, per_job=0.0)
    theirs = linear_run(8, per_job=1.0)  # two more jobs
    theirs[0]["id"] = "renamed"  # and job-00 renamed: 4 ids in only one report
    result = compare_reports(report(ours), report(theirs, hygiene=False))
    assert result["jobs_compared"] == 5
    assert "4 job ids in only one of the reports" in result["warning"]


def test_summary_lines_read_well():
    summary = memory_growth(linear_run(20, start=300, per_job=0.1, warm_up=85.2))
    lines = summary_lines(summary)
    assert lines[0] == (
        "memory: RSS after each job +0.1 MiB/job over jobs 2-20 "
        "(first job +85.2 MiB warm-up; 0.1 % of it)"
    )
    assert lines[1] == "memory: Blender allocator +0.0 MiB/job (first job +0.0 MiB)"
    assert lines[2].startswith("memory: peak RSS 322 MiB")


def test_summary_lines_with_a_comparison_and_its_warning():
    summary = memory_growth(linear_run(5, per_job=0.0))
    comparison = compare_reports(
        report(linear_run(5, per_job=0.0)), report(linear_run(5, per_job=10.0), hygiene=True)
    )
    lines = summary_lines(summary, comparison)
    assert lines[-2].startswith(
        "memory saved vs no-hygiene baseline: peak 41.9 MB, growth 10.5 MB/job"
    )
    assert lines[-1].startswith("memory comparison warning: the baseline")


def test_summary_lines_for_one_job_and_several_processes():
    one = summary_lines(memory_growth(linear_run(1)))
    assert one[0] == "memory: RSS after each job: one job: no growth figure (first job +85.0 MiB)"
    several = summary_lines(memory_growth(linear_run(2, pid=1) + linear_run(4, pid=2)))
    assert "over jobs 2-4 of the longest of 2 processes" in several[0]


def test_every_process_start_gets_its_own_run_id_even_within_one_second():
    # The circuit breaker's restart execs the same command: same pid, maybe the same second.
    from leanroute.batch.job_runner import JobRunner

    runs = {JobRunner().process["run"] for _ in range(50)}
    assert len(runs) == 50


def test_another_run_id_starts_a_new_process_run():
    first = linear_run(2, pid=7)
    second = linear_run(2, pid=7)
    for k, record in enumerate(second):
        record["process"]["sequence"] = 2 + k  # nothing but the run id tells them apart
    for record in first:
        record["process"]["run"] = "7-1-aa"
    for record in second:
        record["process"]["run"] = "7-2-bb"
    assert len(process_runs(first + second)) == 2
