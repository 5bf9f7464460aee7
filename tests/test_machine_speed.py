"""bench/machine_speed.py: the speed probe's states and the slowdown fit, on synthetic data.

Plain Python: the module needs no bpy, and nothing here runs a build.
"""

import os

import pytest
from helpers.bench_scripts import load_bench_module


@pytest.fixture(scope="module")
def speed():
    return load_bench_module("machine_speed")


def probe_times(fast: int, slow: int) -> list:
    """Probe times in seconds: *fast* of about 100 µs and *slow* of about 190 µs."""
    return [100e-6 + (i % 7) * 1e-6 for i in range(fast)] + [
        190e-6 + (i % 5) * 1e-6 for i in range(slow)
    ]


def test_two_speeds_are_found_and_mapped_to_zero_and_one(speed):
    states = speed.speed_states(probe_times(60, 40))
    assert states.fast_s == pytest.approx(103e-6, rel=0.02)
    assert states.slow_s == pytest.approx(192e-6, rel=0.02)
    assert states.slowness(90e-6) == 0.0
    assert states.slowness(states.slow_s) == 1.0
    assert states.slowness(500e-6) == 1.0
    middle = (states.fast_s + states.slow_s) / 2
    assert states.slowness(middle) == pytest.approx(0.5)


def test_one_speed_makes_every_interval_fast(speed):
    # Jitter of a few per cent is one state, not two.
    states = speed.speed_states(probe_times(100, 0))
    assert states.slowness(states.fast_s * 1.1) == 0.0
    assert speed.speed_states([]).slowness(1.0) == 0.0


def test_slow_fractions_of_intervals(speed):
    # Fast for the first second, slow for the next, a sample every 20 ms.
    samples = [(i * 0.02, 100e-6 if i < 50 else 190e-6) for i in range(100)]
    fractions = speed.SlowFractions(list(reversed(samples)))  # order does not matter
    assert fractions.between(0.0, 0.99) == pytest.approx(0.0, abs=0.01)
    assert fractions.between(1.0, 2.0) == pytest.approx(1.0, abs=0.01)
    assert fractions.between(0.5, 1.5) == pytest.approx(0.5, abs=0.02)
    # Shorter than the period: the sample before its end stands for it.
    assert fractions.between(1.501, 1.502) == pytest.approx(1.0, abs=0.01)
    assert speed.SlowFractions([]).between(0.0, 1.0) == 0.0


def test_the_fit_recovers_the_slowdown_and_full_speed_times(speed):
    slowdown = 1.8
    truth = {"fixed": 0.1, "small": 0.16, "large": 5.7}
    groups = {}
    for name, seconds in truth.items():
        slow = [0.0, 0.1, 0.35, 0.5, 0.8, 1.0] if name != "large" else [0.6]
        groups[name] = [(s, seconds * (1 + (slowdown - 1) * s)) for s in slow]
    found, estimates = speed.fit_slowdown(groups)
    assert found == pytest.approx(slowdown, abs=0.011)
    for name, seconds in truth.items():
        assert estimates[name] == pytest.approx(seconds, rel=0.01)
    assert speed.full_speed(2.8, 1.0, 1.8) == pytest.approx(2.8 / 1.8)


def test_without_slow_time_the_fit_changes_nothing(speed):
    found, estimates = speed.fit_slowdown({"a": [(0.0, 1.0), (0.0, 1.2)], "b": [(0.0, 3.0)]})
    assert found == 1.0
    assert estimates == {"a": pytest.approx(1.1), "b": 3.0}


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only")
def test_the_probe_samples_in_a_thread_and_stops(speed):
    import time

    with speed.SpeedProbe(period_s=0.001, size=1024) as probe:
        time.sleep(0.05)
    count = len(probe.samples)
    assert count >= 5
    assert all(seconds > 0 for _, seconds in probe.samples)
    time.sleep(0.01)
    assert len(probe.samples) == count  # the thread has stopped
