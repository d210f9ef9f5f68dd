"""FastEvaluator executor: score batches in TensorFlow, sum metrics per slice, TFMA writes.

What stays TFMA's: the EvalConfig (defaults filled in by
``tfma.utils.update_eval_config_with_defaults`` exactly as the stock executor does), the
threshold check (``metrics_validator.validate_metrics`` per slice, combined by TFMA's
``MetricsPlotsAndValidationsWriter``), the output files (``tfma.load_eval_result`` and
``tfma.load_validation_result`` read them) and the blessing artifact (BLESSED /
NOT_BLESSED file and the stock custom properties). What is ours: reading the eval split
in batches of ``SCORE_BATCH_SIZE`` serialized examples, calling each model's signatures
once per batch, and adding the batch to per-slice metric accumulators
(``components.fast_evaluator.metrics``) before reading the next.

Memory is one batch (the serialized examples, the decoded slicing columns, each model's
outputs and labels) plus a few floats per slice, metric and model, whatever the split's
size (measured by ``benchmarks/bench_evaluator.py``, figures in docs/benchmarks.md). A
fixed batch bounds it. The memory budget (``resources.memory_budget_mb``) decides only
where a large split goes on a cluster's Beam runner: over it, the stock TFX Evaluator
executor (the class this one extends) runs TFMA's Beam pipeline on the cluster
(planning.py); the artifact's ``evaluation_path`` property says which path ran.
"""

from __future__ import annotations

import os
from typing import Any

import apache_beam as beam
import numpy as np
import tensorflow as tf
import tensorflow_model_analysis as tfma
from absl import logging
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.writers import eval_config_writer
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as tfma_writer
from tfx import types
from tfx.components.evaluator import constants
from tfx.components.evaluator import executor as stock
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils, path_utils, proto_utils
from tfx_bsl.coders import example_coder

from components import scale_out
from components.baseline.scope import CITY_PROPERTY
from components.drift_gate import checks as drift_checks
from components.drift_gate.executor import DRIFT_STATISTICS_KEY
from components.fast_evaluator import metrics as fast_metrics
from components.fast_evaluator import planning
from transforms import memory_budget, reading

SCORE_BATCH_SIZE = 65_536
# Writing a few dozen slice results needs no workers: TFMA's writers run in-process.
WRITER_BEAM_ARGS = ["--runner=DirectRunner", "--direct_running_mode=in_memory"]
MEMORY_BUDGET_MB_KEY = "memory_budget_mb"  # exec property; 0: the machine's default
EVALUATION_PATH_PROPERTY = "evaluation_path"  # on the evaluation: planning.FAST or BEAM
# Exec properties of ours, which the stock executor does not take.
OWN_PROPERTIES = (MEMORY_BUDGET_MB_KEY, CITY_PROPERTY)


def _eval_patterns(
    input_dict: dict[str, list[types.Artifact]], exec_properties: dict[str, Any]
) -> list[str]:
    """File patterns of the evaluated splits (``example_splits``, default ``eval``)."""
    splits = json_utils.loads(
        exec_properties.get(standard_component_specs.EXAMPLE_SPLITS_KEY) or "null"
    ) or ["eval"]
    examples = input_dict[standard_component_specs.EXAMPLES_KEY]
    return [
        io_utils.all_files_pattern(uri)
        for split in splits
        for uri in artifact_utils.get_split_uris(examples, split)
    ]


class Executor(stock.Executor):
    """Evaluates the candidate (and baseline) model; writes TFMA results and a blessing.

    In batches in this process, or, over the memory budget on a cluster's Beam runner,
    by the stock executor's TFMA Beam pipeline (planning.py)."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        patterns = _eval_patterns(input_dict, exec_properties)
        files = [f for pattern in patterns for f in tf.io.gfile.glob(pattern)]
        budget = memory_budget.memory_budget_bytes(
            float(exec_properties.get(MEMORY_BUDGET_MB_KEY) or 0)
        )
        path = planning.choose_path(
            scale_out.input_bytes(files),
            budget,
            scale_out.runs_on_a_cluster(self._beam_pipeline_args),
        )
        evaluation = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EVALUATION_KEY]
        )
        evaluation.set_string_custom_property(EVALUATION_PATH_PROPERTY, path)
        logging.info("FastEvaluator: %d files, budget %d bytes: %s path", len(files), budget, path)
        if path == planning.BEAM:
            stock_properties = {k: v for k, v in exec_properties.items() if k not in OWN_PROPERTIES}
            super().Do(input_dict, output_dict, stock_properties)
            blessing = artifact_utils.get_single_instance(
                output_dict[standard_component_specs.BLESSING_KEY]
            )
            if blessing.has_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY):
                _record_city(blessing, exec_properties)  # only when it validated
                blessed = blessing.get_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY)
                if _record_drift(input_dict, blessing) and blessed == constants.BLESSED_VALUE:
                    tf.io.gfile.remove(os.path.join(blessing.uri, constants.BLESSED_FILE_NAME))
                    _mark_blessing(blessing, ok=False)
            return
        self._log_startup(input_dict, output_dict, exec_properties)
        has_baseline = bool(input_dict.get(standard_component_specs.BASELINE_MODEL_KEY))
        eval_config = tfma.EvalConfig()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.EVAL_CONFIG_KEY], eval_config
        )
        eval_config = tfma.utils.update_eval_config_with_defaults(
            eval_config, has_baseline=has_baseline, rubber_stamp=True
        )
        tfma.utils.verify_eval_config(eval_config)
        run_validation = bool(
            tfma.metrics.metric_thresholds_from_metrics_specs(
                eval_config.metrics_specs, eval_config=eval_config
            )
        )
        model_paths = {}
        for spec in eval_config.model_specs:
            key = (
                standard_component_specs.BASELINE_MODEL_KEY
                if spec.is_baseline
                else standard_component_specs.MODEL_KEY
            )
            artifact = artifact_utils.get_single_instance(input_dict[key])
            model_paths[spec.name] = path_utils.serving_model_path(
                artifact.uri, path_utils.is_old_model_artifact(artifact)
            )
        sliced = compute_sliced_metrics(eval_config, model_paths, patterns)
        output_uri = artifact_utils.get_single_uri(
            output_dict[standard_component_specs.EVALUATION_KEY]
        )
        write_results(eval_config, sliced, output_uri, model_paths, ",".join(patterns))
        if run_validation:
            _write_blessing(input_dict, output_dict, exec_properties, output_uri)


def _to_numpy(tensors: dict[str, tf.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in tensors.items()}


# (model name, output name, accumulator) per metric, in the EvalConfig's order.
_Accumulators = list[tuple[str, str, fast_metrics.Accumulator]]


def _accumulators(eval_config: tfma.EvalConfig, model_names: list[str]) -> _Accumulators:
    result = []
    for model_name in model_names:
        for metrics_spec in eval_config.metrics_specs:
            for metric in metrics_spec.metrics:
                for output_name in list(metrics_spec.output_names) or [""]:
                    result.append((model_name, output_name, fast_metrics.accumulator(metric)))
    return result


def _batch_labels(spec: tfma.ModelSpec, model, batch) -> dict[str, np.ndarray]:
    """Output name -> the transformed label it is scored on (a baseline from before an
    output has no label for it: it is not scored on that output)."""
    transformed: dict[str, np.ndarray] = {}
    for fn_name in spec.preprocessing_function_names:
        transformed.update(_to_numpy(model.signatures[fn_name](examples=batch)))
    labels = {}
    for output_name, label_key in spec.label_keys.items():
        if label_key not in transformed and spec.is_baseline:
            continue
        if label_key not in transformed:
            raise ValueError(
                f"FastEvaluator: model {spec.name!r} does not compute label {label_key!r} "
                f"of output {output_name!r}"
            )
        labels[output_name] = transformed[label_key]
    return labels


def _slice_columns(decoder, batch, features: list[str]) -> dict[str, np.ndarray]:
    """One value per example of each slicing feature, or a ValueError."""
    if not features:
        return {}
    record_batch = decoder.DecodeBatch(batch.numpy().tolist())
    columns = {}
    for name in features:
        column = record_batch.column(record_batch.schema.get_field_index(name))
        columns[name] = np.asarray(column.flatten().to_numpy(zero_copy_only=False))
        if len(columns[name]) != record_batch.num_rows:
            raise ValueError(
                "FastEvaluator: slicing features must have exactly one value per example "
                f"({name!r} has {len(columns[name])} values in {record_batch.num_rows} examples)"
            )
    return columns


def compute_sliced_metrics(
    eval_config: tfma.EvalConfig, model_paths: dict[str, str], patterns: list[str]
) -> list[tuple[tuple, dict]]:
    """(slice key, {MetricKey: value}) for every slice, with diff metrics vs the baseline.

    Streams the examples in batches of ``SCORE_BATCH_SIZE``: each batch is scored by
    every model and added to per-slice accumulators (``fast_metrics``), then dropped.
    """
    indexes = [fast_metrics.SliceIndex(list(s.feature_keys)) for s in eval_config.slicing_specs]
    slice_features = sorted({k for index in indexes for k in index.feature_keys})
    loaded = {name: tf.saved_model.load(path) for name, path in model_paths.items()}
    specs = {spec.name: spec for spec in eval_config.model_specs}
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    accumulators = _accumulators(eval_config, list(loaded))
    scored: dict[tuple[str, str], bool] = {}  # (model, output) -> has a label
    total_rows = 0
    for batch in reading.raw_examples(patterns, SCORE_BATCH_SIZE).prefetch(1):
        rows = len(batch)
        total_rows += rows
        columns = _slice_columns(decoder, batch, slice_features)
        slicings = []
        for index in indexes:
            ids = index.ids(columns, rows)  # may add slices: count them after
            slicings.append((ids, len(index.slice_keys)))
        outputs, labels = {}, {}
        for name, model in loaded.items():
            spec = specs[name]
            signature = model.signatures[spec.signature_name or "serving_default"]
            outputs[name] = _to_numpy(signature(examples=batch))
            labels[name] = _batch_labels(spec, model, batch)
            for output_name in spec.label_keys:
                scored[(name, output_name)] = output_name in labels[name]
        for model_name, output_name, acc in accumulators:
            if output_name and output_name not in labels[model_name]:
                continue  # the baseline predates this output (checked by _batch_labels)
            acc.update(
                labels[model_name].get(output_name), outputs[model_name].get(output_name), slicings
            )
    if not total_rows:
        raise ValueError(f"FastEvaluator: no examples in {patterns}")

    baseline = next((s.name for s in eval_config.model_specs if s.is_baseline), None)
    result = []
    for spec_number, index in enumerate(indexes):
        for slice_id, slice_key in index.ordered():
            values: dict[tfma.metrics.MetricKey, float] = {}
            for model_name, output_name, acc in accumulators:
                if output_name and not scored.get((model_name, output_name)):
                    continue
                key = tfma.metrics.MetricKey(
                    name=acc.name, model_name=model_name, output_name=output_name
                )
                values[key] = acc.value(spec_number, slice_id)
            if baseline:
                for key, value in list(values.items()):
                    if key.model_name != baseline and key.make_baseline_key(baseline) in values:
                        values[key.make_diff_key()] = (
                            value - values[key.make_baseline_key(baseline)]
                        )
            result.append((slice_key, values))
    return result


def write_results(
    eval_config: tfma.EvalConfig,
    sliced: list[tuple[tuple, dict]],
    output_uri: str,
    model_paths: dict[str, str],
    data_location: str,
) -> None:
    """Validates each slice with TFMA and writes metrics, validations and eval_config."""
    output_paths = {
        key: os.path.join(output_uri, key)
        for key in (
            tfma.constants.METRICS_KEY,
            tfma.constants.PLOTS_KEY,
            tfma.constants.ATTRIBUTIONS_KEY,
            tfma.constants.VALIDATIONS_KEY,
        )
    }
    writers = [
        eval_config_writer.EvalConfigWriter(
            output_uri,
            eval_config=eval_config,
            data_location=data_location,
            data_file_format="tfrecords",
            model_locations=model_paths,
        ),
        tfma_writer.MetricsPlotsAndValidationsWriter(
            output_paths=output_paths,
            eval_config=eval_config,
            add_metrics_callbacks=[],
            output_file_format="tfrecord",
            # As the stock executor: default_eval_shared_model leaves rubber_stamp False.
            rubber_stamp=False,
        ),
    ]
    options = beam.options.pipeline_options.PipelineOptions(WRITER_BEAM_ARGS)
    with beam.Pipeline(options=options) as pipeline:
        metrics = pipeline | "SlicedMetrics" >> beam.Create(sliced)
        evaluation = {
            tfma.constants.METRICS_KEY: metrics,
            tfma.constants.VALIDATIONS_KEY: metrics
            | "Validate" >> beam.Map(metrics_validator.validate_metrics, eval_config),
        }
        for writer in writers:
            _ = evaluation | writer.stage_name >> writer.ptransform
    logging.info("FastEvaluator: %d slices written to %s", len(sliced), output_uri)


def _write_blessing(
    input_dict: dict[str, list[types.Artifact]],
    output_dict: dict[str, list[types.Artifact]],
    exec_properties: dict[str, Any],
    output_uri: str,
) -> None:
    """The stock Evaluator's blessing: BLESSED/NOT_BLESSED file and custom properties."""
    blessing = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.BLESSING_KEY]
    )
    model = input_dict[standard_component_specs.MODEL_KEY][0]
    blessing.set_string_custom_property(
        constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri
    )
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    if input_dict.get(standard_component_specs.BASELINE_MODEL_KEY):
        baseline = input_dict[standard_component_specs.BASELINE_MODEL_KEY][0]
        blessing.set_string_custom_property(
            constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline.uri
        )
        blessing.set_int_custom_property(
            constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline.id
        )
    _record_city(blessing, exec_properties)
    if "current_component_id" in exec_properties:
        blessing.set_string_custom_property("component_id", exec_properties["current_component_id"])
    ok = tfma.load_validation_result(output_uri).validation_ok
    if _record_drift(input_dict, blessing):
        ok = False
    _mark_blessing(blessing, ok)


def _record_drift(input_dict: dict[str, list[types.Artifact]], blessing: types.Artifact) -> bool:
    """The drift gate's statistics and verdict on the blessing (``components/drift_gate``);
    True when the gate blocks this data."""
    drift = input_dict.get(DRIFT_STATISTICS_KEY) or []
    if not drift:
        return False
    blessing.set_string_custom_property(drift_checks.BLESSING_STATISTICS_URI, drift[0].uri)
    blocked = drift[0].has_custom_property(drift_checks.BLOCKED) and bool(
        drift[0].get_int_custom_property(drift_checks.BLOCKED)
    )
    blessing.set_int_custom_property(drift_checks.BLOCKED, int(blocked))
    if blocked:
        logging.info("FastEvaluator: not blessed, the drift gate blocks this data")
    return blocked


def _mark_blessing(blessing: types.Artifact, ok: bool) -> None:
    """The BLESSED or NOT_BLESSED file and the ``blessed`` property, as the stock executor."""
    name = constants.BLESSED_FILE_NAME if ok else constants.NOT_BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, name), "")
    blessing.set_int_custom_property(
        constants.ARTIFACT_PROPERTY_BLESSED_KEY,
        constants.BLESSED_VALUE if ok else constants.NOT_BLESSED_VALUE,
    )
    logging.info("FastEvaluator: blessed=%s written to %s", ok, blessing.uri)


def _record_city(blessing: types.Artifact, exec_properties: dict[str, Any]) -> None:
    """The ``city`` exec property on the blessing, for city-scoped baseline resolvers."""
    if exec_properties.get(CITY_PROPERTY):
        blessing.set_string_custom_property(CITY_PROPERTY, exec_properties[CITY_PROPERTY])
