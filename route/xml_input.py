# SPDX-License-Identifier: GPL-3.0-or-later
"""What the OSM and GPX readers share: opening the input file, an expat parser refusing DTDs.

Plain Python, no bpy. :func:`read_xml_file` turns a path that is a folder, missing or not
openable into an :class:`.errors.InputFileError` (no position), hands the open binary
stream to a reader and closes it whatever happens. :func:`create_parser` makes an expat
parser on which any ``<!DOCTYPE>`` or entity declaration raises an InputFileError at the
position expat has reached, before anything could be declared, let alone expanded (no
billion laughs, no external entities). Feeding the stream and mapping expat's own errors
stay with each reader, which know what their files should hold.
"""

import os
from xml.parsers import expat

from .errors import InputFileError


def read_xml_file(path, make_reader, what: str):
    """Read the file at *path* with a reader made for it; return the reader's result.

    *make_reader* is called with the path as a str and returns an object with
    ``read(stream)`` (reads the open binary stream, raising InputFileError on bad content)
    and ``result()`` (what was read, called after the file is closed). *what* names the file
    expected, for the error on a folder: "an OSM file" gives "is a folder, not an OSM file".

    Raises :class:`.errors.InputFileError` for a folder, a missing file ("no such file") or
    one that cannot be opened ("cannot be opened: <reason>"); the reader's errors pass through.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InputFileError(path, f"is a folder, not {what}")
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except OSError as error:
        raise InputFileError(path, f"cannot be opened: {error.strerror or error}") from None
    reader = make_reader(path)
    try:
        reader.read(stream)
    finally:
        stream.close()
    return reader.result()


def create_parser(
    path: str, refused: str, *, namespace_separator: "str | None" = None
) -> "expat.XMLParserType":
    """A new expat parser for the file at *path* that refuses any DTD or entity declaration.

    A ``<!DOCTYPE>``, an entity declaration or an external entity reference raises
    :class:`.errors.InputFileError` with the message *refused* at the position expat has
    reached (see :func:`current_position`); parameter entities are never parsed. Entities
    can only be declared inside a DOCTYPE, which is refused first: the entity handlers guard
    against that ever changing (e.g. a foreign DTD being enabled). With
    *namespace_separator* (e.g. ``" "``) namespace processing is on, and element names
    arrive as ``"uri<separator>local"``. The caller sets its own element handlers.
    """
    parser = expat.ParserCreate(namespace_separator=namespace_separator)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args) -> None:
        line, column = current_position(parser)
        raise InputFileError(path, refused, line=line, column=column)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    return parser


def current_position(parser: "expat.XMLParserType") -> tuple[int, int]:
    """The (line, column) expat is handling now, both 1-based (expat counts columns from 0).

    Inside a start-element handler this is the position of the element's ``<``.
    """
    return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
