"""Admission of worker processes for --isolate --workers N (plain Python)."""

import dataclasses

import pytest

from leanroute.batch.admission import Admission, Decision
from leanroute.memory.units import parse_size

GIB = parse_size("1 GiB")
MIB = parse_size("1 MiB")


def _admission(peak=None, workers=4, margin=1.1):
    admission = Admission(workers, margin)
    admission.observe_peak(peak)
    return admission


def test_observe_peak_keeps_the_largest():
    admission = Admission(2)
    assert admission.largest_peak is None
    admission.observe_peak(None)
    assert admission.largest_peak is None
    admission.observe_peak(300 * MIB)
    admission.observe_peak(200 * MIB)
    admission.observe_peak(None)
    assert admission.largest_peak == 300 * MIB
    admission.observe_peak(500 * MIB)
    assert admission.largest_peak == 500 * MIB


def test_all_workers_busy():
    decision = _admission(peak=GIB, workers=2).decide([GIB, GIB], 100 * GIB)
    assert decision == Decision(False, "all 2 workers busy")


def test_with_no_worker_running_one_is_always_admitted():
    for peak in (None, 10 * GIB):
        for available in (None, 0, MIB):
            decision = _admission(peak=peak).decide([], available)
            assert decision.admit
            assert "no worker running" in decision.reason


def test_the_first_job_is_a_probe():
    decision = _admission(peak=None).decide([500 * MIB], 100 * GIB)
    assert not decision.admit
    assert "probe" in decision.reason


def test_unknown_memory_admits_up_to_the_workers():
    admission = _admission(peak=GIB, workers=3)
    decision = admission.decide([GIB], None)
    assert decision.admit
    assert "memory unknown" in decision.reason
    assert admission.decide([GIB, None], None).admit
    assert not admission.decide([GIB, None, GIB], None).admit


def test_reserve_is_what_running_workers_may_still_grow():
    admission = _admission(peak=GIB)
    # 624 MiB still to grow; one above the peak grows by nothing; unknown counts in full.
    assert admission.reserve([400 * MIB]) == 624 * MIB
    assert admission.reserve([2 * GIB]) == 0
    assert admission.reserve([None]) == GIB
    assert admission.reserve([400 * MIB, 2 * GIB, None]) == 624 * MIB + GIB


def test_admit_when_available_minus_reserve_covers_a_job():
    admission = _admission(peak=2 * GIB, margin=1.5)
    running = [GIB]  # reserve 1 GiB; a job may need 3 GiB
    assert admission.decide(running, 4 * GIB).admit  # exactly enough
    decision = admission.decide(running, 4 * GIB - 1)
    assert not decision.admit
    assert decision.reason == (
        "4.0 GiB available \u2212 1.0 GiB reserved for running jobs < 3.0 GiB a job may need"
    )
    assert admission.decide(running, 5 * GIB).reason == (
        "5.0 GiB available \u2212 1.0 GiB reserved for running jobs \u2265 3.0 GiB a job may need"
    )
    # Two running workers: both reserves count.
    assert not admission.decide([GIB, GIB], 4 * GIB).admit
    assert admission.decide([GIB, 2 * GIB], 4 * GIB).admit


def test_unknown_rss_of_a_running_worker_reserves_the_full_peak():
    admission = _admission(peak=GIB, margin=1.0)
    assert admission.decide([GIB], GIB).admit  # at its peak already: nothing reserved
    assert not admission.decide([None], GIB).admit  # it may still grow by a whole peak
    assert admission.decide([None], 2 * GIB).admit


def test_the_margin_scales_the_need():
    running = [GIB]  # at the peak: nothing reserved
    assert not _admission(peak=GIB).decide(running, GIB).admit  # needs 1.1 GiB
    assert _admission(peak=GIB, margin=1.0).decide(running, GIB).admit


def test_decision_is_frozen_and_arguments_are_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Decision(True, "x").admit = False
    with pytest.raises(ValueError, match="workers"):
        Admission(0)
    with pytest.raises(ValueError, match="margin"):
        Admission(2, margin=0)
