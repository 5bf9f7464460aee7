"""Batch runs: many route scenes from one jobs file, memory flat from the first job to the last.

See docs/batch.md. Plain modules (jobs file, sharding, admission, circuit breaker, job records,
worker processes, the coordinator) never import bpy; ``job_runner``, ``worker_loop`` and
``launcher`` are the Blender shell.
"""
