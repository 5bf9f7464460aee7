# SPDX-License-Identifier: GPL-3.0-or-later
"""A strict JSON reader for files users write by hand: every refusal at its line and column.

Plain Python, no bpy. Python's ``json`` module accepts ``NaN``, ``Infinity`` and
``-Infinity``, keeps the last of two equal keys without a word, raises a ValueError naming no
position for an integer of over 4,300 digits and a RecursionError for deep nesting. This reader
(:func:`load_json`) is standard JSON (RFC 8259) with those holes closed, and raises one
:class:`JsonError` (a ValueError with ``line`` and ``column``, both 1-based) for:

- invalid JSON (what was expected, where), the text ending early;
- ``NaN``/``Infinity`` and any number that is not finite (``1e999``), an integer of more than
  :data:`.strict_numbers.MAX_INTEGER_DIGITS` digits;
- a key that appears twice in one object, at any depth (both positions named);
- a string holding ``\u0000`` or a lone surrogate (no path or name can hold one);
- nesting deeper than :data:`MAX_DEPTH` (it loops, it never recurses).

Objects come back as :class:`JsonObject` (a dict that also knows the line and column of
itself and of each key), arrays as :class:`JsonArray` (a list with its position), so callers
can name the line of a value they refuse later.
"""

import bisect
import math
import re
from json.decoder import JSONDecodeError, scanstring

from .strict_numbers import MAX_INTEGER_DIGITS

#: Objects and arrays nested deeper than this are refused (no settings file needs 10).
MAX_DEPTH = 64

_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}
# Characters no path, id or name can hold: NUL, and halves of UTF-16 surrogate pairs.
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_STRING_ERRORS = (
    ("Unterminated string", "a string that never ends (a '\"' is missing)"),
    ("Invalid control character", "a control character in a string: write \\t, \\n or \\r"),
    ("Invalid \\escape", "an invalid \\ escape in a string"),
    ("Invalid \\uXXXX escape", "an invalid \\u escape in a string (four hex digits)"),
)
_NOT_JSON = ("NaN", "Infinity", "-Infinity", "nan", "inf", "-inf")


class JsonError(ValueError):
    """Text that is not strict JSON; ``str()`` is ``line L column C: what``."""

    def __init__(self, message: str, line: int, column: int):
        self.reason = message
        self.line = line
        self.column = column
        super().__init__(f"line {line} column {column}: {message}")


class JsonObject(dict):
    """A JSON object (a dict) with the position of its ``{`` and of each of its keys."""

    line: int = 0
    column: int = 0

    def __init__(self, line: int = 0, column: int = 0):
        super().__init__()
        self.line, self.column = line, column
        self.key_positions: dict[str, tuple[int, int]] = {}


class JsonArray(list):
    """A JSON array (a list) with the position of its ``[`` and of each of its items."""

    def __init__(self, line: int = 0, column: int = 0):
        super().__init__()
        self.line, self.column = line, column
        self.positions: list[tuple[int, int]] = []


def load_json(text: str):
    """The value of the JSON *text*; raises :class:`JsonError` (see the module docstring)."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, pos: int) -> tuple[int, int]:
        """(line, column) of character *pos*, both 1-based."""
        line = bisect.bisect_right(self.line_starts, pos)
        return line, pos - self.line_starts[line - 1] + 1

    def error(self, message: str, pos: int) -> JsonError:
        return JsonError(message, *self.at(pos))

    def space(self, pos: int) -> int:
        return _SPACE.match(self.text, pos).end()

    def parse(self):
        text = self.text
        stack: list = []  # open objects and arrays; an object's frame also holds its key
        pos = self.space(0)
        while True:
            start = pos
            value, pos, opened = self.value(pos, stack)
            if opened:
                continue  # a new object or array: parse its first value
            value_at = self.at(start)
            # A value is complete: attach it to its container, and close those that end.
            while True:
                if not stack:
                    pos = self.space(pos)
                    if pos != len(text):
                        raise self.error("more text after the JSON value", pos)
                    return value
                frame = stack[-1]
                container = frame[0]
                if isinstance(container, dict):
                    container[frame[1]] = value
                else:
                    container.append(value)
                    container.positions.append(value_at)
                pos = self.space(pos)
                char = text[pos : pos + 1]
                closer = "}" if isinstance(container, dict) else "]"
                if char == ",":
                    pos = self.space(pos + 1)
                    if isinstance(container, dict):
                        pos = self.key(pos, frame)
                    break
                if char == closer:
                    stack.pop()
                    value, pos = container, pos + 1
                    value_at = (container.line, container.column)
                    continue
                raise self.error(self.unexpected(pos, f"',' or '{closer}'"), pos)

    def value(self, pos: int, stack: list):
        """Parse the value at *pos*: (value, end, opened) where *opened* is a new container."""
        text = self.text
        char = text[pos : pos + 1]
        if char in ("{", "["):
            return self.open(pos, stack)
        if char == '"':
            value, end = self.string(pos)
            return value, end, False
        for word in _NOT_JSON:
            if text.startswith(word, pos):
                raise self.error(f"{word} is not allowed in JSON: write a finite number", pos)
        match = _NUMBER.match(text, pos)
        if match is not None:
            return self.number(match, pos), match.end(), False
        for word, value in _LITERALS.items():
            if text.startswith(word, pos):
                return value, pos + len(word), False
        raise self.error(self.unexpected(pos, "a value"), pos)

    def open(self, pos: int, stack: list):
        """The object or array starting at *pos*: empty and closed, or pushed on *stack*."""
        if len(stack) >= MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels", pos)
        text = self.text
        line, column = self.at(pos)
        after = self.space(pos + 1)
        if text[pos] == "{":
            container = JsonObject(line, column)
            if text[after : after + 1] == "}":
                return container, after + 1, False
            frame = [container, None]
            stack.append(frame)
            return None, self.key(after, frame), True
        container = JsonArray(line, column)
        if text[after : after + 1] == "]":
            return container, after + 1, False
        stack.append([container, None])
        return None, after, True

    def key(self, pos: int, frame: list) -> int:
        """Read an object's key and its ':' at *pos* into *frame*; the position of its value."""
        if self.text[pos : pos + 1] != '"':
            raise self.error(self.unexpected(pos, "a key in double quotes"), pos)
        key, end = self.string(pos)
        container: JsonObject = frame[0]
        where = self.at(pos)
        if key in container.key_positions:
            first_line, first_column = container.key_positions[key]
            raise self.error(
                f"the key {key!r} appears twice in one object (first at line {first_line} "
                f"column {first_column}): keep one",
                pos,
            )
        container.key_positions[key] = where
        frame[1] = key
        end = self.space(end)
        if self.text[end : end + 1] != ":":
            raise self.error(self.unexpected(end, "':' after the key"), end)
        return self.space(end + 1)

    def string(self, pos: int) -> tuple[str, int]:
        try:
            value, end = scanstring(self.text, pos + 1, True)
        except JSONDecodeError as error:
            reason = next(
                (said for start, said in _STRING_ERRORS if error.msg.startswith(start)), error.msg
            )
            raise self.error(reason, error.pos) from None
        odd = _NOT_TEXT.search(value)
        if odd is not None:
            code = ord(odd.group(0))
            what = "a NUL character" if code == 0 else "half of a character (a lone surrogate)"
            raise self.error(f"the string holds \\u{code:04x}, {what}: not text", pos)
        return value, end

    def number(self, match: "re.Match", pos: int):
        written = match.group(0)
        if match.group(1) is None and match.group(2) is None:
            digits = len(written.lstrip("-"))
            if digits > MAX_INTEGER_DIGITS:
                raise self.error(
                    f"a number of {digits:,} digits: no value here needs more than "
                    f"{MAX_INTEGER_DIGITS}",
                    pos,
                )
            return int(written)
        value = float(written)
        if not math.isfinite(value):
            shown = written if len(written) <= 30 else written[:30] + "…"
            raise self.error(f"{shown} is too large a number", pos)
        return value

    def unexpected(self, pos: int, expected: str) -> str:
        char = self.text[pos : pos + 1]
        if not char:
            return f"the text ends early, where {expected} was expected (cut off?)"
        return f"{char!r} where {expected} was expected"
