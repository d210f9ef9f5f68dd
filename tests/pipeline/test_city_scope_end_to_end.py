"""End to end: two cities in one ML Metadata store; every resolver stays in its city.

London and Frankfurt share ``OUTPUT/metadata.sqlite``, both with ``warm_start:
{model: previous}``. Each first run is a cold start and says so; Frankfurt's first
Evaluator has no baseline although London has a blessed model in the store; London's
second run warm-starts from, and is gated against, London's first model although
Frankfurt's is the newest blessed model in the store.
"""

from __future__ import annotations

import pytest

from components.baseline.scope import CITY_PROPERTY
from deploy import exit_codes
from deploy.mlmd import metadata
from deploy.runners.local.layout import LocalLayout
from pipeline import names as wiring
from tests import e2e_support

pytestmark = pytest.mark.slow
PREVIOUS = {"model": "previous", "mode": "fine_tune"}


def _execution(store, city: str, run_id: str, node: str):
    name = wiring.pipeline_name(city)
    return next(
        e.execution for e in metadata.run_executions(store, name, run_id) if e.node_id == node
    )


def _last_run(layout: LocalLayout, city: str) -> str:
    store = metadata.open_store(layout.metadata_path)
    return metadata.run_ids(store, wiring.pipeline_name(city))[-1]


def test_two_cities_in_one_store_never_cross(tmp_path, capsys):
    output = tmp_path / "output"
    layout = LocalLayout(output)
    runs = {}
    for city, zone in (("london", "Europe/London"), ("frankfurt", "Europe/Berlin")):
        data = e2e_support.generate(city, tmp_path / f"data-{city}")
        config = e2e_support.write_config(
            tmp_path / f"{city}.yaml", city, zone, warm_start=PREVIOUS
        )
        assert e2e_support.run(city, config, data, output) == exit_codes.OK
        out = capsys.readouterr().out
        assert f"{city} has no blessed model yet, so this run is a cold start" in out
        runs[city] = (config, data, _last_run(layout, city))

    store = metadata.open_store(layout.metadata_path)
    models = {}
    for city, (_, _, run_id) in runs.items():
        executions = metadata.run_executions(store, wiring.pipeline_name(city), run_id)
        assert wiring.WARM_START_IMPORTER not in {e.node_id for e in executions}
        evaluator = _execution(store, city, run_id, wiring.EVALUATOR)
        assert metadata.inputs_of(store, evaluator.id, "baseline_model") == []
        blessing = metadata.outputs_of(store, evaluator.id, "blessing")[0]
        props = metadata.custom_properties(blessing)
        assert (props["blessed"], props[CITY_PROPERTY]) == (1, city)
        models[city] = metadata.inputs_of(store, evaluator.id, "model")[0]
    assert models["frankfurt"].id > models["london"].id  # Frankfurt's is the newest

    # London again (more steps: a new model): London's own previous model, both as donor
    # and as the Evaluator's baseline.
    config, data, _ = runs["london"]
    code = e2e_support.run(
        "london", config, data, output, "--train-steps", str(e2e_support.E2E_TRAIN_STEPS + 20)
    )
    assert code in (exit_codes.OK, exit_codes.NOT_BLESSED)
    out = capsys.readouterr().out
    assert f"warm start (fine_tune) from london model {models['london'].uri}" in out
    store = metadata.open_store(layout.metadata_path)
    second = _last_run(layout, "london")
    importer = _execution(store, "london", second, wiring.WARM_START_IMPORTER)
    (donor,) = metadata.outputs_of(store, importer.id, "result")
    assert donor.uri == models["london"].uri
    evaluator = _execution(store, "london", second, wiring.EVALUATOR)
    (baseline,) = metadata.inputs_of(store, evaluator.id, "baseline_model")
    assert baseline.id == models["london"].id
