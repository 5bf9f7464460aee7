"""Shared test helpers; importable both in the venv and inside the blender binary."""
