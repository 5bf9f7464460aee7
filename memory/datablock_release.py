"""Removing data-blocks LeanRoute made without taking the user's data or links with them.

``release(victims)`` (or ``Release(victims).prepare()`` then ``.remove()``) works in steps:

1. **retarget** (only given ``counterpart``, i.e. a rebuild): a user's pointer to a victim
   object or collection is pointed at its counterpart in the new build: an object's parent,
   constraint and modifier targets, driver targets, instanced collection, a camera's focus
   object, a scene's camera, and a user collection or another scene holding the build;
2. **adopt**: a victim that user data still uses (a user's object sharing its mesh, its
   material in a user's slot, its object in a user's collection, a parent with no
   counterpart, ...) is kept and untagged, and in turn everything it uses;
3. **relocate**: a user's object or collection inside a victim collection that goes is
   linked into ``relocate(collection)`` (a new build's collection, or the scene's), and an
   adopted object in no collection of the user's into the scene's collection, so each stays
   in the scene and is saved;
4. **remove** the rest; user data that only removed data-blocks used gets a fake user, so
   saving the file does not drop it.

Every change is journalled: :meth:`Release.undo` puts links, pointers, tags and fake users
back (after the caller restored the removed data-blocks, e.g. from a backup file). Data that
is LeanRoute's own (tagged, see :mod:`.datablock_identity`) never counts as the user's.
"""

from collections import Counter
from collections.abc import Callable, Iterable

import bpy

from .blender_stats import ID_COLLECTIONS, NEVER_ORPHANS
from .datablock_identity import Ownership, disown, retag
from .datablock_keys import Ref, collection_name, id_key, ref

_UI_TYPES = (bpy.types.Screen, bpy.types.WindowManager, bpy.types.WorkSpace)
_LINKABLE = (bpy.types.Object, bpy.types.Collection)


class Release:
    """One removal of LeanRoute data-blocks; see the module's docstring."""

    def __init__(
        self,
        victims: "Iterable[bpy.types.ID]",
        *,
        home_scenes: "Iterable[bpy.types.Scene] | None" = None,
        relocate: "Callable[[bpy.types.Collection], bpy.types.Collection] | None" = None,
        counterpart: "Callable[[bpy.types.ID], bpy.types.ID | None] | None" = None,
        tag_keys: "tuple[str, ...]" = (),
        adopt: bool = True,
    ):
        self.victims: dict[bpy.types.ID, str] = {}
        for idb in victims:
            if idb is not None and idb.library is None:
                self.victims[idb] = collection_name(idb)
        #: Scenes whose direct link to a victim collection is LeanRoute's own (None: all).
        self.home_scenes = None if home_scenes is None else list(home_scenes)
        self._relocate = relocate
        self._counterpart = counterpart
        self.tag_keys = tuple(tag_keys)
        #: False for a stage's own rollback: links it made from user data go with it.
        self._adopt = adopt
        self.journal: list[tuple] = []
        self.adopted: Counter[str] = Counter()
        self.removed: dict[str, int] = {}
        self.kept_for_user: Counter[str] = Counter()
        self.relocated = 0
        self.retargeted = 0
        self._ownership = Ownership()
        self._prepared = False
        #: Set just before the victims are removed: from then on undo needs them restored.
        self.removing = False

    # -- the steps -------------------------------------------------------------------------

    def prepare(self) -> "Release":
        """Retarget, adopt and relocate (every change journalled); nothing is removed yet."""
        if not self._prepared:
            self._prepared = True
            if self.victims:
                adopted = []
                if self._counterpart is not None and self._adopt:
                    self._retarget()
                if self._adopt:
                    adopted = self._adopt_what_users_use()
                # Adopted objects go to the scene first, so they are not taken for user
                # objects put in the build; then only members of collections that really
                # go need a new home.
                for idb in adopted:
                    self._keep_reachable(idb)
                self._relocate_members()
        return self

    def disown(self, idb: "bpy.types.ID") -> None:
        """Take LeanRoute's tags off *idb* (a user's copy), journalled like an adoption."""
        self.journal.append(("disown", ref(idb), disown(idb, self.tag_keys)))

    def remove(self) -> dict[str, int]:
        """Remove the victims left after :meth:`prepare`; returns counts by ``bpy.data`` type."""
        self.prepare()
        if not self.victims:
            return {}
        watched = self._user_data_in_use() if self._adopt else []
        self.removed = dict(Counter(self.victims.values()))
        self.removing = True
        bpy.data.batch_remove(list(self.victims))
        self.victims = {}
        for idb, name in watched:
            if idb.users == 0 and not idb.use_fake_user:
                idb.use_fake_user = True  # only our removed data used it: keep it saved
                self.kept_for_user[name] += 1
                self.journal.append(("fake_user", ref(idb)))
        return self.removed

    def undo(self, resolve: "Callable[[Ref], bpy.types.ID | None] | None" = None) -> None:
        """Reverse the journal, newest first; *resolve* finds a data-block by its old ref.

        Run it after the removed data-blocks are back (restored from a backup), with a
        *resolve* that maps their old refs to the restored ones; or, before :meth:`remove`,
        to call the whole release off.
        """
        resolve = resolve or alive_resolver()
        for entry in reversed(self.journal):
            _undo_entry(entry, resolve)
        self.journal.clear()

    # -- 3. relocate -----------------------------------------------------------------------

    def _relocation_for(self, collection: "bpy.types.Collection") -> "bpy.types.Collection":
        if self._relocate is not None:
            target = self._relocate(collection)
            if target is not None and target not in self.victims:
                return target
        for scene in bpy.data.scenes:
            if _holds(scene.collection, collection):
                return scene.collection
        return (bpy.context.scene or bpy.data.scenes[0]).collection

    def _relocate_members(self) -> None:
        for victim in [v for v in self.victims if isinstance(v, bpy.types.Collection)]:
            for obj in list(victim.objects):
                if obj in self.victims or self._ownership.ours(obj):
                    continue  # ours: cleaned up as ours (an orphan next), not kept for a user
                if not self._has_other_home(obj.users_collection):
                    self._link(self._relocation_for(victim), obj)
                    self.relocated += 1
            children = [
                child
                for child in victim.children
                if child not in self.victims and not self._ownership.ours(child)
            ]
            if not children:
                continue
            parents = bpy.data.user_map(subset=children)
            for child in children:
                homes = [p for p in parents.get(child, ()) if isinstance(p, bpy.types.Collection)]
                homes += [s.collection for s in bpy.data.scenes if _holds(s.collection, child)]
                if not self._has_other_home(homes):
                    self._link(self._relocation_for(victim), child)
                    self.relocated += 1

    def _has_other_home(self, collections) -> bool:
        return any(c not in self.victims for c in collections)

    def _link(self, parent: "bpy.types.Collection", idb: "bpy.types.ID") -> None:
        if _holds(parent, idb):
            return
        (parent.objects if isinstance(idb, bpy.types.Object) else parent.children).link(idb)
        self.journal.append(("link", _parent_ref(parent), ref(idb)))

    # -- 1. retarget -----------------------------------------------------------------------

    def _retarget(self) -> None:
        linkable = [v for v in self.victims if isinstance(v, _LINKABLE)]
        if not linkable:
            return
        users = bpy.data.user_map(subset=linkable)
        for victim in linkable:
            new = self._counterpart(victim)
            if new is None or new in self.victims or type(new) is not type(victim):
                continue
            for user in users.get(victim, ()):
                if user in self.victims or isinstance(user, _UI_TYPES):
                    continue
                if self._ownership.ours(user) and not isinstance(user, bpy.types.Scene):
                    continue
                self._retarget_user(user, victim, new)

    def _retarget_user(self, user, victim, new) -> None:
        if isinstance(user, bpy.types.Scene):
            if user.camera == victim and not self._home(user):
                self._set_pointer(user, "", "camera", victim, new)
            if isinstance(victim, bpy.types.Collection) and not self._home(user):
                self._move_child(user.collection, victim, new)
            return
        if isinstance(user, bpy.types.Collection):
            if isinstance(victim, bpy.types.Collection):
                self._move_child(user, victim, new)
            return  # a user's collection holding our object keeps it (adopted)
        for owner_path, prop in _pointer_sites(user):
            owner = user.path_resolve(owner_path) if owner_path else user
            if getattr(owner, prop, None) == victim:
                self._set_pointer(user, owner_path, prop, victim, new)

    def _move_child(self, parent: "bpy.types.Collection", victim, new) -> None:
        if not _holds(parent, victim):
            return
        if not _holds(parent, new):
            parent.children.link(new)
            self.journal.append(("link", _parent_ref(parent), ref(new)))
        parent.children.unlink(victim)
        self.journal.append(("unlink", _parent_ref(parent), ref(victim)))
        self.retargeted += 1

    def _set_pointer(self, user, owner_path: str, prop: str, victim, new) -> None:
        owner = user.path_resolve(owner_path) if owner_path else user
        try:
            setattr(owner, prop, new)
        except (TypeError, AttributeError, ValueError, RuntimeError):
            return  # not settable here: the victim is adopted instead
        if getattr(owner, prop, None) != new:
            return
        self.journal.append(("pointer", ref(user), owner_path, prop, ref(victim)))
        self.retargeted += 1

    def _home(self, scene) -> bool:
        return self.home_scenes is None or scene in self.home_scenes

    # -- 2. adopt --------------------------------------------------------------------------

    def _adopt_what_users_use(self) -> "list[bpy.types.ID]":
        adopted: list[bpy.types.ID] = []
        while self.victims:
            users = bpy.data.user_map(subset=list(self.victims))
            found = [
                victim
                for victim in self.victims
                if any(self._user_link(victim, user) for user in users.get(victim, ()))
            ]
            if not found:
                break
            for victim in found:
                name = self.victims.pop(victim)
                removed = disown(victim, self.tag_keys)
                self.journal.append(("disown", ref(victim), removed))
                self.adopted[name] += 1
                adopted.append(victim)
        return adopted

    def _user_link(self, victim, user) -> bool:
        if user in self.victims or isinstance(user, (*_UI_TYPES, bpy.types.Key)):
            return False
        if isinstance(user, bpy.types.Scene):
            if isinstance(victim, bpy.types.Object):
                # A home scene's camera is ours to set (a build sets it, Clear restores it).
                camera = user.camera == victim and not self._home(user)
                return camera or _holds(user.collection, victim)
            if isinstance(victim, bpy.types.Collection):
                return _holds(user.collection, victim) and not self._home(user)
            return True
        return not self._ownership.ours(user)

    def _keep_reachable(self, idb) -> None:
        if isinstance(idb, bpy.types.Object):
            # Ours until now, the user's from now: into the scene, not into a new build.
            if not self._has_other_home(idb.users_collection):
                scenes = self.home_scenes or [bpy.context.scene or bpy.data.scenes[0]]
                self._link(scenes[0].collection, idb)
        elif isinstance(idb, bpy.types.Collection):
            # Kept where the user put it; our own link in the scene goes with the build.
            users = bpy.data.user_map(subset=[idb]).get(idb, ())
            held = any(
                isinstance(user, bpy.types.Collection | bpy.types.Object)
                or (isinstance(user, bpy.types.Scene) and not self._home(user))
                for user in users
                if user not in self.victims
            )
            if not held:
                return
            for scene in bpy.data.scenes:
                if self._home(scene) and _holds(scene.collection, idb):
                    scene.collection.children.unlink(idb)
                    self.journal.append(("unlink", ref(scene), ref(idb)))

    # -- 4. remove -------------------------------------------------------------------------

    def _user_data_in_use(self) -> "list[tuple[bpy.types.ID, str]]":
        watched = []
        for name in _DATA_COLLECTIONS:
            for idb in getattr(bpy.data, name, ()):
                if idb.users == 0 or idb.use_fake_user or idb.library is not None:
                    continue
                if idb not in self.victims and not self._ownership.ours(idb):
                    watched.append((idb, name))
        return watched


def release(victims, **options) -> Release:
    """Retarget, adopt, relocate and remove in one go (see the module); returns the journal."""
    done = Release(victims, **options)
    done.remove()
    return done


# Types whose user data can lose its last user when our data goes (objects are relocated,
# collections too; scenes and UI data always have users).
_DATA_COLLECTIONS = tuple(
    name
    for name in ID_COLLECTIONS
    if name not in {"brushes", "cache_files", "collections", "libraries", "objects", "scenes"}
    and name not in NEVER_ORPHANS
)


def _pointer_sites(user) -> "list[tuple[str, str]]":
    """``(path to a struct, property)`` for every object pointer a user's data-block has here."""
    sites: list[tuple[str, str]] = []
    if isinstance(user, bpy.types.Object):
        sites += [("", "parent"), ("", "instance_collection")]
        for stack in ("constraints", "modifiers"):
            for item in getattr(user, stack):
                path = item.path_from_id()
                sites += [(path, prop) for prop in _id_pointer_props(item)]
                for index, target in enumerate(getattr(item, "targets", None) or ()):
                    sites += [(f"{path}.targets[{index}]", p) for p in _id_pointer_props(target)]
    if isinstance(user, bpy.types.Camera):
        sites.append(("dof", "focus_object"))
    animation = getattr(user, "animation_data", None)
    if animation is not None:
        for f_index, fcurve in enumerate(animation.drivers):
            for v_index, variable in enumerate(fcurve.driver.variables):
                for t_index in range(len(variable.targets)):
                    path = (
                        f"animation_data.drivers[{f_index}].driver.variables[{v_index}]"
                        f".targets[{t_index}]"
                    )
                    sites.append((path, "id"))
    return sites


def _id_pointer_props(struct) -> "list[str]":
    return [
        prop.identifier
        for prop in struct.bl_rna.properties
        if prop.type == "POINTER"
        and not prop.is_readonly
        and isinstance(getattr(struct, prop.identifier, None), _LINKABLE)
    ]


def _holds(parent: "bpy.types.Collection", idb: "bpy.types.ID") -> bool:
    """True if *idb* (an object or a collection) is directly in *parent*."""
    items = parent.objects if isinstance(idb, bpy.types.Object) else parent.children
    return items.get(idb.name) == idb


def _parent_ref(parent: "bpy.types.Collection") -> Ref:
    # A scene's master collection is embedded in the scene: refer to the scene.
    for scene in bpy.data.scenes:
        if scene.collection == parent:
            return ref(scene)
    return ref(parent)


def _parent_collection(idb) -> "bpy.types.Collection | None":
    if idb is None:
        return None
    return idb.collection if isinstance(idb, bpy.types.Scene) else idb


def alive_resolver() -> "Callable[[Ref], bpy.types.ID | None]":
    """A resolver over the data-blocks alive now: ``(collection, key)`` -> data-block."""
    index: dict[Ref, bpy.types.ID] = {}

    def resolve(wanted: Ref):
        if not index:
            for name in {"scenes", *_DATA_COLLECTIONS, "objects", "collections"}:
                for idb in getattr(bpy.data, name, ()):
                    index[(name, id_key(idb))] = idb
        return index.get(wanted)

    return resolve


def _undo_entry(entry: tuple, resolve) -> None:
    kind = entry[0]
    if kind == "fake_user":
        idb = resolve(entry[1])
        if idb is not None:
            idb.use_fake_user = False
    elif kind == "disown":
        idb = resolve(entry[1])
        if idb is not None:
            retag(idb, entry[2])
    elif kind in ("link", "unlink"):
        parent, child = _parent_collection(resolve(entry[1])), resolve(entry[2])
        if parent is None or child is None:
            return
        items = parent.objects if isinstance(child, bpy.types.Object) else parent.children
        present = _holds(parent, child)
        if kind == "link" and present:
            items.unlink(child)
        elif kind == "unlink" and not present:
            items.link(child)
    elif kind == "pointer":
        user, old = resolve(entry[1]), resolve(entry[4])
        if user is None:
            return
        owner = user.path_resolve(entry[2]) if entry[2] else user
        setattr(owner, entry[3], old)
