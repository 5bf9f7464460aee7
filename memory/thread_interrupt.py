"""Raise an exception in another thread at its next Python instruction, or cancel that.

This is how Ctrl-C reaches a running script, and the only way a sampler thread can stop a
runaway loop in the main thread. It takes effect between Python instructions: a single
long C call (one huge ``from_pydata``) finishes first.
"""

import ctypes

# Two prototypes of the same C function: one passes an exception class, one passes NULL.
_raise = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)
_clear = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)


def raise_in_thread(thread_id: int, exc_type: type[BaseException]) -> bool:
    """Schedule *exc_type* (a class) in the thread *thread_id*; True if it was found."""
    return _raise(thread_id, exc_type) == 1


def cancel_pending(thread_id: int) -> None:
    """Drop an exception scheduled by :func:`raise_in_thread` that has not fired yet."""
    _clear(thread_id, None)
