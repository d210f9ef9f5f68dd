"""How a blessing is tied to its city, so that no resolver crosses cities.

The Evaluator writes the custom property ``city`` on every ModelBlessing it produces.
Locally, resolvers only see the city's own pipeline context (TFX scopes a producer-less
channel to the pipeline), and ``PreviousBlessedModelStrategy`` also checks the property.
On Kubeflow V2 / Vertex, TFX 1.16 compiles LatestBlessedModelStrategy to an ML Metadata
query with no pipeline clause (``schema_title="tfx.ModelBlessing" AND state=LIVE AND
metadata.blessed.number_value=1``) over the project's regional store, shared by every
city; ``vertex_blessing_filter`` is the clause the compile appends to it. Light: no TFX
import.
"""

from __future__ import annotations

import json

CITY_PROPERTY = "city"  # custom property of ModelBlessing: the city it was produced for


def vertex_blessing_filter(city: str) -> str:
    """The AIP-160 clause restricting a Vertex ML Metadata query to ``city``'s blessings."""
    return f"metadata.{CITY_PROPERTY}.string_value={json.dumps(city)}"


def same_city(blessing_city: str | None, city: str) -> bool:
    """A blessing belongs to ``city``; one without the property (written before the
    property existed) is accepted, as it was found inside the city's pipeline context."""
    return blessing_city in (None, "", city)
