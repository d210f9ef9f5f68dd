"""TrafficExampleGen's TFX component: its spec and its ``TrafficRejects`` output type."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import artifact, standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.traffic_example_gen import executor
from components.traffic_example_gen.accounting import DEFAULT_MAX_REJECT_FRACTION
from components.traffic_example_gen.splits import DEFAULT_SPLIT_CONFIG
from transforms import features


class TrafficRejects(artifact.Artifact):
    """GZIP'd JSON lines, one per rejected row: file, row, field, reason, value.

    The directory also holds ``counts.json``, the accounting of the run.
    """

    # Kubeflow V2 needs "<short module>.<Class>" and imports the class by that path in
    # the container, so the type is named after (and exported from) the package.
    TYPE_NAME = "components.TrafficRejects"


class TrafficExampleGenSpec(types.ComponentSpec):
    """Parameters: the daily files and span; outputs: Examples and TrafficRejects."""

    PARAMETERS = {
        executor.INPUT_BASE_KEY: ExecutionParameter(type=str),
        executor.SPAN_BEGIN_KEY: ExecutionParameter(type=str, optional=True),
        executor.SPAN_END_KEY: ExecutionParameter(type=str, optional=True),
        executor.TIMEZONE_KEY: ExecutionParameter(type=str),
        executor.SPLIT_CONFIG_KEY: ExecutionParameter(type=str, optional=True),
        executor.MAX_REJECT_FRACTION_KEY: ExecutionParameter(type=float, optional=True),
        executor.DATA_KIND_KEY: ExecutionParameter(type=str, optional=True),
        executor.DUPLICATES_KEY: ExecutionParameter(type=str, optional=True),
        executor.MAX_MISSING_HOURS_KEY: ExecutionParameter(type=float, optional=True),
        executor.WINDOW_DAYS_KEY: ExecutionParameter(type=int, optional=True),
        executor.AS_OF_KEY: ExecutionParameter(type=str, optional=True),
        executor.MAX_MISSING_DAYS_KEY: ExecutionParameter(type=int, optional=True),
        executor.INPUT_TOKEN_KEY: ExecutionParameter(type=str, optional=True),
        executor.DAY_CACHE_KEY: ExecutionParameter(type=str, optional=True),
        executor.CACHE_KEEP_DAYS_KEY: ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {
        executor.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        executor.REJECTS_KEY: ChannelParameter(type=TrafficRejects),
    }


class TrafficExampleGen(base_beam_component.BaseBeamComponent):
    """Beam ExampleGen for per-vehicle observations (``data_kind`` ``events``, the default)
    or hourly counts (``counts``) in daily CSV / CSV.gz / Parquet files.

    Selects ``input_base/YYYY-MM-DD.*`` with ``span_begin <= day <= span_end`` (both
    optional, 'YYYY-MM-DD', RuntimeParameters allowed), derives local ``day_of_week``
    and ``hour`` in ``timezone`` and the ``seconds_to_next_vehicle`` label (for counts:
    the ``vehicle_count`` label), and splits into train/eval by ``split_config`` (JSON,
    default ``splits.DEFAULT_SPLIT_CONFIG``: the last ``splits.DEFAULT_EVAL_DAYS`` local
    days are eval).
    Fails if more than ``max_reject_fraction`` of the rows are rejected.
    ``duplicates`` is the duplicate rule (``accounting.DUPLICATE_RULES``; None: the
    executor's default, ``accounting.DEFAULT_DUPLICATES``). ``max_missing_hours``
    (events; None: report only) fails the run on a likely truncated day missing more
    hours than that (``coverage``).

    ``window_days`` N > 0 (instead of a span) reads a rolling window resolved when the
    executor starts: the newest N complete local days, or the N days ending at ``as_of``
    (``window``); more than ``max_missing_days`` missing days fail the run (None:
    ``window.DEFAULT_MAX_MISSING_DAYS``). ``input_token`` is only a cache key for runners.

    ``day_cache`` (a directory the runner owns, e.g. under the pipeline root; events
    with a time split): each day is parsed and encoded once and reused by later runs
    while its file's fingerprint is unchanged (``day_cache``); '' or None: none. At the
    end of a successful run, the entries of days more than ``cache_keep_days`` days
    before the window are deleted (None: ``window.DEFAULT_CACHE_KEEP_DAYS``).
    """

    SPEC_CLASS = TrafficExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        input_base: str | types.RuntimeParameter,
        timezone: str | types.RuntimeParameter,
        span_begin: str | types.RuntimeParameter = "",
        span_end: str | types.RuntimeParameter = "",
        split_config: str | types.RuntimeParameter = DEFAULT_SPLIT_CONFIG,
        max_reject_fraction: float | types.RuntimeParameter = DEFAULT_MAX_REJECT_FRACTION,
        data_kind: str = features.DATA_KIND_EVENTS,
        duplicates: str | types.RuntimeParameter | None = None,
        max_missing_hours: float | types.RuntimeParameter | None = None,
        window_days: int | types.RuntimeParameter | None = None,
        as_of: str | types.RuntimeParameter | None = None,
        max_missing_days: int | types.RuntimeParameter | None = None,
        input_token: str | types.RuntimeParameter | None = None,
        day_cache: str | types.RuntimeParameter | None = None,
        cache_keep_days: int | None = None,
    ):
        executor.check_data_kind(data_kind)
        super().__init__(
            spec=TrafficExampleGenSpec(
                input_base=input_base,
                span_begin=span_begin,
                span_end=span_end,
                timezone=timezone,
                split_config=split_config,
                max_reject_fraction=max_reject_fraction,
                data_kind=data_kind,
                duplicates=duplicates,
                max_missing_hours=max_missing_hours,
                window_days=window_days,
                as_of=as_of,
                max_missing_days=max_missing_days,
                input_token=input_token,
                day_cache=day_cache,
                cache_keep_days=cache_keep_days,
                examples=types.Channel(type=standard_artifacts.Examples),
                rejects=types.Channel(type=TrafficRejects),
            )
        )
