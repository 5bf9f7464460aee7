"""LeanRoute's pytest plugin: memory checks for tests of Blender code.

Installed with the package, pytest loads :mod:`.pytest_plugin` by itself (entry point
``pytest11``, plugin name ``leanroute``). It adds

- ``@pytest.mark.bmesh_leak_free``: the test must not leave live BMeshes;
- ``@pytest.mark.no_orphans``: the test must not leave orphan data-blocks it created;
- ``@pytest.mark.memory_growth_limit("20 MB", runs=5)``: the test body, run again and
  again, must not grow RSS or Blender's allocator by more than the limit per run;
- the ``memory_guard`` fixture: the same checks, switched on from inside a test, plus a
  per-test RSS budget and the current figures.

Nothing in this package imports ``bpy`` when it is imported: the checks that need
Blender import it when they start, and skip the test clearly where it is missing.
User documentation: ``docs/testing.md``.
"""
