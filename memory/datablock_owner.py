"""Which data-blocks a pipeline created, so cleanup and rollback touch those and nothing else.

Blender data can be removed, renamed or reloaded behind our back (undo, file load), so an
owner never keeps ``bpy`` objects between calls: it keeps each data-block's collection,
identity key and an owner tag written into the data-block itself. The key is
``ID.session_uid`` where Blender has it (4.x+: unique for the session, never reused), else
the memory address (3.x). A data-block counts as ours only when both the key and the tag
match, so a user's data-block that reuses a freed address is never mistaken for ours.
"""

import uuid
from collections import Counter
from typing import NamedTuple

import bpy

from .blender_stats import NEVER_ORPHANS, id_collections

OWNER_KEY = "leanroute_owner"


class IDRecord(NamedTuple):
    """One data-block: its ``bpy.data`` collection, identity key and name when recorded."""

    collection: str
    key: int  # id_key(): session_uid, or the address on Blender 3.x
    name: str


_HAS_SESSION_UID = "session_uid" in bpy.types.ID.bl_rna.properties.keys()  # noqa: SIM118


def id_key(idb: "bpy.types.ID") -> int:
    """The identity of a data-block for this session (see the module's docstring)."""
    return idb.session_uid if _HAS_SESSION_UID else idb.as_pointer()


def id_snapshot() -> dict[str, set[int]]:
    """Identity keys of every data-block now, by collection."""
    return {name: {id_key(idb) for idb in getattr(bpy.data, name)} for name in id_collections()}


def created_since(snapshot: dict[str, set[int]]) -> list[IDRecord]:
    """Data-blocks that exist now and did not when *snapshot* was taken."""
    created = []
    for name in id_collections():
        known = snapshot.get(name, set())
        created.extend(
            IDRecord(name, id_key(idb), idb.name)
            for idb in getattr(bpy.data, name)
            if id_key(idb) not in known
        )
    return created


def count_by_type(records: "list[IDRecord]") -> dict[str, int]:
    """How many of *records* there are of each ``bpy.data`` collection."""
    return dict(Counter(record.collection for record in records))


def _lookup(records: "list[IDRecord]") -> dict[IDRecord, "bpy.types.ID"]:
    # Fresh lookups by key: never reuse a Python wrapper that may be stale.
    wanted: dict[str, dict[int, IDRecord]] = {}
    for record in records:
        wanted.setdefault(record.collection, {})[record.key] = record
    found = {}
    for name, by_key in wanted.items():
        collection = getattr(bpy.data, name, None)
        if collection is None:
            continue
        for idb in collection:
            record = by_key.get(id_key(idb))
            if record is not None:
                found[record] = idb
    return found


def remove_records(records: "list[IDRecord]") -> dict[str, int]:
    """Remove whichever of *records* still exist (used by rollback); counts by type."""
    found = _lookup(records)
    if found:
        bpy.data.batch_remove(list(found.values()))
    return count_by_type(list(found))


class DataBlockOwner:
    """The data-blocks one pipeline created: tagged, tracked, cleaned up when orphaned."""

    def __init__(self, token: "str | None" = None):
        self.token = token or uuid.uuid4().hex
        self._records: dict[tuple[str, int], IDRecord] = {}
        self.kept: set[int] = set()

    def __len__(self) -> int:
        return len(self._records)

    def adopt(self, records: "list[IDRecord]") -> int:
        """Take ownership of *records* (tagging each); returns how many were adopted."""
        found = _lookup(records)
        for record, idb in found.items():
            try:
                idb[OWNER_KEY] = self.token
            except (TypeError, AttributeError):  # a type without custom properties
                continue
            self._records[(record.collection, record.key)] = record
        return len(found)

    def keep(self, idb: "bpy.types.ID") -> None:
        """Never remove *idb* as an orphan (e.g. a data-block meant to have a fake user)."""
        self.kept.add(id_key(idb))

    def live(self) -> dict[IDRecord, "bpy.types.ID"]:
        """Owned data-blocks that still exist and still carry our tag; forgets the rest."""
        found = _lookup(list(self._records.values()))
        ours = {r: idb for r, idb in found.items() if idb.get(OWNER_KEY) == self.token}
        self._records = {(r.collection, r.key): r for r in ours}
        return ours

    def remove_orphans(self) -> dict[str, int]:
        """Remove owned data-blocks with no users; counts by type.

        Repeated until none is left, so a removed object's mesh and that mesh's materials go
        too. The user's data is never considered.
        """
        removed: Counter[str] = Counter()
        while True:
            orphans = {
                record: idb
                for record, idb in self.live().items()
                if idb.users == 0 and not idb.use_fake_user and record.key not in self.kept
            }
            if not orphans:
                return dict(removed)
            removed.update(record.collection for record in orphans)
            bpy.data.batch_remove(list(orphans.values()))

    def remove_all(self) -> dict[str, int]:
        """Remove every owned data-block, used or not (a full clear of a build)."""
        live = self.live()
        if live:
            bpy.data.batch_remove(list(live.values()))
        self._records.clear()
        return count_by_type(list(live))


def _tagged_orphans() -> dict["bpy.types.ID", str]:
    found = {}
    for name in id_collections():
        if name in NEVER_ORPHANS:
            continue
        for idb in getattr(bpy.data, name):
            # users first: the cheap test that rules out nearly every data-block.
            if idb.users or idb.use_fake_user or idb.library is not None:
                continue
            try:
                tagged = idb.get(OWNER_KEY) is not None
            except TypeError:  # an ID type without custom properties
                continue
            if tagged:
                found[idb] = name
    return found


def remove_tagged_orphans() -> dict[str, int]:
    """Remove every orphan that any LeanRoute build made; counts by type.

    An orphan here is a local data-block carrying an ``OWNER_KEY`` tag, whatever its token
    (any pipeline, any build, also one saved in the file and loaded again), with no users
    and no fake user. Repeated until none is left, so a removed object's mesh and that
    mesh's materials go too. Untagged (user) data-blocks are never touched; a tagged one
    that a stage meant to keep unused (``stage.keep``) and gave no fake user is removed.
    """
    removed: Counter[str] = Counter()
    tried: set[tuple[str, int]] = set()
    while True:
        # A data-block Blender refused to remove is not tried again: no endless loop.
        orphans = {
            idb: name for idb, name in _tagged_orphans().items() if (name, id_key(idb)) not in tried
        }
        if not orphans:
            return dict(removed)
        tried.update((name, id_key(idb)) for idb, name in orphans.items())
        bpy.data.batch_remove(list(orphans))
        removed.update(orphans.values())


def purge_all_orphans() -> int:
    """Blender's global recursive orphan purge: also deletes the user's unused data.

    Only on explicit request. Returns how many data-blocks it removed.
    """
    before = _total_datablocks()
    bpy.data.orphans_purge(do_local_ids=True, do_linked_ids=True, do_recursive=True)
    return before - _total_datablocks()


def _total_datablocks() -> int:
    return sum(len(getattr(bpy.data, name)) for name in id_collections())
