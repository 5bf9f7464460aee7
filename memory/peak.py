"""Peak RSS over a window of time, from a sampler thread and the kernel's high-water mark.

A sampler thread needs the GIL, and Blender's C functions hold it, so a peak reached inside
one long C call (``from_pydata`` on a huge mesh) is invisible to sampling. On Linux the
kernel keeps the exact peak (VmHWM), resettable per process; when a window opens it resets
that mark, and every later reset first folds the mark into all open windows, so nested
windows each still see the true maximum over their own span.
"""

import threading

from .process_memory import peak_rss_bytes, reset_peak_rss, rss_bytes

_lock = threading.Lock()
_open_windows: "list[PeakWindow]" = []


class PeakWindow:
    """Tracks the maximum RSS between :meth:`open` and :meth:`close`."""

    def __init__(self, *, use_kernel_mark: bool = True):
        self.use_kernel_mark = use_kernel_mark
        self._kernel_mark_valid = False
        self._max = 0
        self.closed = False

    def open(self) -> "PeakWindow":
        """Start the window: fold and reset the kernel's mark, seed with current RSS."""
        with _lock:
            if self.use_kernel_mark:
                mark = peak_rss_bytes()
                for window in _open_windows:
                    window._observe_locked(mark)
                self._kernel_mark_valid = reset_peak_rss()
            _open_windows.append(self)
        self.observe(rss_bytes())
        return self

    def _observe_locked(self, value: "int | None") -> None:
        if value is not None and value > self._max:
            self._max = value

    def observe(self, value: "int | None") -> None:
        """Feed one RSS sample (from the sampler thread or the main thread)."""
        with _lock:
            self._observe_locked(value)

    @property
    def peak(self) -> int:
        """Highest RSS seen so far, including the kernel's mark when it is valid."""
        with _lock:
            if self._kernel_mark_valid and not self.closed:
                self._observe_locked(peak_rss_bytes())
            return self._max

    @property
    def exact(self) -> bool:
        """True when the kernel's mark covers the window (peaks inside C calls included)."""
        return self._kernel_mark_valid

    def close(self) -> int:
        """End the window and return its peak."""
        self.observe(rss_bytes())
        value = self.peak
        with _lock:
            if self in _open_windows:
                _open_windows.remove(self)
            self.closed = True
        return value


def observe_all(value: "int | None") -> None:
    """Feed one sample to every open window."""
    with _lock:
        for window in _open_windows:
            window._observe_locked(value)
