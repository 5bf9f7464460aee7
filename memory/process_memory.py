"""What the operating system says about this process's memory; never touches Blender.

psutil is used when it is importable (the extension bundles it). A legacy add-on on Blender
3.4-4.1 may run without it, so each figure falls back to Linux's /proc files, and to None
where neither source exists. Everything here is safe to call from a sampler thread.
"""

import os
import sys
from pathlib import Path

try:
    import psutil
except ImportError:  # legacy add-on without the bundled wheel
    psutil = None

try:
    import resource
except ImportError:  # Windows
    resource = None

_PROC_SELF = Path("/proc/self")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_process = None


def _psutil_process():
    # One Process object per process: psutil caches static details in it.
    global _process  # noqa: PLW0603 - a cache of an OS handle, not of Blender data
    if _process is None or _process.pid != os.getpid():
        _process = psutil.Process()
    return _process


def source() -> str:
    """Where the figures come from: ``"psutil"``, ``"/proc"`` or ``"none"``."""
    if psutil is not None:
        return "psutil"
    return "/proc" if (_PROC_SELF / "statm").exists() else "none"


def rss_bytes() -> "int | None":
    """Resident set size: the RAM this process occupies now (cheap; sampler-safe)."""
    if psutil is not None:
        return _psutil_process().memory_info().rss
    try:
        fields = (_PROC_SELF / "statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE_SIZE


def uss_bytes() -> "int | None":
    """Unique set size: memory that would be freed if this process exited (a few ms)."""
    if psutil is not None:
        try:
            return _psutil_process().memory_full_info().uss
        except (psutil.AccessDenied, AttributeError):
            return None
    try:
        text = (_PROC_SELF / "smaps_rollup").read_text()
    except OSError:
        return None
    kib = 0
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("Private_Clean", "Private_Dirty", "Private_Hugetlb"):
            kib += int(rest.split()[0])
    return kib * 1024


def peak_rss_bytes() -> "int | None":
    """The kernel's high-water mark of RSS (VmHWM), since start or the last reset."""
    try:
        for line in (_PROC_SELF / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    if resource is None:
        return None
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux and bytes on macOS.
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's VmHWM to the current RSS (Linux 4.0+); False where unsupported."""
    try:
        with open(_PROC_SELF / "clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _cgroup_headroom() -> "int | None":
    # Containers (CI runners, farm nodes) cap memory below what the machine has.
    candidates = (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    )
    for limit_path, usage_path in candidates:
        try:
            limit_text = Path(limit_path).read_text().strip()
            usage = int(Path(usage_path).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max" or int(limit_text) >= 1 << 60:
            return None
        return max(int(limit_text) - usage, 0)
    return None


def available_bytes() -> "int | None":
    """Memory the machine can still give this process, counting a container's limit."""
    available = None
    if psutil is not None:
        available = psutil.virtual_memory().available
    else:
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
        except OSError:
            pass
    headroom = _cgroup_headroom()
    if headroom is not None:
        available = headroom if available is None else min(available, headroom)
    return available


def total_bytes() -> "int | None":
    """Physical memory of the machine."""
    if psutil is not None:
        return psutil.virtual_memory().total
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGE_SIZE
    except (ValueError, OSError, AttributeError):
        return None


def rss_of(pid: int) -> "int | None":
    """RSS of another process (a batch worker), or None if it is gone or unreadable."""
    if psutil is not None:
        try:
            return psutil.Process(pid).memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return None


def started_at(pid: int) -> "float | None":
    """When process *pid* started (Unix time), or None if it is gone or that is unknown.

    Tells a process from an unrelated one that got the same pid later (the OS reuses pids).
    """
    if psutil is None:
        return None
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError, ValueError, OverflowError):
        return None
