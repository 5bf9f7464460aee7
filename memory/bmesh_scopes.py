"""Context managers that guarantee a BMesh is freed on every exit path.

::

    with bmesh_from_mesh(mesh, write_back=True) as bm:
        bmesh.ops.triangulate(bm, faces=bm.faces)
    # written back to mesh (only if the block succeeded) and freed, exceptions included

Each scope registers its BMesh with the ledger of the innermost open stage, so the panel's
"live BMeshes" figure and the stage reports count it.
"""

import bmesh
import bpy

from .bmesh_ledger import BMeshLedger, active_ledger, caller_site
from .datablock_owner import id_key


class BMeshScopeError(ReferenceError):
    """A BMesh scope was misused: its BMesh used after the scope, or its mesh is gone."""


class MeshRemovedError(BMeshScopeError):
    """The mesh a scope should write back to no longer exists."""


class _BMeshScope:
    """Base: owns one BMesh between ``__enter__`` and ``__exit__``."""

    kind = "scope"

    def __init__(self, label: str, site: str):
        self.label = label
        self.site = site
        self._bm = None
        self._ledger: BMeshLedger | None = None
        self.closed = False

    @property
    def bm(self):
        """The scope's BMesh; a clear error once the scope has closed."""
        if self.closed:
            raise BMeshScopeError(
                f"the BMesh of {self.label} (opened at {self.site}) was freed when its scope "
                "closed; use it inside the 'with' block, or copy what you need out of it"
            )
        return self._bm

    def _create(self):
        self._ledger = active_ledger()
        return self._ledger.new(self.site)

    def _fill(self, bm) -> None:
        """Load data into the new BMesh (subclasses)."""

    def _on_success(self, bm) -> None:
        """Write results back (subclasses)."""

    def __enter__(self):
        bm = self._create()
        self._bm = bm
        try:
            self._fill(bm)
        except BaseException:
            self._release()
            raise
        return bm

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._on_success(self._bm)
        finally:
            self._release()

    def _release(self) -> None:
        bm, self._bm = self._bm, None
        self.closed = True
        if bm is None:
            return
        if bm.is_valid:
            bm.free()
        if self._ledger is not None:
            self._ledger.forget(bm)


class new_bmesh(_BMeshScope):
    """A new, empty BMesh, freed when the block ends."""

    def __init__(self):
        super().__init__("new_bmesh()", caller_site())


class _MeshRef:
    """A mesh remembered by name and identity key (see datablock_owner.id_key).

    A removed mesh is detected, never dereferenced, and on Blender 4.x+ a new mesh that
    lands at the freed address is not taken for it.
    """

    def __init__(self, mesh: "bpy.types.Mesh"):
        self.name = mesh.name
        self.key = id_key(mesh)

    def resolve(self) -> "bpy.types.Mesh | None":
        mesh = bpy.data.meshes.get(self.name)
        if mesh is not None and id_key(mesh) == self.key:
            return mesh
        for mesh in bpy.data.meshes:  # renamed meanwhile
            if id_key(mesh) == self.key:
                return mesh
        return None


class bmesh_from_mesh(_BMeshScope):
    """A BMesh loaded from *mesh*; with *write_back*, written to it only if the block succeeds."""

    def __init__(self, mesh: "bpy.types.Mesh", *, write_back: bool = False):
        if not isinstance(mesh, bpy.types.Mesh):
            raise TypeError(f"bmesh_from_mesh needs a bpy.types.Mesh, not {type(mesh).__name__}")
        super().__init__(f"bmesh_from_mesh(mesh {mesh.name!r})", caller_site())
        self.mesh_ref = _MeshRef(mesh)
        self.write_back = write_back

    def _fill(self, bm) -> None:
        bm.from_mesh(self._mesh("read"))

    def _mesh(self, action: str) -> "bpy.types.Mesh":
        mesh = self.mesh_ref.resolve()
        if mesh is None:
            raise MeshRemovedError(
                f"cannot {action} mesh {self.mesh_ref.name!r}: it was removed while "
                f"{self.label} (opened at {self.site}) was open; the BMesh was freed"
            )
        return mesh

    def _on_success(self, bm) -> None:
        if self.write_back:
            mesh = self._mesh("write the BMesh back to")
            bm.to_mesh(mesh)
            mesh.update()


class bmesh_from_object(_BMeshScope):
    """A BMesh of *obj*'s evaluated mesh (modifiers applied) from *depsgraph*."""

    def __init__(self, obj: "bpy.types.Object", depsgraph=None, *, cage: bool = False):
        if not isinstance(obj, bpy.types.Object):
            raise TypeError(f"bmesh_from_object needs a bpy.types.Object, not {type(obj).__name__}")
        super().__init__(f"bmesh_from_object(object {obj.name!r})", caller_site())
        self.obj = obj
        self.depsgraph = depsgraph or bpy.context.evaluated_depsgraph_get()
        self.cage = cage

    def _fill(self, bm) -> None:
        bm.from_object(self.obj.evaluated_get(self.depsgraph), self.depsgraph, cage=self.cage)


class edit_bmesh:
    """The edit-mode BMesh of a mesh in edit mode: Blender's shared wrapper.

    Never freed (freeing it would only invalidate the wrapper Blender shares); on exit,
    success or not, ``bmesh.update_edit_mesh`` pushes the changes to the viewport.
    """

    def __init__(self, target, *, loop_triangles: bool = True, destructive: bool = True):
        mesh = target.data if isinstance(target, bpy.types.Object) else target
        if not isinstance(mesh, bpy.types.Mesh):
            raise TypeError(f"edit_bmesh needs a mesh object or a Mesh, not {target!r}")
        if not mesh.is_editmode:
            raise BMeshScopeError(
                f"mesh {mesh.name!r} is not in edit mode: use bmesh_from_mesh() for object "
                "mode, or enter edit mode first"
            )
        self.site = caller_site()
        self.mesh_ref = _MeshRef(mesh)
        self.loop_triangles = loop_triangles
        self.destructive = destructive

    def __enter__(self):
        return bmesh.from_edit_mesh(self.mesh_ref.resolve())

    def __exit__(self, exc_type, exc, tb) -> None:
        mesh = self.mesh_ref.resolve()
        if mesh is not None and mesh.is_editmode:
            bmesh.update_edit_mesh(
                mesh, loop_triangles=self.loop_triangles, destructive=self.destructive
            )
