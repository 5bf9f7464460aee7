"""Random user edits between rebuilds, Clear and orphan removal: nothing of the user's is lost.

No link of the user's dangles either, and LeanRoute's own data does not pile up. A
property-style attack on the real ``bpy`` module: each sequence (a fixed seed each, so a
failure names the sequence that reproduces it) builds a small city, then takes 4 to 6 steps
of one to three random user edits followed by a rebuild (with or without a saved .blend),
Clear, Remove Build Orphans or a build that fails. The edits are the ones users make:
Shift+D and Alt+D on build objects, copying the build collection (renamed or not, with its
objects or copies of them), linking an object of their own into it or a build object into a
collection of their own, a build material in their object's slot, their material on a build
mesh, an object sharing a build mesh, a rig parented to the car, Child Of / Copy Location
constraints on it, a ``frame_change_post`` handler that makes an object, renaming, hiding,
moving and excluding things.

After every step every data-block the user made or copied (each labelled ``test_user_id``)
still exists with its links (collections in the scene, parent, constraint targets, material
slots, mesh size); after a rebuild, Clear or orphan sweep no LeanRoute-tagged data is left
unused and the tagged count is at most one build's; at the end of each sequence the same holds after
a save and reload and one more rebuild. ``LEANROUTE_FUZZ_SCALE`` multiplies the sequences.
"""

import contextlib
import random

import bpy
import pytest
from helpers.fuzz_scale import fuzz_scale
from helpers.scene import fingerprint
from helpers.user_edits import (
    USER_ID,
    build,
    build_object,
    duplicate,
    mark,
    marked,
    save_and_reload,
    tagged_count,
)

from leanroute.memory.datablock_identity import Ownership, tagged_ids
from leanroute.route.build_collection import all_builds
from leanroute.route.errors import RouteError
from leanroute.route.sample_city import write_sample_city

SEQUENCES = 25
SEED = 1919
BUILD_OBJECTS = ("LeanRoute Roads", "LeanRoute Buildings", "LeanRoute Ground", "LeanRoute Car")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return write_sample_city(tmp_path_factory.mktemp("city") / "fuzz.osm", buildings=20)


class Attack:
    """One sequence: the user's edits, what each must keep, and the checks."""

    def __init__(self, seed: int, city, folder):
        self.rng = random.Random(seed)
        self.city = city
        self.folder = folder
        self.expect: dict[str, dict] = {}
        self.handlers: list = []
        self.count = 0
        self.per_build = 0
        self.log: list[str] = []

    # -- edits -------------------------------------------------------------------------

    def label(self, idb, **expect) -> str:
        self.count += 1
        name = f"{idb.name} #{self.count}"
        mark(idb, name)
        self.expect[name] = expect
        return name

    def build_object(self, names=BUILD_OBJECTS):
        if not all_builds(bpy.context.scene):
            return None
        try:
            return build_object(self.rng.choice(names))
        except LookupError:
            return None

    def edit_duplicate(self, linked: bool) -> None:
        source = self.build_object(("LeanRoute Roads", "LeanRoute Buildings", "LeanRoute Car"))
        if source is None:
            return
        try:
            copy = duplicate(source, linked=linked)
        except RuntimeError:  # not in the view layer (its collection is excluded)
            return
        self.label(copy, vertices=len(copy.data.vertices))

    def edit_copy_collection(self) -> None:
        builds = all_builds(bpy.context.scene)
        if not builds:
            return
        copy = builds[0].copy()
        if self.rng.random() < 0.5:
            copy.name = f"my city {self.count}"
        bpy.context.scene.collection.children.link(copy)
        if self.rng.random() < 0.5:
            for obj in list(copy.objects):
                copy.objects.unlink(obj)
                copied = obj.copy()
                copy.objects.link(copied)
                self.label(copied)  # its own label, not the one it may have copied
        self.label(copy, objects=len(copy.objects))

    def edit_own_object_into_build(self) -> None:
        builds = all_builds(bpy.context.scene)
        if not builds:
            return
        mesh = bpy.data.meshes.new("my mesh")
        mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
        obj = bpy.data.objects.new("my object", mesh)
        builds[0].objects.link(obj)
        self.label(obj, vertices=3)

    def edit_build_object_into_own_collection(self) -> None:
        source = self.build_object()
        if source is None:
            return
        mine = bpy.data.collections.new("my collection")
        bpy.context.scene.collection.children.link(mine)
        mine.objects.link(source)
        self.label(mine, objects=1)

    def edit_build_material_in_own_slot(self) -> None:
        materials = [m for m in bpy.data.materials if m.name.startswith("LeanRoute ")]
        if not materials:
            return
        cube = bpy.data.objects.get("Cube")
        if cube is None or cube.get(USER_ID) is None:
            mesh = bpy.data.meshes.new("my slots")
            cube = bpy.data.objects.new("my slotted object", mesh)
            bpy.context.scene.collection.objects.link(cube)
            self.label(cube, slots={})
        material = self.rng.choice(materials)
        cube.data.materials.append(material)
        expect = self.expect.setdefault(cube[USER_ID], {"slots": {}})
        expect.setdefault("slots", {})[len(cube.data.materials) - 1] = material.name

    def edit_own_material_on_build_mesh(self) -> None:
        target = self.build_object(("LeanRoute Roads", "LeanRoute Buildings", "LeanRoute Ground"))
        if target is None or not target.data.materials:
            return
        replaced = target.data.materials[0]
        if replaced is not None and replaced.get(USER_ID) is not None and replaced.users == 1:
            # The user unassigns their own material: Blender drops it on save, as it should.
            self.expect.pop(replaced[USER_ID], None)
        material = bpy.data.materials.new("my paint")
        target.data.materials[0] = material
        self.label(material)

    def edit_share_mesh(self) -> None:
        source = self.build_object(("LeanRoute Roads", "LeanRoute Buildings", "LeanRoute Ground"))
        if source is None:
            return
        obj = bpy.data.objects.new("my sharer", source.data)
        bpy.context.scene.collection.objects.link(obj)
        self.label(obj, vertices=len(source.data.vertices))

    def edit_rig(self, how: str) -> None:
        car = self.build_object(("LeanRoute Car",))
        if car is None:
            return
        rig = bpy.data.objects.new(f"my {how}", None)
        bpy.context.scene.collection.objects.link(rig)
        if how == "parent":
            rig.parent = car
            self.label(rig, parent=True)
        else:
            rig.constraints.new(how).target = car
            self.label(rig, targets=1)

    def edit_handler(self) -> None:
        made = []

        def handler(scene, *_args):
            if not made:
                obj = bpy.data.objects.new("made by my handler", None)
                scene.collection.objects.link(obj)
                made.append(self.label(obj))

        bpy.app.handlers.frame_change_post.append(handler)
        self.handlers.append(handler)

    def edit_rename(self) -> None:
        source = self.build_object()
        if source is None:
            return
        source.name = f"my renamed {self.count}"
        self.label(source, name=source.name)

    def edit_hide_or_move(self) -> None:
        view_layer = bpy.context.view_layer
        choice = self.rng.random()
        builds = all_builds(bpy.context.scene)
        if choice < 0.3 and builds:
            for child in view_layer.layer_collection.children:
                if child.collection == builds[0]:
                    child.exclude = not child.exclude
            return
        candidates = [o for o in bpy.data.objects if o.users_scene]
        if not candidates:
            return
        obj = self.rng.choice(candidates)
        if choice < 0.65:
            with contextlib.suppress(RuntimeError):  # in an excluded collection
                obj.hide_set(not obj.hide_get())
        else:
            obj.location.x += self.rng.uniform(-50, 50)

    EDITS = (
        ("duplicate", lambda self: self.edit_duplicate(False)),
        ("duplicate linked", lambda self: self.edit_duplicate(True)),
        ("copy collection", lambda self: self.edit_copy_collection()),
        ("own object into build", lambda self: self.edit_own_object_into_build()),
        ("build object into own", lambda self: self.edit_build_object_into_own_collection()),
        ("build material in own slot", lambda self: self.edit_build_material_in_own_slot()),
        ("own material on build mesh", lambda self: self.edit_own_material_on_build_mesh()),
        ("share mesh", lambda self: self.edit_share_mesh()),
        ("parent to car", lambda self: self.edit_rig("parent")),
        ("child of car", lambda self: self.edit_rig("CHILD_OF")),
        ("copy location of car", lambda self: self.edit_rig("COPY_LOCATION")),
        ("handler", lambda self: self.edit_handler()),
        ("rename", lambda self: self.edit_rename()),
        ("hide or move", lambda self: self.edit_hide_or_move()),
    )

    # -- operations --------------------------------------------------------------------

    def rebuild(self, save: bool = False) -> None:
        out = self.folder / f"scene-{self.count}.blend" if save else None
        build(self.city, out=out)
        if out is not None:
            assert out.read_bytes()[:7] == b"BLENDER"
        self.check_lean()

    def clear(self) -> None:
        if all_builds(bpy.context.scene):
            assert bpy.ops.leanroute.clear() == {"FINISHED"}
        assert not all_builds(bpy.context.scene)
        self.check_lean(builds=0)

    def remove_orphans(self) -> None:
        assert bpy.ops.leanroute.remove_build_orphans() == {"FINISHED"}
        self.check_lean()

    def failing_build(self) -> None:
        before = fingerprint()
        start = self.city.waypoints[0]
        with pytest.raises(RouteError):
            build(self.city, waypoints=(start, (start[0] + 1.0, start[1])))
        assert fingerprint() == before, "a failed build leaves the scene as it was"

    OPERATIONS = (
        ("rebuild", lambda self: self.rebuild()),
        ("rebuild and save", lambda self: self.rebuild(save=True)),
        ("clear", lambda self: self.clear()),
        ("remove build orphans", lambda self: self.remove_orphans()),
        ("failing build", lambda self: self.failing_build()),
    )

    # -- checks ------------------------------------------------------------------------

    def check_user_data(self, when: str) -> None:
        found = marked()
        lost = sorted(set(self.expect) - set(found))
        assert not lost, f"{when}: lost {lost}"
        for label, expect in self.expect.items():
            _check_one(found[label], expect, f"{when}: {label}")

    def check_lean(self, builds: "int | None" = None) -> None:
        """No LeanRoute-tagged data left unused; no more tagged than the builds hold."""
        ownership = Ownership()
        unused = [
            idb.name
            for _, idb, _ in tagged_ids()
            if idb.users == 0 and not idb.use_fake_user and ownership.ours(idb)
        ]
        assert not unused, f"LeanRoute data left unused: {unused}"
        builds = len(all_builds(bpy.context.scene)) if builds is None else builds
        assert tagged_count() <= builds * self.per_build, "LeanRoute data piles up"

    def run(self, steps: int) -> None:
        build(self.city)
        self.per_build = tagged_count()
        for step in range(steps):
            for _ in range(self.rng.randint(1, 3)):
                name, edit = self.rng.choice(self.EDITS)
                self.log.append(name)
                edit(self)
            name, operation = self.rng.choice(self.OPERATIONS)
            self.log.append(f"-> {name}")
            operation(self)
            self.check_user_data(f"step {step} ({name})")
        for handler in self.handlers:
            bpy.app.handlers.frame_change_post.remove(handler)
        self.handlers.clear()
        save_and_reload(self.folder / "end.blend")
        self.check_user_data("after save and reload")
        build(self.city)
        self.check_lean()
        self.check_user_data("after a rebuild of the reloaded file")


def _check_one(idb, expect: dict, where: str) -> None:
    if isinstance(idb, bpy.types.Object):
        assert idb.users_scene, f"{where}: in no scene (lost when saved)"
        if "vertices" in expect:
            assert idb.data is not None and len(idb.data.vertices) == expect["vertices"], where
        if expect.get("parent"):
            assert idb.parent is not None and idb.parent.users_scene, f"{where}: parent"
        if expect.get("targets"):
            targets = [c.target for c in idb.constraints]
            assert all(t is not None and t.users_scene for t in targets), f"{where}: target"
        for index, name in expect.get("slots", {}).items():
            material = idb.data.materials[index]
            assert material is not None and material.name == name, f"{where}: slot {index}"
        if "name" in expect:
            assert idb.name == expect["name"], where
    elif isinstance(idb, bpy.types.Collection):
        scene_collections = bpy.context.scene.collection.children_recursive
        assert idb in scene_collections, f"{where}: not in the scene"
        assert len(idb.objects) >= expect["objects"], f"{where}: objects"


@pytest.mark.parametrize("sequence", range(SEQUENCES * fuzz_scale()))
def test_random_user_edits_between_rebuilds_lose_nothing(addon_scene, city, tmp_path, sequence):
    attack = Attack(SEED + sequence, city, tmp_path)
    try:
        attack.run(steps=attack.rng.randint(4, 6))
    except AssertionError as error:
        raise AssertionError(f"sequence {sequence}: {' | '.join(attack.log)}\n{error}") from None
    finally:
        for handler in attack.handlers:
            bpy.app.handlers.frame_change_post.remove(handler)
