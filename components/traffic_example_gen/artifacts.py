"""The ``TrafficRejects`` artifact type: unusable input rows and the run's counts."""

from __future__ import annotations

from tfx.types import artifact

# The file names live in ``accounting`` so that Beam workers need not import TFX.
from components.traffic_example_gen.accounting import (  # noqa: F401  (re-exported)
    COUNTS_FILE,
    REJECTS_FILE_PREFIX,
    REJECTS_FILE_SUFFIX,
)


class TrafficRejects(artifact.Artifact):
    """GZIP'd JSON lines, one per rejected row: file, row, field, reason, value.

    The directory also holds ``counts.json``, the accounting of the run.
    """

    # Kubeflow V2 needs "<short module>.<Class>" and imports the class by that path in
    # the container, so the type is named after (and exported from) the package.
    TYPE_NAME = "components.TrafficRejects"
