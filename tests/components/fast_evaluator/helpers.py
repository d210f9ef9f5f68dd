"""Running an Evaluator executor on real artifacts, and comparing two executors' outputs.

The comparisons take the stock Evaluator's output as the reference and check both ways:
the same slices, the same (output, metric) names in each slice, every value, and the
blessing's file and custom properties (what resolvers and the Pusher read).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.evaluator import constants
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import proto_utils

from pipeline.evaluation import build_eval_config
from tests.transforms.conftest import TftRun
from transforms.export import export_serving_model
from transforms.model import HParams, build_model

COMPONENT_ID = "Evaluator"  # passed as the orchestrator does; the blessing records it


def model_artifact(serving_model_dir: str, tmp_path_factory, name: str) -> str:
    """A Model artifact dir holding ``serving_model_dir`` as its Format-Serving."""
    uri = tmp_path_factory.mktemp(name)
    os.symlink(serving_model_dir, uri / "Format-Serving")
    return str(uri)


def untrained_model_artifact(tft_run: TftRun, config: dict, tmp_path_factory, name: str) -> str:
    """The model of ``config`` exported with its initial (random) weights."""
    keras.utils.set_random_seed(5)
    hparams = HParams.from_custom_config(config)
    out = tmp_path_factory.mktemp(name) / "serving_model"
    export_serving_model(
        build_model(hparams),
        tft.TFTransformOutput(tft_run.transform_dir),
        str(out),
        hparams.embedding_spec(),
    )
    return model_artifact(str(out), tmp_path_factory, f"{name}_artifact")


def model(uri: str, artifact_id: int) -> standard_artifacts.Model:
    """A Model artifact as the orchestrator hands it over (uri and MLMD id)."""
    artifact = standard_artifacts.Model()
    artifact.uri, artifact.id = uri, artifact_id
    return artifact


@dataclass
class Evaluated:
    """What an executor produced: TFMA's slicing metrics, validation and the blessing."""

    metrics: dict
    validation: object
    blessing: standard_artifacts.ModelBlessing
    evaluation: standard_artifacts.ModelEvaluation


def evaluate(
    executor_class,
    tmp: Path,
    tft_run: TftRun,
    models: dict,
    config,
    data_kind: str = "events",
    beam_args: list[str] | None = None,
    extra_properties: dict | None = None,
) -> Evaluated:
    """Runs ``executor_class`` on the eval split of ``tft_run`` with ``models``, with
    ``beam_args`` as its Beam pipeline arguments and ``extra_properties`` added to the
    stock exec properties."""
    examples = standard_artifacts.Examples()
    examples.uri = tft_run.raw_examples_dir
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
    evaluation.uri, blessing.uri = str(tmp / "evaluation"), str(tmp / "blessing")
    os.makedirs(blessing.uri)
    context = executor_class.Context(beam_pipeline_args=beam_args, tmp_dir=str(tmp / ".tmp"))
    executor_class(context).Do(
        {"examples": [examples], **{k: [v] for k, v in models.items()}},
        {"evaluation": [evaluation], "blessing": [blessing]},
        {
            "eval_config": proto_utils.proto_to_json(build_eval_config(config, data_kind)),
            "example_splits": json.dumps(["eval"]),
            "current_component_id": COMPONENT_ID,
            **(extra_properties or {}),
        },
    )
    return Evaluated(
        dict(tfma.load_eval_result(evaluation.uri).slicing_metrics),
        tfma.load_validation_result(evaluation.uri),
        blessing,
        evaluation,
    )


def flat_metrics(slicing_metrics: dict) -> dict[tuple, float]:
    """(slice key, output, sub key, metric name) -> value, of every metric of every slice."""
    return {
        (slice_key, output, sub_key, name): value["doubleValue"]
        for slice_key, by_output in slicing_metrics.items()
        for output, by_sub_key in by_output.items()
        for sub_key, by_name in by_sub_key.items()
        for name, value in by_name.items()
    }


def assert_same_metrics(stock: dict, fast: dict, own_metrics: set[str]) -> None:
    """The same slices and metric names both ways, every value within 1e-5, and the
    overall slice has ``own_metrics`` (our Keras metrics, so both ran them)."""
    assert sorted(map(str, fast)) == sorted(map(str, stock))
    want, got = flat_metrics(stock), flat_metrics(fast)
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    assert not missing and not extra, f"missing from fast: {missing}; extra in fast: {extra}"
    overall = {name for (slice_key, _, _, name) in want if slice_key == ()}
    assert {m.removesuffix("_diff") for m in overall} >= own_metrics
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def custom_properties(artifact) -> dict:
    """Every custom property of an artifact, as Python values."""
    return {k: artifact.get_custom_property(k) for k in artifact.mlmd_artifact.custom_properties}


def assert_same_blessing(stock, fast, models: dict, blessed: bool) -> None:
    """The same BLESSED/NOT_BLESSED file and custom properties, which name the models."""
    name = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    assert os.listdir(fast.uri) == os.listdir(stock.uri) == [name]
    props = custom_properties(fast)
    assert props == custom_properties(stock)
    expected = {
        constants.ARTIFACT_PROPERTY_BLESSED_KEY: (
            constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE
        ),
        constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY: models["model"].id,
        constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY: models["model"].uri,
        "component_id": COMPONENT_ID,
    }
    if "baseline_model" in models:
        expected[constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY] = models["baseline_model"].id
        expected[constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY] = models["baseline_model"].uri
    assert props == expected
