"""A replaced build kept in a temporary .blend until the new build is saved, to put it back.

A rebuild removes the previous build before it saves the new one (else the .blend would
hold both; unlinking alone is not enough, its objects and meshes would still be written).
If the save then fails (disk full, the folder removed, an interrupt), the previous build
comes back from this backup: written with ``bpy.data.libraries.write`` just before the
removal, appended again on failure with its names, tags, origin, animation, scene links,
view-layer visibility and selection. A backup file also holds everything the build's
data-blocks point at; what of that still exists (the user's data, data the user adopted)
is remapped onto the live data-block instead of being duplicated, recognised by a stamp
each written data-block carries only inside the file.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path

import bpy

from ..memory.blender_stats import id_collections
from ..memory.datablock_keys import Ref, id_key, ref
from .errors import OutputFileError

#: ``[collection, key, name]`` of the data-block a backed-up one was, inside the file only.
RESTORE_KEY = "leanroute_restore"
_PREFIX = "leanroute-replaced-"


class BuildBackup:
    """The data-blocks of replaced builds, in a temporary .blend; see the module."""

    def __init__(self, path: Path):
        self.path = path
        #: bpy.data collection -> names of the backed-up data-blocks to append again.
        self.names: dict[str, list[str]] = {}
        #: (scene name, collection ref): a backed-up collection linked in a scene.
        self.scene_links: list[tuple[str, Ref]] = []
        self.layer_states: list[tuple[str, str, Ref, tuple]] = []
        self.object_states: list[tuple[str, str, Ref, bool, bool]] = []
        self.active: list[tuple[str, str, Ref]] = []

    @classmethod
    def write(cls, victims: "dict[bpy.types.ID, str]") -> "BuildBackup":
        """Write *victims* (data-block -> bpy.data collection) to a new temporary .blend."""
        _remove_stale_backups()
        try:
            handle, name = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".blend")
        except OSError as error:
            raise _not_kept(Path(tempfile.gettempdir()), error.strerror or str(error)) from None
        os.close(handle)
        backup = cls(Path(name))
        for idb, collection in victims.items():
            backup.names.setdefault(collection, []).append(idb.name)
        backup._record_scene_state(victims)
        stamped = []
        try:
            for idb, collection in _with_dependencies(victims).items():
                with contextlib.suppress(TypeError, AttributeError):
                    idb[RESTORE_KEY] = json.dumps([collection, id_key(idb), idb.name])
                    stamped.append(idb)
            bpy.data.libraries.write(
                str(backup.path), set(victims), path_remap="RELATIVE", fake_user=False
            )
        except BaseException as error:
            backup.discard()
            if not isinstance(error, Exception):  # an interrupt: stop as asked, no file left
                raise
            reason = str(error).removeprefix("Error: ").strip() or type(error).__name__
            raise _not_kept(backup.path, reason) from None
        finally:
            for idb in stamped:
                with contextlib.suppress(KeyError, ReferenceError):
                    del idb[RESTORE_KEY]
        return backup

    def restore(self) -> "dict[Ref, bpy.types.ID]":
        """Append the backed-up data-blocks again; returns {their old ref: restored one}.

        Data-blocks the file holds that still exist are remapped onto the live ones; the
        restored collections are linked into their scenes with their view-layer settings,
        the restored objects get back their visibility, selection and active state.
        """
        alive = {
            (name, id_key(idb)): idb for name in id_collections() for idb in getattr(bpy.data, name)
        }
        libraries = set(bpy.data.libraries[:])
        with bpy.data.libraries.load(str(self.path), link=False) as (source, target):
            for name, names in self.names.items():
                available = set(getattr(source, name))
                setattr(target, name, [n for n in names if n in available])
        appended = [
            idb
            for name in id_collections()
            for idb in getattr(bpy.data, name)
            if (name, id_key(idb)) not in alive
        ]
        restored: dict[Ref, bpy.types.ID] = {}
        duplicates = []
        for idb in appended:
            stamp = _read_stamp(idb)
            if stamp is None:
                continue
            old_ref, old_name = (stamp[0], stamp[1]), stamp[2]
            original = alive.get(old_ref)
            if original is not None and original.name == old_name:
                idb.user_remap(original)  # still here: keep the live one, drop the copy
                duplicates.append(idb)
            else:
                restored[old_ref] = idb
            del idb[RESTORE_KEY]
        if duplicates:
            bpy.data.batch_remove(duplicates)
        extra_libraries = [lib for lib in bpy.data.libraries if lib not in libraries]
        if extra_libraries:
            bpy.data.batch_remove(extra_libraries)
        self._put_back_scene_state(restored)
        return restored

    def discard(self) -> None:
        """Delete the backup file (and Blender's ``@`` temporary, if a write left one)."""
        for path in (self.path, self.path.with_name(self.path.name + "@")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # -- scene links and view-layer state --------------------------------------------------

    def _record_scene_state(self, victims) -> None:
        for scene in bpy.data.scenes:
            for child in scene.collection.children:
                if child in victims:
                    self.scene_links.append((scene.name, ref(child)))
                    for layer in scene.view_layers:
                        found = _layer_collection(layer.layer_collection, child)
                        if found is not None:
                            flags = tuple(getattr(found, f) for f in _LAYER_FLAGS)
                            self.layer_states.append((scene.name, layer.name, ref(child), flags))
            for layer in scene.view_layers:
                for obj in layer.objects:
                    if obj in victims:
                        self.object_states.append(
                            (
                                scene.name,
                                layer.name,
                                ref(obj),
                                obj.hide_get(view_layer=layer),
                                obj.select_get(view_layer=layer),
                            )
                        )
                active = layer.objects.active
                if active is not None and active in victims:
                    self.active.append((scene.name, layer.name, ref(active)))

    def _put_back_scene_state(self, restored) -> None:
        for scene_name, collection_ref in self.scene_links:
            scene, collection = bpy.data.scenes.get(scene_name), restored.get(collection_ref)
            if (
                scene is not None
                and collection is not None
                and scene.collection.children.get(collection.name) != collection
            ):
                scene.collection.children.link(collection)
        # A view layer lists newly linked objects only once synced: no lookup by name here.
        for scene_name, layer_name, obj_ref, hidden, selected in self.object_states:
            layer, obj = _view_layer(scene_name, layer_name), restored.get(obj_ref)
            if layer is not None and obj is not None:
                with contextlib.suppress(RuntimeError):  # not in that view layer after all
                    obj.hide_set(hidden, view_layer=layer)
                    obj.select_set(selected, view_layer=layer)
        for scene_name, layer_name, obj_ref in self.active:
            layer, obj = _view_layer(scene_name, layer_name), restored.get(obj_ref)
            if layer is not None and obj is not None:
                with contextlib.suppress(RuntimeError, ValueError):
                    layer.objects.active = obj
        for scene_name, layer_name, collection_ref, flags in self.layer_states:
            layer, collection = _view_layer(scene_name, layer_name), restored.get(collection_ref)
            if layer is None or collection is None:
                continue
            found = _layer_collection(layer.layer_collection, collection)
            if found is not None:
                for flag, value in zip(_LAYER_FLAGS, flags, strict=True):
                    setattr(found, flag, value)


def _not_kept(path: Path, reason: str) -> OutputFileError:
    folder = path if path.suffix != ".blend" else path.parent
    return OutputFileError(
        path,
        f"could not keep a copy of the previous build before replacing it ({reason}); "
        f"free some space in {folder} or set TMPDIR to a writable folder",
    )


_LAYER_FLAGS = ("hide_viewport", "holdout", "indirect_only", "exclude")


def _layer_collection(parent, collection):
    for child in parent.children:
        if child.collection == collection:
            return child
    return None


def _view_layer(scene_name: str, layer_name: str):
    scene = bpy.data.scenes.get(scene_name)
    return scene.view_layers.get(layer_name) if scene is not None else None


def _read_stamp(idb) -> "tuple[str, int, str] | None":
    try:
        text = idb.get(RESTORE_KEY)
    except TypeError:
        return None
    try:
        collection, key, name = json.loads(text) if isinstance(text, str) else (None, None, None)
    except (ValueError, TypeError):
        return None
    if isinstance(collection, str) and isinstance(key, int) and isinstance(name, str):
        return collection, key, name
    return None


def _with_dependencies(victims: "dict[bpy.types.ID, str]") -> "dict[bpy.types.ID, str]":
    """*victims* and every local data-block they point at, directly or not (what a write holds)."""
    users = bpy.data.user_map()
    found = dict(victims)
    grown = True
    while grown:
        grown = False
        for idb, its_users in users.items():
            if idb in found or idb.library is not None:
                continue
            if any(user in found for user in its_users):
                found[idb] = ref(idb)[0]
                grown = True
    return found


def _remove_stale_backups() -> None:
    """Backups left by processes that were killed before they could delete them."""
    folder = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for path in folder.glob(f"{_PREFIX}*-*.blend*"):
            pid = path.name[len(_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
