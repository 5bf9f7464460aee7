"""The size knob every self-made attack shares: ``LEANROUTE_FUZZ_SCALE`` (plain Python).

The fuzz tests run at scale 1 in CI (a fixed seed, a few minutes at most); ``make fuzz`` runs
them with a larger scale, which multiplies their case counts. The seed stays fixed, so a
larger scale adds cases and keeps every case of a smaller one.
"""

import os

SCALE_VARIABLE = "LEANROUTE_FUZZ_SCALE"


def fuzz_scale() -> int:
    """``$LEANROUTE_FUZZ_SCALE`` as a whole number >= 1 (1 when unset or empty)."""
    text = os.environ.get(SCALE_VARIABLE, "").strip()
    if not text:
        return 1
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"{SCALE_VARIABLE} must be a whole number >= 1, not {text!r}")
    return int(text)
