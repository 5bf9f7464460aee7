# SPDX-License-Identifier: GPL-3.0-or-later
"""One strict grammar for the numbers in LeanRoute's input files (plain Python, no bpy).

Python's ``float()`` and ``int()`` accept far more than a number written in a file should be:
``1_0`` (10), `` 12 `` (padding), ``inf``, ``nan``, Arabic-Indic (U+0661 U+0662) and
full-width (U+FF11 U+FF12) digits for 12, and every other Unicode decimal digit. OSM and
GPX attributes, GPX element text, jobs-file cells and waypoints all go through
:func:`parse_decimal` and :func:`parse_integer` instead, so a number means the same
thing everywhere:

- decimal: an optional ``+``/``-``, ASCII digits ``0-9`` with at most one ``.`` (``12``,
  ``12.5``, ``.5``, ``12.``), an optional exponent (``1e3``, ``2.5E-4``); finite;
- integer: an optional sign and ASCII digits, at most :data:`MAX_INTEGER_DIGITS` of them.

Nothing else: no spaces (callers strip the whitespace their format allows, see
:func:`strip_ascii`), no ``_``, no hex, no words. A refusal is a :class:`NumberError`
(a ValueError) whose text says what the value is and how to write it; callers add where.
"""

import math
import re

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
#: Longer integers are refused before conversion: no id, count or frame number in an input file
#: needs more, and Python's own limit (4300 digits) raises an error that names no value.
MAX_INTEGER_DIGITS = 40
#: Whitespace a format may allow around a number (XML element text, a CSV cell): ASCII only,
#: so a no-break or ideographic space is not silently taken for padding.
ASCII_WHITESPACE = " \t\r\n"
_SHOWN = 40  # characters of a refused value quoted in a message


class NumberError(ValueError):
    """A value that is not a number in LeanRoute's grammar; ``str()`` says what and how to fix."""


def strip_ascii(text: str) -> str:
    """*text* without ASCII whitespace (space, tab, CR, LF) at either end."""
    return text.strip(ASCII_WHITESPACE)


def shown(text) -> str:
    """*text* quoted for a message, cut to a readable length."""
    text = str(text)
    if len(text) > _SHOWN:
        return repr(text[:_SHOWN]) + f"… ({len(text):,} characters)"
    return repr(text)


def is_decimal(text) -> bool:
    """Whether *text* is a str written in the decimal grammar (finite or not)."""
    return isinstance(text, str) and _DECIMAL.fullmatch(text) is not None


def parse_decimal(text) -> float:
    """The finite float written in *text* (see the module docstring for the grammar).

    Raises :class:`NumberError` for anything else, including a value too large for a float.
    """
    if not is_decimal(text):
        raise NumberError(f"{shown(text)} is not a number{_hint(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise NumberError(f"{shown(text)} is too large a number")
    return value


def parse_integer(text) -> int:
    """The int written in *text*: an optional sign and ASCII digits (see the module docstring).

    Raises :class:`NumberError` for anything else, or for more than
    :data:`MAX_INTEGER_DIGITS` digits.
    """
    if not isinstance(text, str) or _INTEGER.fullmatch(text) is None:
        raise NumberError(f"{shown(text)} is not a whole number{_hint(text)}")
    if len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        raise NumberError(
            f"{shown(text)} has {len(text.lstrip('+-')):,} digits, more than any value here "
            f"can have ({MAX_INTEGER_DIGITS})"
        )
    return int(text)


def _hint(text) -> str:
    """How to write the number, when *text* looks like one written another way."""
    if not isinstance(text, str):
        return ""
    hints = (
        (text != strip_ascii(text) or text != text.strip(), "remove the spaces around it"),
        ("_" in text, "write it without '_'"),
        (any(c.isdigit() and not "0" <= c <= "9" for c in text), "use the ASCII digits 0-9"),
        (text.strip("+-").lower() in ("inf", "infinity", "nan"), "it must be a finite number"),
        ("," in text and is_decimal(text.replace(",", ".", 1)), "use '.' as the decimal point"),
    )
    return next((f" ({hint})" for found, hint in hints if found), "")
