# SPDX-License-Identifier: GPL-3.0-or-later
"""What the OSM and GPX readers share: opening the input, feeding expat, refusing what is not XML.

Plain Python, no bpy.

- :func:`read_xml_file` opens the input through :func:`.input_files.open_input` (a missing
  file, a folder, a FIFO, a socket or a device is refused before anything blocks), hands the
  stream to a reader and closes it whatever happens.
- :func:`create_parser` makes an expat parser on which any ``<!DOCTYPE>`` or entity
  declaration raises an InputFileError at the position expat has reached, before anything
  could be declared, let alone expanded (no billion laughs, no external entities).
- :func:`feed` reads the stream in chunks into the parser. Before the first byte reaches expat
  it refuses, with one line at ``file:line:column``, what expat would misreport or Python's
  expat module would raise as a LookupError/ValueError: compressed or binary files (gzip,
  bzip2, xz, zstd, zip, OSM PBF), UTF-32 and EBCDIC text, and an XML declaration naming an
  encoding LeanRoute does not read (unknown, multi-byte other than UTF-16, stateful). UTF-8
  (with or without a BOM), UTF-16 (with a BOM), ASCII and the single-byte ASCII-compatible
  encodings (ISO 8859-x, Windows-125x, KOI8 ...) are read. A NUL byte is named as such.
  Mapping expat's syntax errors stays with each reader, which knows what its files hold.
"""

import codecs
import os
import re
from collections.abc import Callable
from xml.parsers import expat

from .errors import InputFileError
from .input_files import open_input

#: Bytes read and handed to expat at a time (expat's own buffer grows to about twice this).
CHUNK_SIZE = 1 << 16

#: expat errors that mean "the data stopped in the middle" once the root element has started.
TRUNCATION_ERRORS = frozenset(
    expat.errors.codes[message]
    for message in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
)

# Leading bytes of files that are not XML text, and what to tell the user.
_NOT_TEXT = (
    (b"\x1f\x8b", "is gzip-compressed: unpack it first"),
    (b"BZh", "is bzip2-compressed: unpack it first"),
    (b"\xfd7zXZ\x00", "is xz-compressed: unpack it first"),
    (b"\x28\xb5\x2f\xfd", "is zstd-compressed: unpack it first"),
    (b"PK\x03\x04", "is a zip archive: unpack it first"),
    (b"\x00\x00\xfe\xff", "is UTF-32 text: save it as UTF-8"),
    (b"\xff\xfe\x00\x00", "is UTF-32 text: save it as UTF-8"),
    (b"\x4c\x6f\xa7\x94", "is EBCDIC text: save it as UTF-8"),  # "<?xm" in EBCDIC
)
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")
_DECLARATION = re.compile(
    rb"<\?xml[ \t\r\n][^>]*?\bencoding[ \t\r\n]*=[ \t\r\n]*([\"'])([^\"']*)\1"
)
# Encodings expat reads itself; others are read by Python's expat module only if single-byte.
_NATIVE = frozenset({"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "ascii"})


def read_xml_file(path, make_reader, what: str):
    """Read the file at *path* with a reader made for it; return the reader's result.

    *make_reader* is called with the path as a str and returns an object with
    ``read(stream)`` (reads the open binary stream, raising InputFileError on bad content)
    and ``result()`` (what was read, called after the file is closed). *what* names the file
    expected ("an OSM file"), for the error on a folder or another non-regular file.

    Raises :class:`.errors.InputFileError` for a missing file ("no such file"), a folder, a
    FIFO, a socket or a device (never opened in a way that blocks), or one that cannot be
    opened ("cannot be opened: <reason>"); the reader's errors pass through.
    """
    path = os.fspath(path)
    stream = open_input(path, what)
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


def feed(
    parser: "expat.XMLParserType",
    stream,
    path: str,
    xml_error: "Callable[[expat.ExpatError], InputFileError]",
    *,
    format_name: str,
    check_start: "Callable[[bytes], None] | None" = None,
) -> None:
    """Read *stream* into *parser* chunk by chunk, then finish the parse.

    The first chunk that is not blank is checked first (:func:`check_start_of_file`, then
    *check_start* if given, for checks of the reader's own). An all-blank file is refused as
    empty at 1:1. expat's errors become ``xml_error(error)`` (a NUL byte is named instead);
    an encoding Python's expat module cannot handle, or a read error, becomes one line too.
    *format_name* names the format in messages ("OSM XML").
    """
    started = utf16 = False
    chunk, offset = b"", 0
    try:
        while True:
            offset += len(chunk)
            chunk = stream.read(CHUNK_SIZE)
            if not chunk:
                break
            if not started:
                if not chunk.strip():
                    continue
                started = True
                head = chunk.lstrip(b" \t\r\n")
                check_start_of_file(path, head, format_name)
                if check_start is not None:
                    check_start(head)
                utf16 = head.startswith(_UTF16_STARTS)
            parser.Parse(chunk, False)
        if not started:
            raise InputFileError(path, "the file is empty", line=1, column=1)
        chunk = b""
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        if _is_nul(chunk, parser.ErrorByteIndex - offset, utf16):
            raise InputFileError(
                path,
                "a NUL byte (binary data) where XML text was expected: the file is damaged "
                f"or not {format_name}",
                line=error.lineno,
                column=error.offset + 1,
            ) from None
        raise xml_error(error) from None
    except InputFileError:
        raise
    except (LookupError, UnicodeError, ValueError) as error:
        # Python's expat module raises these for an encoding it cannot map (a safety net:
        # check_start_of_file refuses the ones known).
        raise InputFileError(
            path,
            f"the file's encoding cannot be read ({error}): save it as UTF-8",
            line=1,
            column=1,
        ) from None
    except OSError as error:
        raise InputFileError(path, f"cannot be read: {error.strerror or error}") from None


def check_start_of_file(path: str, head: bytes, format_name: str) -> None:
    """Refuse a file whose first bytes *head* show it is not XML text LeanRoute can read.

    Compressed and binary files, UTF-32 and EBCDIC text, and an XML declaration naming an
    encoding that is unknown, multi-byte (other than UTF-16) or not ASCII-compatible raise
    :class:`.errors.InputFileError` at 1:1 (the declaration's ``encoding`` at its column).
    """
    for magic, problem in _NOT_TEXT:
        if head.startswith(magic):
            raise InputFileError(
                path, f"the file {problem} (LeanRoute reads plain {format_name})", line=1, column=1
            )
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") and b"\x00" not in head[2:6]:
        raise InputFileError(
            path,
            "the file starts with a UTF-16 byte-order mark but is not UTF-16 text: "
            "save it as UTF-8",
            line=1,
            column=1,
        )
    if head.startswith(_UTF16_STARTS):
        # expat reads UTF-16 itself; the declaration is checked in the text's own characters.
        text = _utf16_head(head)
        match = _DECLARATION.match(text.encode("latin-1", "replace"))
        column_offset = 0
    else:
        bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        match = _DECLARATION.match(head[bom:])
        column_offset = bom
    if match is None:
        return
    name = match.group(2).decode("latin-1")
    problem = _encoding_problem(name)
    if problem:
        column = match.start(2) + 1 + column_offset
        raise InputFileError(
            path,
            f'the XML declaration says encoding="{name}", {problem}: save the file as UTF-8',
            line=1,
            column=column,
        )


def _utf16_head(head: bytes) -> str:
    """The first characters of UTF-16 text (with or without its byte-order mark)."""
    sample = head[:512]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return sample.decode("utf-16", "replace")
    return sample.decode("utf-16-be" if sample.startswith(b"\x00") else "utf-16-le", "replace")


def _encoding_problem(name: str) -> str:
    """Why LeanRoute cannot read text declared as encoding *name*, or "" if it can."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        return "an encoding LeanRoute does not know"
    if not getattr(info, "_is_text_encoding", True):
        return "which is not a text encoding"
    if info.name in _NATIVE:
        return ""
    try:
        ascii_compatible = bytes(range(128)).decode(info.name) == bytes(range(128)).decode("ascii")
        single_byte = len(bytes(range(256)).decode(info.name, "replace")) == 256
    except (UnicodeError, LookupError, ValueError, TypeError):
        ascii_compatible = single_byte = False
    if not (ascii_compatible and single_byte) or info.name.startswith("iso2022"):
        return "which LeanRoute cannot read (only UTF-8, UTF-16 and single-byte encodings)"
    return ""


def _is_nul(chunk: bytes, index: int, utf16: bool) -> bool:
    """Whether the character at byte *index* of *chunk* is a NUL (U+0000)."""
    if not 0 <= index < len(chunk) or chunk[index] != 0:
        return False
    return not utf16 or chunk[index : index + 2] == b"\x00\x00"
