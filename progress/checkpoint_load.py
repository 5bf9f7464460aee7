"""Reading a checkpoint file that may be damaged, and moving a damaged one aside (no bpy).

A checkpoint can be truncated, emptied, overwritten with other bytes, or hand-edited into
the wrong shape. None of that may stop the batch with a Python exception, and none of it
may cost the finished work: :func:`read_checkpoint` says what is wrong in one phrase, and
:func:`move_aside` keeps the damaged file (and its journal) under a new name, so the batch
can start a new checkpoint and rebuild it from the outputs that are verifiably complete.
Only a checkpoint that cannot be *read* at all (no permission) is an error for the user.
"""

import json
import os
import stat
from pathlib import Path

from ..route.errors import LeanRouteError
from ..route.input_files import kind_of
from .record_check import checkpoint_problem, journal_change_problem

FORMAT = "leanroute-batch-checkpoint"


class CheckpointError(LeanRouteError):
    """A checkpoint that cannot be used for this batch."""


def present(path: Path) -> bool:
    """True when anything (a file, a folder, a broken link) has the name *path*."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise CheckpointError(f"{path}: cannot look at the checkpoint: {error.strerror}") from None
    return True


def _not_a_file(path: Path) -> "str | None":
    """Why *path* cannot hold a checkpoint (a folder, a FIFO, a link to nothing), or None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "it is a link to nothing"
    except OSError as error:
        raise CheckpointError(f"{path}: cannot look at the checkpoint: {error.strerror}") from None
    return None if stat.S_ISREG(mode) else f"it is {kind_of(mode)}, not a file"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(raw: bytes) -> "tuple[object, str | None]":
    """The JSON value in *raw*, or why there is none (never an exception)."""
    if not raw.strip():
        return None, "the file is empty"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"it is not UTF-8 text (byte {error.start})"
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return None, f"it is not valid JSON ({where}: {error.msg})"
    except (ValueError, RecursionError) as error:  # NaN, a 5,000-digit number, deep nesting
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        return None, f"it is not valid JSON ({reason})"


def read_checkpoint(path: Path) -> "tuple[dict | None, str | None]":
    """The checkpoint's data, or None and what is wrong with the file.

    Raises :class:`CheckpointError` only when the file cannot be read at all (permissions):
    that is for the user to fix, not damage to repair.
    """
    problem = _not_a_file(path)
    if problem:
        return None, problem
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise CheckpointError(
            f"{path}: cannot read the checkpoint ({error.strerror}); check its permissions"
        ) from None
    data, problem = parse_json(raw)
    if problem is None:
        problem = checkpoint_problem(data)
    if problem is None and data.get("format") != FORMAT:
        problem = f"it is not a LeanRoute batch checkpoint (format {data.get('format')!r})"
    journal = journal_path(path)
    if problem is None and present(journal):
        kind = _not_a_file(journal)
        if kind:
            problem = f"its journal {journal.name}: {kind}"
    return (data, None) if problem is None else (None, problem)


def journal_path(path: Path) -> Path:
    """The journal of changes beside the checkpoint *path*."""
    path = Path(path)
    return path.with_name(f"{path.stem}.journal.jsonl")


def read_journal(path: Path, since: int) -> "list[dict]":
    """The journal's changes newer than sequence number *since*, in order.

    A line that is not a whole, well-formed change (torn by a kill mid-write, edited by
    hand) never completed as far as the batch knows, and is skipped.
    """
    try:
        raw = journal_path(path).read_bytes()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise CheckpointError(
            f"{journal_path(path)}: cannot read the checkpoint journal ({error.strerror})"
        ) from None
    changes = []
    for line in raw.split(b"\n"):
        change, problem = parse_json(line)
        if problem is None and journal_change_problem(change) is None and change["seq"] > since:
            changes.append(change)
    return changes


def move_aside(path: Path) -> Path:
    """Keep the checkpoint *path* (and its journal) as ``<stem>.corrupt-N<suffix>``.

    N is the first number free for both, so an earlier damaged checkpoint kept the same way
    is never overwritten. A regular file gets its new name as a second link and keeps the
    old one until the rebuilt checkpoint replaces it (atomically): a kill while the batch
    rebuilds leaves the damaged file where it was, to be kept and rebuilt again, never no
    checkpoint at all. Anything else (a folder, a FIFO) is renamed. Returns the new path.
    """
    path, journal = Path(path), journal_path(path)
    number = 1
    while True:
        aside = path.with_name(f"{path.stem}.corrupt-{number}{path.suffix}")
        journal_aside = journal.with_name(f"{journal.stem}.corrupt-{number}{journal.suffix}")
        if not (present(aside) or present(journal_aside)):
            break
        number += 1
    try:
        _keep(journal, journal_aside)  # first: the checkpoint's own name is what says "damaged"
        _keep(path, aside)
    except OSError as error:
        raise CheckpointError(
            f"{path}: the checkpoint is damaged and cannot be moved aside ({error.strerror}); "
            "move it away yourself and run the command again"
        ) from None
    return aside


def _keep(path: Path, aside: Path) -> None:
    """Give *path* the name *aside* too (a link), or rename it when it cannot be linked."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        try:
            os.link(path, aside)
            return
        except OSError:  # no hard links here (some network or FAT file systems)
            pass
    os.rename(path, aside)
