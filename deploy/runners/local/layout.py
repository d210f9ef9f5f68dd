"""The local output layout (paths only): importable without TFX, e.g. by ``lineage``.

Layout under the output dir (``./output`` by default)::

    metadata.sqlite              one MLMD store shared by every city (cross-city lineage),
                                 unless ``metadata`` names a MySQL server instead
    pipelines/<city>/            the pipeline root (artifacts), plus logs/ and tmp/ (every
                                 temp file of a run; removed when the run ends)
    serving/<city>/<version>/    pushed (blessed) models
    data/<city>/                 generated data when no --data is given
    data/<city>-counts/          the same, as hourly counts (``data.kind: counts``)
    tfx_package/<tfx version>/   TFX's Beam dependency package, built once (tfx_package.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transforms import features


@dataclass(frozen=True)
class LocalLayout:
    """Every path the local runner uses, derived from one output dir."""

    output_dir: Path
    metadata_store: str = ""  # mysql://user@host:port/db; empty: the SQLite file below

    @property
    def metadata_path(self) -> Path:
        return self.output_dir / "metadata.sqlite"

    @property
    def metadata_location(self) -> str:
        """The MLMD store: the MySQL URI when given, else the SQLite file path."""
        return self.metadata_store or str(self.metadata_path)

    def pipeline_root(self, city: str) -> Path:
        return self.output_dir / "pipelines" / city

    def serving_base(self, city: str) -> Path:
        return self.output_dir / "serving" / city

    def data_dir(self, city: str, data_kind: str = features.DATA_KIND_EVENTS) -> Path:
        """Where the city's generated data goes; counts beside events, never mixed."""
        suffix = "" if data_kind == features.DATA_KIND_EVENTS else f"-{data_kind}"
        return self.output_dir / "data" / f"{city}{suffix}"

    def log_dir(self, city: str) -> Path:
        return self.pipeline_root(city) / "logs"

    def tmp_dir(self, city: str) -> Path:
        """The run's temp dir (``TMPDIR`` while it runs), under its own output."""
        return self.pipeline_root(city) / "tmp"

    @property
    def tfx_package_dir(self) -> Path:
        """TFX's Beam dependency package, shared by every city and run (``tfx_package``)."""
        return self.output_dir / "tfx_package"
