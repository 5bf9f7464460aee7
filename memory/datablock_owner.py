"""Which data-blocks a pipeline created, so cleanup and rollback touch those and nothing else.

Blender data can be removed, renamed or reloaded behind our back (undo, file load), so an
owner never keeps ``bpy`` objects between calls: it keeps each data-block's collection,
identity key and an owner tag written into the data-block itself (with the data-block's own
identity, so a user's copy, which inherits the tag, is never taken for ours: see
:mod:`.datablock_identity`). Removal goes through :mod:`.datablock_release`, so a user's
object inside one of ours, or a user's data still using ours, is never lost.
"""

import uuid
from collections import Counter
from typing import NamedTuple

import bpy

from .blender_stats import NEVER_ORPHANS, id_collections
from .datablock_identity import OWNER_KEY, Ownership, disown_copies, stamp
from .datablock_keys import id_key
from .datablock_release import release

__all__ = [
    "OWNER_KEY",
    "DataBlockOwner",
    "IDRecord",
    "count_by_type",
    "created_since",
    "id_key",
    "id_snapshot",
    "purge_all_orphans",
    "remove_records",
    "remove_tagged_orphans",
]


class IDRecord(NamedTuple):
    """One data-block: its ``bpy.data`` collection, identity key and name when recorded."""

    collection: str
    key: int  # id_key(): session_uid, or the address on Blender 3.x
    name: str


def id_snapshot() -> dict[str, set[int]]:
    """Identity keys of every data-block now, by collection."""
    return {name: {id_key(idb) for idb in getattr(bpy.data, name)} for name in id_collections()}


def created_since(
    snapshot: dict[str, set[int]], exclude: "dict[str, set[int]] | None" = None
) -> list[IDRecord]:
    """Data-blocks that exist now and did not when *snapshot* was taken (minus *exclude*)."""
    created = []
    for name in id_collections():
        known = snapshot.get(name, set()) | (exclude or {}).get(name, set())
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
    """Remove whichever of *records* still exist (used by rollback); counts by type.

    What they were made for is undone with them, links from user data included (a
    stage's rollback); only an object of someone else's placed in one of their collections
    is kept in the scene (:mod:`.datablock_release`).
    """
    found = _lookup(records)
    return release(found.values(), adopt=False).removed if found else {}


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
            if stamp(idb, self.token):
                self._records[(record.collection, record.key)] = IDRecord(
                    record.collection, record.key, idb.name
                )
        return len(found)

    def keep(self, idb: "bpy.types.ID") -> None:
        """Never remove *idb* as an orphan (e.g. a data-block meant to have a fake user)."""
        self.kept.add(id_key(idb))

    def live(self) -> dict[IDRecord, "bpy.types.ID"]:
        """Owned data-blocks that still exist, carry our tag and are ours; forgets the rest.

        One the user renamed meanwhile is the user's from then on.
        """
        found = _lookup(list(self._records.values()))
        ownership = Ownership()
        ours = {
            r: idb
            for r, idb in found.items()
            if idb.get(OWNER_KEY) == self.token and ownership.ours(idb)
        }
        self._records = {(r.collection, r.key): r for r in ours}
        return ours

    def remove_orphans(self) -> dict[str, int]:
        """Remove owned data-blocks with no users; counts by type.

        Repeated until none is left, so a removed object's mesh and that mesh's materials go
        too. The user's data is never considered; one of ours that user data still points
        at (a parent, a constraint target) is adopted, not removed.
        """
        removed: Counter[str] = Counter()
        while True:
            orphans = [
                idb
                for record, idb in self.live().items()
                if idb.users == 0 and not idb.use_fake_user and record.key not in self.kept
            ]
            done = release(orphans).removed if orphans else {}
            if not done:
                return dict(removed)
            removed.update(done)

    def remove_all(self) -> dict[str, int]:
        """Remove every owned data-block, used or not (a full clear of a build).

        A user's object placed in one of our collections stays in the scene, and our data
        that user data uses is adopted (:mod:`.datablock_release`).
        """
        live = self.live()
        self._records.clear()
        return release(live.values()).removed if live else {}


def _tagged_orphans(ownership: Ownership) -> "list[bpy.types.ID]":
    found = []
    for name in id_collections():
        if name in NEVER_ORPHANS:
            continue
        for idb in getattr(bpy.data, name):
            # users first: the cheap test that rules out nearly every data-block.
            if idb.users or idb.use_fake_user or idb.library is not None:
                continue
            if ownership.ours(idb):
                found.append(idb)
    return found


def remove_tagged_orphans(extra_keys=()) -> dict[str, int]:
    """Remove every orphan that any LeanRoute build made; counts by type.

    An orphan here is a local data-block a LeanRoute build made (tagged, whatever the
    token: any pipeline, any build, also one saved in the file and loaded again; never a
    copy the user made of one, see :mod:`.datablock_identity`), with no users and no fake
    user. Repeated until none is left, so a removed object's mesh and that mesh's materials
    go too. Untagged (user) data-blocks are never removed: copies first lose the tag they
    inherited (and *extra_keys*), an orphan of ours that user data points at (a parent) is
    adopted, and user data only a removed orphan used gets a fake user. A tagged one that a
    stage meant to keep unused (``stage.keep``) and gave no fake user is removed.
    """
    disown_copies(extra_keys)
    removed: Counter[str] = Counter()
    tried: set[tuple[str, int]] = set()
    while True:
        # A data-block Blender refused to remove is not tried again: no endless loop.
        orphans = [
            idb for idb in _tagged_orphans(Ownership()) if (idb.name, id_key(idb)) not in tried
        ]
        if not orphans:
            return dict(removed)
        tried.update((idb.name, id_key(idb)) for idb in orphans)
        removed.update(release(orphans).removed)


def purge_all_orphans() -> int:
    """Blender's global recursive orphan purge: also deletes the user's unused data.

    Only on explicit request. Returns how many data-blocks it removed.
    """
    before = _total_datablocks()
    bpy.data.orphans_purge(do_local_ids=True, do_linked_ids=True, do_recursive=True)
    return before - _total_datablocks()


def _total_datablocks() -> int:
    return sum(len(getattr(bpy.data, name)) for name in id_collections())
