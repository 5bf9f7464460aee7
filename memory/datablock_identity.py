"""Which tagged data-blocks are LeanRoute's own, and which are copies that inherited the tag.

Blender copies custom properties with a data-block (Shift+D, ``ID.copy()``, a copied
collection), so an owner tag alone cannot tell a build's data-block from the user's copy of
it. Each tag therefore also records the data-block's identity when LeanRoute tagged it
(:data:`IDENTITY_KEY`): its name, and on Blender 4.x+ its ``session_uid`` with a marker of the
process that read it. A data-block is LeanRoute's own only when

- it carries :data:`OWNER_KEY` and is local (not linked from a library);
- its name is still the recorded one (a copy gets a new unique name; a data-block the user
  renamed counts as the user's from then on), and so is the file it was appended from
  (``library_weak_reference``: a build the user appended from another file is theirs); and
- in the process that tagged it, its ``session_uid`` is the recorded one, unless no
  data-block of that build has its recorded ``session_uid`` any more (the file was reloaded,
  so every key changed) and the name alone decides.

Tags written before identities existed (a bare token) are trusted for the first data-block
of each type and base name of a build (the others are copies) and get an identity at the
next :func:`disown_copies`. Nothing here keeps ``bpy`` objects between calls; it works after
undo, file load and in a new session.
"""

import re
import uuid

import bpy

from .blender_stats import id_collections

#: The build token (a string) on every data-block a LeanRoute pipeline created.
OWNER_KEY = "leanroute_owner"
#: ``{"name", "process", "key"}``: the data-block's identity when it was tagged.
IDENTITY_KEY = "leanroute_identity"

_SUFFIX = re.compile(r"\.\d{3,}$")
# session_uid values are per process: one from another process says nothing.
_PROCESS = uuid.uuid4().hex[:16]
_HAS_SESSION_UID = "session_uid" in bpy.types.ID.bl_rna.properties.keys()  # noqa: SIM118


def _key_text(idb: "bpy.types.ID") -> str:
    # Blender 3.x has no session_uid: there the name alone identifies a data-block.
    return str(idb.session_uid) if _HAS_SESSION_UID else ""


def stamp(idb: "bpy.types.ID", token: str) -> bool:
    """Tag *idb* as made by the build *token*, with its identity; False if it has no props."""
    try:
        idb[OWNER_KEY] = token
    except (TypeError, AttributeError):  # an ID type without custom properties
        return False
    restamp(idb)
    return True


def restamp(idb: "bpy.types.ID") -> None:
    """Record *idb*'s identity again after LeanRoute itself renamed or restored it."""
    idb[IDENTITY_KEY] = {
        "name": idb.name,
        "process": _PROCESS,
        "key": _key_text(idb),
        "source": _source(idb),
    }


def _source(idb: "bpy.types.ID") -> str:
    # Appending sets a weak reference to the file appended from: data the user appended
    # from another file (a build saved there) has one its identity did not record.
    weak = getattr(idb, "library_weak_reference", None)
    return f"{weak.filepath}|{weak.id_name}" if weak is not None else ""


def owner_token(idb: "bpy.types.ID") -> "str | None":
    """The build token *idb* is tagged with (copies included), or None."""
    if idb.library is not None:
        return None
    try:
        token = idb.get(OWNER_KEY)
    except TypeError:  # an ID type without custom properties
        return None
    return None if token is None else str(token)


def identity_name(idb: "bpy.types.ID") -> "str | None":
    """The name *idb* had when LeanRoute last tagged it, or None."""
    fields = _identity(idb)
    return fields[0] if fields else None


def _identity(idb: "bpy.types.ID") -> "tuple[str, str, str, str] | None":
    try:
        value = idb.get(IDENTITY_KEY)
    except TypeError:
        return None
    getter = getattr(value, "get", None)
    if getter is None:
        return None
    fields = (getter("name"), getter("process"), getter("key"), getter("source", ""))
    return fields if all(isinstance(part, str) for part in fields) else None


def disown(idb: "bpy.types.ID", extra_keys=()) -> dict:
    """Remove LeanRoute's tags (and *extra_keys*) from *idb*; returns what was removed."""
    removed = {}
    for key in (OWNER_KEY, IDENTITY_KEY, *extra_keys):
        try:
            value = idb.get(key)
        except TypeError:
            return removed
        if value is None:
            continue
        for plain in ("to_dict", "to_list"):  # ID property groups and arrays
            if hasattr(value, plain):
                value = getattr(value, plain)()
        removed[key] = value
        del idb[key]
    return removed


def retag(idb: "bpy.types.ID", removed: dict) -> None:
    """Put back the tags :func:`disown` removed."""
    for key, value in removed.items():
        idb[key] = value


def tagged_ids(names=None):
    """``(collection name, data-block, token)`` for every local tagged data-block."""
    for name in names or id_collections():
        for idb in getattr(bpy.data, name, ()):
            token = owner_token(idb)
            if token is not None:
                yield name, idb, token


class Ownership:
    """Tells LeanRoute's own data-blocks from copies that inherited a tag (see the module).

    Built for one pass over ``bpy.data`` (a rebuild, a Clear, an orphan sweep): it caches
    which builds still have an original in this process, so drop it once data changes.
    """

    def __init__(self):
        self._builds_with_originals: set[str] | None = None
        self._legacy: dict[tuple[str, str, str], str] | None = None

    def ours(self, idb: "bpy.types.ID") -> bool:
        """True if *idb* is a data-block a LeanRoute build itself created (or legacy-tagged)."""
        token = owner_token(idb)
        if token is None:
            return False
        if idb.get(IDENTITY_KEY) is None:
            # Tagged before identities were recorded: of the same build's data-blocks of one
            # type and base name, only the first by name is the build's, the rest copies.
            return self._legacy_first().get(_legacy_group(idb, token)) == idb.name
        fields = _identity(idb)
        # An identity edited by hand is not trusted; a new name is a copy's or the user's,
        # a new source one the user appended from another file.
        if fields is None or fields[0] != idb.name or fields[3] != _source(idb):
            return False
        _, process, key, _ = fields
        if process != _PROCESS or not key or key == _key_text(idb):
            return True
        # Same process, another key: a copy, unless the whole build was re-keyed (reloaded).
        return token not in self._originals()

    def _legacy_first(self) -> "dict[tuple[str, str, str], str]":
        if self._legacy is None:
            first: dict[tuple[str, str, str], str] = {}
            for _, idb, token in tagged_ids():
                if idb.get(IDENTITY_KEY) is None:
                    group = _legacy_group(idb, token)
                    if group not in first or idb.name < first[group]:
                        first[group] = idb.name
            self._legacy = first
        return self._legacy

    def _originals(self) -> "set[str]":
        if self._builds_with_originals is None:
            found = set()
            for _, idb, token in tagged_ids():
                fields = _identity(idb)
                if fields and fields[1] == _PROCESS and fields[2] and fields[2] == _key_text(idb):
                    found.add(token)
            self._builds_with_originals = found
        return self._builds_with_originals


def _legacy_group(idb: "bpy.types.ID", token: str) -> "tuple[str, str, str]":
    return type(idb).__name__, token, _SUFFIX.sub("", idb.name)


def is_ours(idb: "bpy.types.ID") -> bool:
    """:meth:`Ownership.ours` for a single data-block."""
    return Ownership().ours(idb)


def copies() -> "list[bpy.types.ID]":
    """Tagged data-blocks that are not ours: copies that inherited a tag, renamed ones.

    Told apart best while their originals exist (see the module): disown them before a
    build's removal, or one renamed to its original's name could pass for it afterwards.
    """
    ownership = Ownership()
    return [idb for _, idb, _ in tagged_ids() if not ownership.ours(idb)]


def disown_copies(extra_keys=()) -> int:
    """Remove inherited LeanRoute tags from copies (data-blocks that are not ours); how many.

    From then on a copy is plainly the user's, whatever it is renamed to later. Our own
    data-blocks still tagged the old way (no identity) get one now.
    """
    ownership = Ownership()
    copies, legacy = [], []
    for _, idb, _ in tagged_ids():
        if not ownership.ours(idb):
            copies.append(idb)
        elif idb.get(IDENTITY_KEY) is None:
            legacy.append(idb)
    for idb in copies:
        disown(idb, extra_keys)
    for idb in legacy:
        restamp(idb)
    return len(copies)
