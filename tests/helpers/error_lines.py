"""Checks of the command line's error output: one line, no Python exception names."""

import re

#: Python exception names (and tracebacks) must never reach a user.
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback")


def assert_one_line(code: int, err: str, pieces, exit_code: int = 1) -> str:
    """*err* is one line holding every one of *pieces*, and *code* is *exit_code*."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == exit_code, err
    assert len(lines) == 1, err
    for piece in pieces:
        assert piece in lines[0], (piece, lines[0])
    assert not EXCEPTION_NAME.search(err), err
    return lines[0]
