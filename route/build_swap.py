"""Replacing the previous build by the new one, in a way that a failed save can undo.

The swap is the last thing a build does before it saves (the save stage): the previous
builds of the same name are removed (:func:`..route.build_collection.build_removal`: the
user's data and links survive), the new build takes their names. With an output file, the
removed data-blocks are first written to a temporary backup (:mod:`.build_backup`), so if
the save fails the rollback puts the previous build back exactly as it was: every
relocation, retarget and adoption the removal journalled is undone, the new build goes,
and the old names come back. Without an output file nothing can fail after the swap; if
the stage is interrupted after the removal regardless, the new, complete build stays.
"""

from collections.abc import Callable
from dataclasses import dataclass

import bpy

from ..memory.datablock_identity import identity_name, owner_token, restamp
from ..memory.datablock_keys import collection_name
from ..memory.datablock_release import Release, alive_resolver
from .build_backup import BuildBackup
from .build_collection import build_removal, previous_builds
from .errors import OutputFileError


@dataclass
class Replacement:
    """The replacement of earlier builds by a new one, and how to undo it."""

    removal: Release
    backup: "BuildBackup | None" = None
    restored: "dict | None" = None

    def put_back(self) -> bool:
        """Undo the replacement as far as the scene goes; False if that is impossible.

        Before the removal the journal alone is undone; after it the removed data-blocks
        are appended from the backup first. Without a backup (no output file) a removal
        that happened stays: the caller keeps the new build instead.
        """
        if not self.removal.removing:
            self.removal.undo()
            return True
        if self.backup is None:
            return False
        # Restored data-blocks are not ours again until settle() gives them their names back
        # (they were appended: a new source), which nothing in between depends on.
        try:
            self.restored = self.backup.restore()
        except Exception as error:  # the backup is gone or unreadable: it is all there is
            reason = str(error).removeprefix("Error: ").strip() or type(error).__name__
            raise OutputFileError(
                self.backup.path,
                f"the previous build could not be put back ({reason}); the new build stays "
                "in the scene; append the previous one from this file if it is still there",
            ) from None
        alive = alive_resolver()
        self.removal.undo(lambda wanted: self.restored.get(wanted) or alive(wanted))
        return True

    def settle(self) -> None:
        """Once the new build is gone: the restored data-blocks get their names back."""
        for idb in (self.restored or {}).values():
            name = identity_name(idb)
            # Only a free name: Blender 3.4 would rename the data-block holding it instead.
            if name and idb.name != name and name not in getattr(bpy.data, collection_name(idb)):
                idb.name = name
            if owner_token(idb) is not None:
                restamp(idb)
        self.discard()

    def discard(self) -> None:
        """Delete the backup file."""
        if self.backup is not None:
            self.backup.discard()


def replace_previous_builds(
    scene: "bpy.types.Scene",
    new: "bpy.types.Collection",
    name: str,
    *,
    objects_only: bool,
    back_up: bool,
    started: "Callable[[Replacement], None]",
) -> "Replacement | None":
    """Remove the builds named *name* in *scene* other than *new*; returns the replacement.

    *started* is called with the :class:`Replacement` before anything changes, so a
    failure at any later point can be undone by its caller. With *back_up*, the removed
    data-blocks are written to a backup first.
    """
    old = [collection for collection in previous_builds(scene, name) if collection != new]
    if not old:
        return None
    removal = build_removal(old, scene=scene, successor=new, objects_only=objects_only)
    replacement = Replacement(removal)
    started(replacement)
    removal.prepare()
    if back_up:
        replacement.backup = BuildBackup.write(removal.victims)
    removal.remove()
    return replacement
