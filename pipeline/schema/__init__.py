"""The curated schema (schema.pbtxt) shipped inside the package."""

from __future__ import annotations

from importlib import resources


def curated_schema_path() -> str:
    """Absolute path of the curated schema file in this installation."""
    return str(resources.files(__name__).joinpath("schema.pbtxt"))
