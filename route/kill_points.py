"""A test hook: SIGKILL this process at a named moment, to test what a kill leaves (no bpy).

Tests of "kill -9 at any moment, then resume" need the kill to land at exact moments
(a temporary written but not yet renamed, an output renamed but its record not yet
written), which a timer cannot hit reliably. With ``LEANROUTE_TEST_KILL`` set, the
process kills itself with SIGKILL the N-th time it reaches a named point:

    LEANROUTE_TEST_KILL=POINT[:GLOB][#N][,POINT[:GLOB][#N]…]

``GLOB`` is matched (fnmatch) against the point's subject: the final file name for the
file points, the stage or job id for the others; ``N`` counts from 1 (default 1). Points:

- ``temp-started``: a text temporary has been created, nothing written to it yet;
- ``temp-written``: a temporary is complete (a ``.blend`` saved), not yet renamed;
- ``renamed``: an output has just been renamed into place;
- ``claimed``: a batch job was claimed, not yet started;
- ``stage``: a batch job's stage is about to start (subject: the stage name);
- ``job-finished``: a batch job ended (its output in place), its record not yet written.

With ``LEANROUTE_TEST_SIGNAL`` set to a signal's name (``SIGINT``, ``SIGTERM``) the process
sends itself that signal instead and goes on: for tests of Ctrl+C at a named moment, where
the build stops at its next safe point (:mod:`.interrupts`). Points of ``build`` and ``demo``
only: ``arguments`` (parsing the command line), ``blender-start`` (importing ``bpy``),
``stage`` (before each stage), ``stage-end`` (each stage's body done), and the file points.

Without the variable :func:`reached` does nothing.
"""

import fnmatch
import os
import signal
import sys

ENVIRONMENT = "LEANROUTE_TEST_KILL"
SIGNAL_ENVIRONMENT = "LEANROUTE_TEST_SIGNAL"

#: How often each point has been reached in this process (only while the hook is set).
_reached: dict[str, int] = {}


def reached(point: str, subject: object = "") -> None:
    """Kill this process now if ``LEANROUTE_TEST_KILL`` names *point* (and *subject*)."""
    specs = os.environ.get(ENVIRONMENT)
    if specs and any(_due(spec, point, subject) for spec in specs.split(",")):
        sys.stdout.flush()
        sys.stderr.flush()
        chosen = os.environ.get(SIGNAL_ENVIRONMENT, "SIGKILL")
        os.kill(os.getpid(), getattr(signal, chosen, getattr(signal, "SIGKILL", signal.SIGTERM)))


def _due(spec: str, point: str, subject: object) -> bool:
    """True when *spec* (``POINT[:GLOB][#N]``) names *point* and *subject* for the N-th time."""
    wanted, _, count = spec.strip().partition("#")
    name, _, pattern = wanted.partition(":")
    if name != point:
        return False
    if pattern and not fnmatch.fnmatchcase(os.path.basename(str(subject)), pattern):
        return False
    _reached[spec] = _reached.get(spec, 0) + 1
    return _reached[spec] == (int(count) if count.isdigit() else 1)
