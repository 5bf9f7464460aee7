"""Ctrl+C, SIGTERM, SIGHUP during a build: raised only where it can roll back (no bpy).

Python's own Ctrl+C raises KeyboardInterrupt at whatever instruction runs: inside Blender's
start-up (a crash), inside a Python callback Blender calls (Blender prints the traceback and
carries on), in the middle of a rollback. The command line installs :func:`signals_handled`
instead: a signal is recorded, and :class:`Interrupted` is raised in the main thread only

- inside an :func:`interruptible` region (a stage's body, the command line's own work),
  unless a :func:`deferred` one inside it (the build's bookkeeping between stages,
  renaming the outputs into place) is open: the innermost region decides,
- while no exception is being handled (a failing build is already rolling back),
- when the innermost Python frame is LeanRoute's own code (not a callback Blender runs).

Until then a helper thread re-delivers the signal every few milliseconds, so it lands at the
next such moment; :func:`raise_if_interrupted` is an explicit one. Without
:func:`signals_handled` (the N-panel, tests calling a build directly) regions cost a counter
and change nothing.
"""

import _thread
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

#: The signals handled, and the exit code each ends a command with (128 + the number).
EXIT_CODES = {signal.SIGINT: 130}
for _name, _code in (("SIGTERM", 143), ("SIGHUP", 129)):  # SIGHUP: the terminal closed
    if hasattr(signal, _name):
        EXIT_CODES[getattr(signal, _name)] = _code

#: How often a signal that could not be raised yet is delivered again (seconds).
RETRY_SECONDS = 0.02

_THIS_FILE = os.path.abspath(__file__)
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(_THIS_FILE))
#: LeanRoute's own code: its sub-packages and top-level modules, not whatever else is in the
#: folder (a checkout's virtual environment holds Blender's scripts; its tests).
_OWN_FOLDERS = tuple(
    entry.path + os.sep
    for entry in os.scandir(_PACKAGE_ROOT)
    if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "__init__.py"))
)
_OWN_FILES = frozenset(os.path.join(_PACKAGE_ROOT, name) for name in ("__init__.py", "__main__.py"))


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread for a SIGINT (Ctrl+C), SIGTERM or SIGHUP."""

    def __init__(self, signum: int):
        self.signum = signum
        #: The outputs already in place when it was raised (after the build's commit).
        self.saved: tuple = _state.saved
        super().__init__(describe_signal(signum))

    @property
    def exit_code(self) -> int:
        """130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP (the shell's 128 + its number)."""
        return EXIT_CODES.get(self.signum, 128 + int(self.signum))


def describe_signal(signum: int) -> str:
    """``Ctrl+C (SIGINT)`` or ``SIGTERM``: how a user knows the signal."""
    name = signal.Signals(signum).name
    return "Ctrl+C (SIGINT)" if signum == signal.SIGINT else name


class _State:
    """The process's signal state (the handler runs in the main thread only)."""

    def __init__(self):
        self.installed = 0
        self.signum: int | None = None
        self.closed = False
        #: The open regions, innermost last: True interruptible, False deferred.
        self.regions: list[bool] = []
        #: Outputs renamed into place (:func:`note_saved`): a later signal stops nothing.
        self.saved: tuple = ()
        self.previous: dict[int, object] = {}
        self.stop_retry = threading.Event()
        self.retry: threading.Thread | None = None


_state = _State()


def received() -> "int | None":
    """The first signal received since :func:`signals_handled` began, or None."""
    return _state.signum


def note_saved(paths) -> None:
    """Record outputs now complete in place; an :class:`Interrupted` from now on names them."""
    if _on_main_thread():
        _state.saved = (*_state.saved, *paths)


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` now if a handled signal has arrived (an explicit safe point)."""
    if _state.signum is not None and not _state.closed and _on_main_thread():
        raise Interrupted(_state.signum)


@contextlib.contextmanager
def signals_handled(*, restore: bool = True) -> Iterator[None]:
    """Handle the signals of :data:`EXIT_CODES` as the module's docstring describes.

    Only in the main thread; a signal the process was started with ignored (a background
    job of a non-interactive shell ignores SIGINT) stays ignored. Nested uses share the
    outermost one, which afterwards puts the previous handlers back, or with
    ``restore=False`` (a launcher, whose process exits next) ignores them: the command's
    outcome is decided, and a late signal must not cut the exit short or kill the
    process. Blender's own handler cannot be put back: ours stays, only recording.
    """
    if not _on_main_thread():
        yield
        return
    state = _state
    state.installed += 1
    if state.installed == 1:
        state.signum, state.closed, state.saved = None, False, ()
        state.stop_retry.clear()
        for signum in EXIT_CODES:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue
            state.previous[signum] = previous
            signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        state.installed -= 1
        if state.installed == 0:
            finish()
            for signum, previous in state.previous.items():
                if not restore:
                    # Ignored, not left to our handler: at its exit Python resets its own
                    # handlers to the default (a late signal would kill), not an ignore.
                    signal.signal(signum, signal.SIG_IGN)
                elif previous is not None:  # None: Blender's own, which cannot be put back
                    signal.signal(signum, previous)
            state.previous.clear()


def finish() -> None:
    """The command's outcome is decided: later signals are recorded, never raised."""
    _state.closed = True
    _state.stop_retry.set()
    retry = _state.retry
    if retry is not None and retry is not threading.current_thread():
        retry.join()
        # Its last delivery may still be pending: let it reach our (now recording) handler,
        # not the one put back next. Entering a Python function runs pending handlers.
        _run_pending_handlers()
    _state.retry = None


def _run_pending_handlers() -> None:
    """Nothing: calling it lets Python run the signal handlers that are pending."""


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """A region where a handled signal raises :class:`Interrupted` (checked on entry too)."""
    if not _on_main_thread():
        yield
        return
    _state.regions.append(True)
    try:
        raise_if_interrupted()
        yield
    finally:
        _state.regions.pop()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A region no handled signal interrupts (a commit); it stays pending for later."""
    if not _on_main_thread():
        yield
        return
    _state.regions.append(False)
    try:
        yield
    finally:
        _state.regions.pop()


@contextlib.contextmanager
def python_signals() -> Iterator[None]:
    """Python's own handling while inside: KeyboardInterrupt for SIGINT, SIGTERM ends it.

    For a command that handles KeyboardInterrupt itself (``batch``). Signals the process
    ignores stay ignored.
    """
    raise_if_interrupted()  # one already received is ours to report
    ours = {
        signum: signal.getsignal(signum)
        for signum in EXIT_CODES
        if _on_main_thread() and signal.getsignal(signum) is _on_signal
    }
    defaults = {signal.SIGINT: signal.default_int_handler}
    for signum in ours:
        signal.signal(signum, defaults.get(signum, signal.SIG_DFL))
    try:
        yield
    finally:
        for signum, handler in ours.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Hold the handled signals back (pending) while C code that must not be cut runs.

    For Blender's start-up (``import bpy``): a Python exception raised in its start-up
    scripts leaves it half initialised (it crashed). The threads it starts inherit the
    mask, so the signals are delivered to the main thread once released.
    """
    if not hasattr(signal, "pthread_sigmask") or not _on_main_thread():
        yield
        return
    held = set(EXIT_CODES)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        # Also deferred: another thread may take the signal and Python then runs the
        # handler in this one, between the start-up scripts' instructions.
        with deferred():
            yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# -- internals -------------------------------------------------------------------------


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_signal(signum: int, frame) -> None:
    state = _state
    if state.signum is None:
        state.signum = signum
    if state.closed:
        return
    if state.regions and state.regions[-1] and sys.exc_info()[1] is None and _is_own_code(frame):
        raise Interrupted(state.signum)
    _keep_delivering(state)


def _is_own_code(frame) -> bool:
    # Not this module's own bookkeeping, and not a callback Blender runs (its scripts,
    # a user's handler): an exception raised there would be printed and dropped.
    if frame is None:
        return False
    path = os.path.abspath(frame.f_code.co_filename)
    return path != _THIS_FILE and (path.startswith(_OWN_FOLDERS) or path in _OWN_FILES)


def _keep_delivering(state: _State) -> None:
    if state.retry is not None and state.retry.is_alive():
        return
    state.retry = threading.Thread(
        target=_redeliver, args=(state,), name="leanroute-interrupt", daemon=True
    )
    state.retry.start()


def _redeliver(state: _State) -> None:
    while not state.stop_retry.wait(RETRY_SECONDS):
        if state.closed or state.signum is None:
            return
        # Runs the handler again in the main thread at its next instruction.
        _thread.interrupt_main(state.signum)
