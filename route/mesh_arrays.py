"""A mesh as flat numpy arrays, ready for Blender's ``foreach_set`` (plain numpy, no bpy)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MeshArrays:
    """Vertices (n, 3) float32; faces as ``loop_starts``/``loop_totals`` into ``loop_vertices``.

    ``face_materials`` (int16 per face) picks the material slot; zeros by default.
    """

    vertices: np.ndarray
    loop_starts: np.ndarray
    loop_totals: np.ndarray
    loop_vertices: np.ndarray
    face_materials: "np.ndarray | None" = None

    @property
    def vertex_count(self) -> int:
        """How many vertices."""
        return len(self.vertices)

    @property
    def face_count(self) -> int:
        """How many faces."""
        return len(self.loop_totals)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        arrays = (self.vertices, self.loop_starts, self.loop_totals, self.loop_vertices)
        extra = self.face_materials.nbytes if self.face_materials is not None else 0
        return sum(a.nbytes for a in arrays) + extra

    @classmethod
    def empty(cls) -> "MeshArrays":
        """A mesh with nothing in it."""
        return cls(
            np.zeros((0, 3), np.float32),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
        )

    @classmethod
    def from_faces(
        cls, vertices, faces: Sequence[Sequence[int]], face_materials=None
    ) -> "MeshArrays":
        """Build from a vertex list and a list of faces (each a sequence of vertex indices)."""
        totals = np.fromiter((len(f) for f in faces), np.int32, len(faces))
        starts = np.zeros(len(faces), np.int32)
        if len(faces):
            np.cumsum(totals[:-1], out=starts[1:])
        loops = np.fromiter((i for f in faces for i in f), np.int32, int(totals.sum()))
        materials = None if face_materials is None else np.asarray(face_materials, np.int16)
        return cls(
            np.asarray(vertices, np.float32).reshape(-1, 3), starts, totals, loops, materials
        )

    @classmethod
    def concat(cls, parts: Iterable["MeshArrays"]) -> "MeshArrays":
        """One mesh holding all *parts* (indices shifted)."""
        parts = [p for p in parts if p.face_count or p.vertex_count]
        if not parts:
            return cls.empty()
        vertex_offsets = np.cumsum([0] + [p.vertex_count for p in parts[:-1]])
        loop_offsets = np.cumsum([0] + [len(p.loop_vertices) for p in parts[:-1]])
        with_materials = any(p.face_materials is not None for p in parts)
        return cls(
            np.concatenate([p.vertices for p in parts]).astype(np.float32, copy=False),
            np.concatenate(
                [p.loop_starts + o for p, o in zip(parts, loop_offsets, strict=True)]
            ).astype(np.int32, copy=False),
            np.concatenate([p.loop_totals for p in parts]).astype(np.int32, copy=False),
            np.concatenate(
                [p.loop_vertices + o for p, o in zip(parts, vertex_offsets, strict=True)]
            ).astype(np.int32, copy=False),
            np.concatenate(
                [
                    p.face_materials
                    if p.face_materials is not None
                    else np.zeros(p.face_count, np.int16)
                    for p in parts
                ]
            ).astype(np.int16, copy=False)
            if with_materials
            else None,
        )
