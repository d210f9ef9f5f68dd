"""The per-kind metric catalogue and our Keras gate metrics as TFMA uses them."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import gate_metrics, gates
from pipeline.config import EvaluationConfig
from pipeline.evaluation import build_eval_config
from transforms import features


def test_catalogue_names_the_real_module_and_classes():
    assert gate_metrics.__name__ == gates.GATE_METRICS_MODULE
    for metrics in gates.METRICS_BY_KIND.values():
        for name, (_, class_name, module) in metrics.items():
            if module:
                assert getattr(gate_metrics, class_name)().name == name
    for kind, gate in gates.DEFAULT_GATES.items():
        assert set(gate) <= set(gates.METRICS_BY_KIND[kind])


@pytest.mark.parametrize("kind", features.DATA_KINDS)
def test_eval_config_scores_only_the_kinds_outputs_with_their_labels(kind):
    config = build_eval_config(EvaluationConfig(), kind)
    (spec,) = config.model_specs
    assert dict(spec.label_keys) == gates.LABEL_KEYS_BY_KIND[kind]
    outputs = {o for m in config.metrics_specs for o in m.output_names}
    assert outputs == set(gates.LABEL_KEYS_BY_KIND[kind])
    name_of = {c: name for name, (_, c, _) in gates.METRICS_BY_KIND[kind].items()}
    gated = {
        name_of[m.class_name]
        for spec in config.metrics_specs
        for m in spec.metrics
        if m.per_slice_thresholds
    }
    assert gated == set(gates.DEFAULT_GATES[kind])


@pytest.mark.parametrize(
    ("cls", "label", "prediction"),
    [
        (gate_metrics.CrossEntropyVsPrior, [[0], [3], [3]], np.full((3, 4), 0.25)),
        (
            gate_metrics.PoissonCountNLLVsConstant,
            [[3, 0], [0, 1], [7, 3]],
            np.full((3, 4), 2.0),
        ),
    ],
)
def test_batches_merged_by_adding_weights_give_the_whole_columns_result(cls, label, prediction):
    # TFMA merges batches with np.add over the metric's weight list, which needs weights
    # of one shape; the merged state must give the result of one pass over all rows.
    label, prediction = np.asarray(label, np.float32), np.asarray(prediction, np.float32)
    whole, first, second = cls(), cls(), cls()
    whole.update_state(label, prediction)
    first.update_state(label[:1], prediction[:1])
    second.update_state(label[1:], prediction[1:])
    merged = np.add(first.get_weights(), second.get_weights())
    first.set_weights(list(merged))
    assert float(first.result()) == pytest.approx(float(whole.result()), rel=1e-12)


def test_count_nll_vs_constant_is_zero_for_the_per_type_mean_and_negative_when_better():
    # Type 0 counts 2 and 4 (mean 3), type 1 counts 10: the constant per type is (3, 10).
    label = np.asarray([[2, 0], [4, 0], [10, 1]], np.float32)
    constant = np.asarray([[3.0, 10.0, 1.0, 1.0]] * 3, np.float32)
    metric = gate_metrics.PoissonCountNLLVsConstant()
    metric.update_state(label, constant)
    assert float(metric.result()) == pytest.approx(0.0, abs=1e-12)
    closer = np.asarray([[2.0, 10.0, 1, 1], [4.0, 10.0, 1, 1], [3.0, 10.0, 1, 1]], np.float32)
    metric.reset_state()
    metric.update_state(label, closer)
    assert float(metric.result()) < 0
