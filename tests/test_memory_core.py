"""The plain-Python parts of memory/: units, figures, fits, budgets, peaks, reports."""

import gc
import threading
import time

import pytest

from leanroute.memory import growth, process_memory
from leanroute.memory.allocator_text import parse_statistics_memory
from leanroute.memory.budget import MemoryBudget, MemoryBudgetExceeded
from leanroute.memory.gc_policy import GCFreeze, GCPolicy, GCTuning
from leanroute.memory.heap_trim import return_memory_to_os, trim_supported
from leanroute.memory.peak import PeakWindow
from leanroute.memory.sampler import MemorySampler
from leanroute.memory.units import MIB, format_bytes, parse_size

pytestmark = pytest.mark.binary_compatible


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20 MB", 20 * MIB), ("1.5GiB", 1536 * MIB), ("512k", 512 * 1024), (1000, 1000)],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["lots", "20 parsecs", "-1 MB", ""])
def test_parse_size_says_what_it_expects(bad):
    with pytest.raises(ValueError, match="20 MB"):
        parse_size(bad)


def test_format_bytes():
    assert format_bytes(None) == "—"
    assert format_bytes(3 * MIB, signed=True) == "+3.0 MiB"
    assert format_bytes(-1536 * 1024) == "-1.5 MiB"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Collection | Cube | Verts:8 | Memory: 8.8 MiB | 5.0.1", int(8.8 * MIB)),
        ("Cube | Objects:1/3 | Memory: 9.1 MiB | 3.4.1", int(9.1 * MIB)),
        ("Memory: 1.2 GiB", int(1.2 * 1024 * MIB)),
        ("no memory here", None),
    ],
)
def test_allocator_figure_from_statistics_text(text, expected):
    assert parse_statistics_memory(text) == expected


def test_process_figures_are_plausible():
    rss, uss = process_memory.rss_bytes(), process_memory.uss_bytes()
    assert 10 * MIB < uss <= rss
    assert process_memory.available_bytes() > 0
    assert process_memory.peak_rss_bytes() >= rss - MIB


def test_proc_fallback_without_psutil(monkeypatch):
    with_psutil = process_memory.rss_bytes(), process_memory.uss_bytes()
    monkeypatch.setattr(process_memory, "psutil", None)
    assert process_memory.source() == "/proc"
    rss, uss = process_memory.rss_bytes(), process_memory.uss_bytes()
    assert abs(rss - with_psutil[0]) < 20 * MIB
    assert abs(uss - with_psutil[1]) < 20 * MIB
    assert process_memory.available_bytes() > 0


def test_heap_trim_reports_what_it_did():
    result = return_memory_to_os()
    assert result.supported == trim_supported()
    assert result.note


def test_kernel_peak_catches_what_sampling_misses():
    window = PeakWindow().open()
    start = process_memory.rss_bytes()
    blob = bytearray(200 * MIB)  # allocated and dropped between two samples
    del blob
    peak = window.close()
    if window.exact:
        assert peak >= start + 190 * MIB
    else:
        pytest.skip("no resettable kernel high-water mark on this system")


def test_nested_peak_windows_each_keep_their_maximum():
    outer = PeakWindow().open()
    blob = bytearray(150 * MIB)
    for index in range(0, len(blob), 4096):
        blob[index] = 1
    del blob
    inner = PeakWindow().open()  # resets the kernel mark: the outer must keep its peak
    inner_peak = inner.close()
    outer_peak = outer.close()
    assert outer_peak > inner_peak + 100 * MIB


def test_sampler_samples_watches_and_stops():
    seen = []
    with MemorySampler(0.005) as sampler:
        sampler.add_watcher(seen.append)
        time.sleep(0.1)
    assert not sampler.running
    assert sampler.samples >= 5
    assert len(seen) >= 5
    assert len(sampler.timeline()) == sampler.samples
    threads = [t.name for t in threading.enumerate()]
    assert "leanroute-memory-sampler" not in threads


def test_sampler_timeline_is_bounded():
    sampler = MemorySampler(0.001, max_points=16)
    for _ in range(100):
        sampler.sample_now()
    assert len(sampler.timeline()) <= 16


def test_fitted_slope():
    assert growth.fitted_slope([0, 2, 4, 6]) == pytest.approx(2)
    assert growth.fitted_slope([5, 5, 5]) == 0
    assert growth.fitted_slope([3]) == 0


def test_judge_tolerates_noise_and_flags_growth():
    report = growth.LeakCheckReport(
        4, rss=[100 * MIB, 101 * MIB, 100 * MIB, 100 * MIB], blender=[0, 0, 0, 0]
    )
    growth.judge(report)
    assert report.verdict == "flat"
    report.rss = [100 * MIB, 110 * MIB, 120 * MIB, 130 * MIB]
    growth.judge(report)
    assert report.verdict == "growing"
    assert "rss grows 10.0 MiB per run" in report.reasons[0]


def test_budget_error_names_stage_limit_figure_and_advice():
    error = MemoryBudgetExceeded("roads", 2048 * MIB, 2100 * MIB, how="hard='2 GB'")
    assert isinstance(error, MemoryError)
    text = str(error)
    assert "stage 'roads'" in text
    assert "2.1 GiB" in text and "2.0 GiB" in text
    assert "Try" in text


def test_budget_validation():
    with pytest.raises(ValueError, match="hard_fraction"):
        MemoryBudget(hard_fraction=1.5)
    with pytest.raises(ValueError, match="20 MB"):
        MemoryBudget(soft="much")
    resolved = MemoryBudget(hard="1 GB", hard_fraction=0.9).resolve(100, 10 * 1024 * MIB)
    assert resolved.hard == 1024 * MIB


def test_gc_tuning_and_freeze_are_undone():
    thresholds = gc.get_threshold()
    with GCTuning(GCPolicy(mode="tuned", thresholds=(1234, 5, 6))):
        assert gc.get_threshold() == (1234, 5, 6)
    assert gc.get_threshold() == thresholds
    with GCFreeze(True) as freeze:
        assert freeze.frozen
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(ValueError, match="mode"):
        GCPolicy(mode="aggressive")
