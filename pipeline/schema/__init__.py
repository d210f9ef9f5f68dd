"""The curated schemas shipped inside the package, one per data kind.

``schema.pbtxt`` describes per-vehicle examples (``data.kind: events``),
``counts_schema.pbtxt`` hourly-count examples (``data.kind: counts``).
"""

from __future__ import annotations

from importlib import resources

from transforms import features

SCHEMA_FILES = {
    features.DATA_KIND_EVENTS: "schema.pbtxt",
    features.DATA_KIND_COUNTS: "counts_schema.pbtxt",
}


def schema_file_in(schema_dir: str, data_kind: str) -> str:
    """The curated schema of ``data_kind`` in a copy of this folder (local, image or gs://)."""
    return f"{schema_dir.rstrip('/')}/{SCHEMA_FILES[data_kind]}"


def curated_schema_dir() -> str:
    """Absolute path of the folder of curated schema files in this installation."""
    return str(resources.files(__name__))


def curated_schema_path(data_kind: str = features.DATA_KIND_EVENTS) -> str:
    """Absolute path of the curated schema file of ``data_kind`` in this installation."""
    return str(resources.files(__name__).joinpath(SCHEMA_FILES[data_kind]))
