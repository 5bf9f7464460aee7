"""Shared fixtures. Loaded both in the venv (bpy module) and inside the blender binary.

tests/ is not a package: pytest puts it on sys.path, so `helpers` imports alike in every lane.
"""

# Imported first: Blender's own modules (addon_utils, bmesh, ...) become importable after bpy.
import signal

import bpy
import pytest
from helpers import paths

from leanroute.testing import pytest_plugin


def pytest_configure(config):
    """Load LeanRoute's pytest plugin where its entry point is not installed (inside blender)."""
    manager = config.pluginmanager
    if not manager.has_plugin("leanroute") and not manager.is_registered(pytest_plugin):
        manager.register(pytest_plugin, "leanroute")
    deliver_interrupt_signals()


def deliver_interrupt_signals() -> None:
    """Undo an inherited "ignore" of Ctrl+C, SIGTERM and SIGHUP for the tests and their children.

    A runner started in the background of a non-interactive shell inherits SIGINT ignored
    (under nohup, SIGHUP too), and so would every process a test starts; LeanRoute rightly
    keeps ignoring such signals, so the interrupt tests would see none. A handler (unlike an
    ignore) is reset to the default in a started program.
    """
    defaults = {signal.SIGINT: signal.default_int_handler}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_IGN:
            signal.signal(signum, defaults.get(signum, signal.SIG_DFL))


@pytest.fixture(scope="session")
def blender_binary() -> str:
    """The blender executable for subprocess tests (tests/lanes.py sets $BLENDER_EXECUTABLE)."""
    executable = paths.blender_executable()
    if executable is None:
        pytest.skip("no blender executable: set BLENDER_EXECUTABLE or put blender on PATH")
    return executable


@pytest.fixture
def factory_scene():
    """A fresh factory scene for the test; reset again afterwards."""
    from helpers.scene import factory_scene as reset

    reset()
    yield bpy.context.scene
    reset()


@pytest.fixture
def addon_scene():
    """A fresh factory scene with LeanRoute registered; unregistered and reset afterwards."""
    from helpers.addon import registered_on_factory_scene

    with registered_on_factory_scene() as scene:
        yield scene
