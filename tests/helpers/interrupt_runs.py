"""Stop a LeanRoute command with a real signal and check what it left (tests of interrupts).

Two ways to pick the moment: ``LEANROUTE_TEST_KILL=POINT`` with ``LEANROUTE_TEST_SIGNAL``
makes the process signal itself at a named point (route/kill_points.py), exactly; or the
test sends the signal itself once the process has LeanRoute's handlers (its SIGTERM bit in
``/proc/PID/status`` SigCgt) plus a delay, which lands wherever the process then is.
"""

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: Names of temporaries: atomic files' ``.<stem>.tmp-<pid><suffix>``, Blender's ``…@``
#: while it saves, the sample city's ``sample.osm.<random>``.
TEMPORARY = re.compile(r"\..+\.tmp-[0-9]+.*|.*@|.*\.osm\..+")

#: What a previous run left in the output folder: each must be byte-identical afterwards.
OLD_OUTPUTS = {
    "city.blend": b"BLENDER-v300 a previous build\n",
    "city.json": b'{"previous": "report"}\n',
}

INTERRUPTED_LINE = "{prog}: interrupted by {how}; the build was rolled back and nothing was written"
HOW = {signal.SIGINT: "Ctrl+C (SIGINT)", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
EXIT_CODE = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


@dataclass
class Run:
    """A finished run: its exit code and output."""

    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def signal_env(point: str, signum: int, env: "dict | None" = None) -> dict:
    """The environment that makes the process send itself *signum* at *point*."""
    return {
        **(env if env is not None else os.environ),
        "LEANROUTE_TEST_KILL": point,
        "LEANROUTE_TEST_SIGNAL": signal.Signals(signum).name,
    }


def run(command: list[str], env: "dict | None" = None, timeout: float = 300) -> Run:
    """Run *command* to its end."""
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr)


def run_and_signal(
    command: list[str],
    signum: int,
    *,
    delay: float = 0.0,
    repeat_every: "float | None" = None,
    env: "dict | None" = None,
    timeout: float = 300,
    wait_for_handlers: bool = True,
) -> Run:
    """Start *command*, wait until it handles signals itself, wait *delay*, then signal it.

    With *repeat_every* the signal is sent again at that interval until the process ends
    (a user pressing Ctrl+C over and over, a second one during the rollback). Without
    *wait_for_handlers* the delay counts from the start (for code that has none).
    """
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + timeout
        while wait_for_handlers and not _handles_sigterm(process.pid) and process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command[0]} never installed its signal handlers")
            time.sleep(0.005)
        time.sleep(delay)
        while process.poll() is None:
            process.send_signal(signum)
            if repeat_every is None:
                break
            time.sleep(repeat_every)
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Run(process.returncode, stdout, stderr)


def _handles_sigterm(pid: int) -> bool:
    """True once the process catches SIGTERM: only LeanRoute's handler does (Linux /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


def leftovers(folder: Path) -> list[str]:
    """Temporaries anywhere under *folder* (atomic files', Blender's ``@``, sample city's)."""
    found = []
    for path in Path(folder).rglob("*"):
        if TEMPORARY.fullmatch(path.name):
            found.append(str(path))
    return found


def assert_interrupted(
    done: Run, signum: int, prog: str, folder: Path, before: "dict[str, bytes]"
) -> None:
    """Exit 130/143, exactly the one line, and *folder* holding exactly *before*, unchanged."""
    assert done.returncode == EXIT_CODE[signum], done
    line = INTERRUPTED_LINE.format(prog=prog, how=HOW[signum])
    assert done.stderr.strip().splitlines() == [line], done
    assert "Traceback" not in done.stdout + done.stderr, done
    assert snapshot(folder) == before, done
    assert leftovers(folder) == [], done


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* (relative name: bytes); {} if it does not exist."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def old_outputs(folder: Path) -> dict[str, bytes]:
    """Write a previous run's outputs into *folder*; return the snapshot they make."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in OLD_OUTPUTS.items():
        (folder / name).write_bytes(data)
    return snapshot(folder)
