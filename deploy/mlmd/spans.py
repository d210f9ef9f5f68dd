"""What data trained a model: ExampleGen's span properties behind a Trainer execution.

Lineage queries over ML Metadata only (no TensorFlow import), used by ``lineage`` and by
``explain``'s report.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from components.traffic_example_gen import properties as span_properties
from components.traffic_example_gen.accounting import EXAMPLES_EVAL, EXAMPLES_TRAIN
from components.traffic_example_gen.splits import eval_day_count
from deploy.mlmd import metadata


def raw_examples(store, trainer_execution_id: int) -> list:
    """ExampleGen's examples artifacts behind the Trainer's ``examples`` input.

    The Trainer's ``examples`` are ExampleGen's (or, in older runs, Transform's
    materialised copy, whose producer's input holds the span).
    """
    result = []
    for given in metadata.inputs_of(store, trainer_execution_id, "examples"):
        if span_properties.FIRST_DAY in metadata.custom_properties(given):
            result.append(given)
            continue
        producer = metadata.producer_of(store, given.id)
        result += metadata.inputs_of(store, producer.id, "examples") if producer else []
    return result


def split_spans(props: dict) -> tuple[str, str]:
    """(train span, eval span) of ExampleGen's examples, from its custom properties.

    A time split evaluates on the last local days (``eval_days``, or ``eval_fraction`` of
    the input days, rounded as ExampleGen rounds it); a hash split mixes every day.
    """
    first, last = props.get(span_properties.FIRST_DAY), props.get(span_properties.LAST_DAY)
    train, test = props.get(EXAMPLES_TRAIN, "?"), props.get(EXAMPLES_EVAL, "?")
    counts = f"{train} train / {test} eval"
    if not first or not last:
        return "unknown", "unknown"
    split = json.loads(props.get(span_properties.SPLIT_CONFIG) or "{}")
    n_days = int(props.get(span_properties.INPUT_FILES) or 0)
    train_rows = f"({train} examples)"
    eval_rows = f"({test} examples)"
    if split.get("kind", "time") != "time" or not n_days:
        both = f"{first} .. {last}, rows hashed ({counts}, split {json.dumps(split)})"
        return both, both
    n_eval = eval_day_count(split, n_days)
    first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    if (last_day - first_day).days + 1 != n_days:  # gaps: only the count is known
        return (
            f"{first} .. the first {n_days - n_eval} of {n_days} input days {train_rows}",
            f"the last {n_eval} input days .. {last} {eval_rows}",
        )
    eval_first = last_day - timedelta(days=n_eval - 1)
    train_last = eval_first - timedelta(days=1)
    return (
        f"{first} .. {train_last.isoformat()} ({n_days - n_eval} days) {train_rows}",
        f"{eval_first.isoformat()} .. {last} ({n_eval} days) {eval_rows}",
    )


def input_files(props: dict, artifact_id: int) -> str:
    """The input days and file count of an examples artifact, as one phrase."""
    return (
        f"{props.get(span_properties.FIRST_DAY, '?')} .. "
        f"{props.get(span_properties.LAST_DAY, '?')} "
        f"({props.get(span_properties.INPUT_FILES, '?')} daily files, "
        f"examples artifact {artifact_id})"
    )


def training_span(store, trainer_execution_id: int) -> str:
    """The train span of the raw examples the Trainer read (eval days excluded), and the
    input it was split from."""
    spans = []
    for raw in raw_examples(store, trainer_execution_id):
        props = metadata.custom_properties(raw)
        spans.append(f"{split_spans(props)[0]} of input {input_files(props, raw.id)}")
    return "; ".join(spans) or "unknown"
