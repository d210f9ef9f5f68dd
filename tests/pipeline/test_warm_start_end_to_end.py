"""Warm start end to end: Frankfurt trained from London's model, frozen and fine-tuned.

Reads the embedding tables back from the SavedModels' checkpoints by their stable key,
and the donor link from ML Metadata.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from tests import e2e_support
from transforms import features
from transforms.model import table_sha256

pytestmark = pytest.mark.slow
FRANKFURT = wiring.pipeline_name("frankfurt")


def _table(model_dir: str) -> np.ndarray:
    reader = tf.train.load_checkpoint(os.path.join(model_dir, "variables", "variables"))
    return reader.get_tensor(features.EMBEDDING_CHECKPOINT_KEY)


def _latest_pushed(layout, city: str) -> str:
    base = layout.serving_base(city)
    return str(base / max(os.listdir(base), key=int))


@pytest.fixture(scope="module")
def frankfurt(london, tmp_path_factory):
    root = tmp_path_factory.mktemp("frankfurt")
    data = e2e_support.generate("frankfurt", root / "data")
    config = e2e_support.write_config(root / "frankfurt.yaml", "frankfurt", "Europe/Berlin")
    return {"data": data, "config": config}


def _run_frankfurt(london, frankfurt, donor: str, mode: str) -> int:
    return e2e_support.run(
        "frankfurt",
        frankfurt["config"],
        frankfurt["data"],
        london["output"],
        "--warm-start-from",
        donor,
        "--warm-start-mode",
        mode,
    )


def _latest_trainer(store):
    execution = metadata.latest_execution_of(store, FRANKFURT, wiring.TRAINER)
    model = metadata.outputs_of(store, execution.id, "model")[0]
    return execution, os.path.join(model.uri, "Format-Serving")


def _latest_pushed_source(store, city: str):
    """The Model artifact behind a city's newest push (pushed models are blessed).

    Not simply the newest Trainer execution: other tests in the session add London
    runs whose (cached or retrained) models are not the latest blessed one.
    """
    ctx = store.get_context_by_type_and_name(
        "node", f"{wiring.pipeline_name(city)}.{wiring.PUSHER}"
    )
    for execution in sorted(store.get_executions_by_context(ctx.id), key=lambda e: -e.id):
        pushed = metadata.outputs_of(store, execution.id, "pushed_model")
        if pushed and metadata.custom_properties(pushed[0]).get("pushed") == 1:
            return metadata.inputs_of(store, execution.id, "model")[0]
    raise AssertionError(f"no pushed model of {city}")


def test_frozen_keeps_london_embedding_exactly_and_records_the_donor(london, frankfurt, capsys):
    layout = london["layout"]
    assert _run_frankfurt(london, frankfurt, "latest:london", "frozen") == 0
    out = capsys.readouterr().out
    assert "warm start (frozen) from london model" in out

    store = metadata.open_store(layout.metadata_path)
    london_model = _latest_pushed_source(store, "london")
    execution, frankfurt_dir = _latest_trainer(store)
    base_models = metadata.inputs_of(store, execution.id, "base_model")
    assert [m.uri for m in base_models] == [london_model.uri]  # lineage in MLMD

    london_table = _table(os.path.join(london_model.uri, "Format-Serving"))
    np.testing.assert_array_equal(_table(frankfurt_dir), london_table)  # bit-identical
    record = json.loads(Path(frankfurt_dir, features.WARM_START_FILE).read_text())
    assert record["mode"] == "frozen" and record["donor_city"] == "london"

    assert (
        e2e_support.cli_main(["lineage", "--city", "frankfurt", "--output", str(london["output"])])
        == 0
    )
    lineage = capsys.readouterr().out
    assert "donor model: city london" in lineage and london_model.uri in lineage
    assert "mode: frozen" in lineage
    assert "daily files" in lineage  # the data span of the raw examples the Trainer read


def test_fine_tune_starts_from_london_and_moves_away(london, frankfurt):
    layout = london["layout"]
    donor_dir = _latest_pushed(layout, "london")  # a pushed model directory as the donor
    assert _run_frankfurt(london, frankfurt, donor_dir, "fine_tune") == 0
    store = metadata.open_store(layout.metadata_path)
    execution, frankfurt_dir = _latest_trainer(store)
    assert [m.uri for m in metadata.inputs_of(store, execution.id, "base_model")] == [donor_dir]

    london_table = _table(donor_dir)
    record = json.loads(Path(frankfurt_dir, features.WARM_START_FILE).read_text())
    assert record["mode"] == "fine_tune"
    assert record["initial_embedding_sha256"] == table_sha256(london_table)  # started equal
    assert not np.array_equal(_table(frankfurt_dir), london_table)  # and then changed


def test_donor_with_other_cross_buckets_is_rejected(london, frankfurt, tmp_path, capsys):
    donor = tmp_path / "other-donor"
    shutil.copytree(_latest_pushed(london["layout"], "london"), donor)
    spec_path = donor / features.EMBEDDING_SPEC_FILE
    spec = json.loads(spec_path.read_text())
    spec["cross_buckets"] = 512
    spec_path.write_text(json.dumps(spec))
    assert _run_frankfurt(london, frankfurt, str(donor), "frozen") == 2  # refused before running
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: WarmStartError")
    assert "cross_buckets" in err and "512" in err
