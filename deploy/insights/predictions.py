"""Fine-grained predictions from a pushed model, asked exactly as a serving system would.

Rows are serialized raw ``tf.Example``s sent to the SavedModel's ``serving_default``,
so the TFT graph inside the model computes the features. Times are turned into the
local day of week and hour by ExampleGen's own code
(``components.traffic_example_gen.parsing.local_calendar``), so serving and training
cannot disagree about DST.

``--interval P`` adds the central P% Poisson interval of each hour's count: the model's
count of one type in one hour is Poisson with mean ``vehicles_per_hour[type]`` (the
counts loss ``transforms.model.poisson_count_nll``; the events model's rate x type share
is the same Poisson process). It covers the counts' Poisson variability given the
model's mean, not the model's own uncertainty about that mean.
"""

from __future__ import annotations

import difflib
import sys
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import tensorflow as tf
from scipy.stats import poisson

from components.traffic_example_gen.parsing import local_calendar
from deploy.insights import model_files
from deploy.insights.model_files import ModelError, ModelFiles
from transforms import features

ALL = "all"
LOCAL_TIME = "local_time"
TOTAL = "total"
VALUE_COLUMNS = (features.SECONDS_TO_NEXT_VEHICLE, *features.VEHICLE_TYPES, TOTAL)
AT_COLUMNS = (features.INTERSECTION, features.DIRECTION, LOCAL_TIME, *VALUE_COLUMNS)
WEEK_COLUMNS = (
    features.INTERSECTION,
    features.DIRECTION,
    features.DAY_OF_WEEK,
    features.HOUR,
    *VALUE_COLUMNS,
)
INTERVAL_COLUMNS = (*features.VEHICLE_TYPES, TOTAL)  # the Poisson means an interval is added to
# With --allow-unseen: False on the rows of an intersection the model never saw in training.
SEEN_COLUMN = "seen_in_training"
ALLOW_UNSEEN_FLAG = "--allow-unseen"


@dataclass(frozen=True)
class Times:
    """The times asked for: UTC instants (``--at``) or the 168 week cells (``--week``)."""

    day_of_week: np.ndarray
    hour: np.ndarray
    utc_seconds: np.ndarray
    local_time: list[str] | None  # ISO-8601 with offset; None for the week cells


def parse_at(at: str, tz_name: str) -> datetime:
    """An aware instant: ISO-8601 with offset, or a local time in ``tz_name`` (DST-checked)."""
    try:
        when = datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise ModelError(
            f"--at {at!r}: not an ISO-8601 time (e.g. 2026-03-31T08:00 or 2026-03-31T08:00+01:00)"
        ) from err
    if when.tzinfo is not None:
        return when
    zone = zoneinfo.ZoneInfo(tz_name)
    aware = when.replace(tzinfo=zone)
    round_trip = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if round_trip != when:
        raise ModelError(f"--at {at!r}: that local time does not exist in {tz_name} (DST gap)")
    return aware


def times_from(at: datetime, hours: int, tz_name: str) -> Times:
    """``hours`` hourly instants from ``at``, with local day/hour from ExampleGen's code."""
    if hours < 1:
        raise ModelError(f"--hours {hours}: must be >= 1")
    start = int(at.timestamp())
    utc = np.asarray([start + 3600 * k for k in range(hours)], dtype=np.int64)
    calendar = local_calendar(utc * 1_000_000, tz_name)
    zone = zoneinfo.ZoneInfo(tz_name)
    local = [
        datetime.fromtimestamp(int(t), zone).isoformat(timespec="minutes") for t in utc.tolist()
    ]
    return Times(calendar.day_of_week.astype(np.int64), calendar.hour.astype(np.int64), utc, local)


def week_times() -> Times:
    """The 168 local (day_of_week, hour) cells, Monday 00:00 first."""
    cells = np.asarray(features.all_day_hours(), dtype=np.int64)
    # A model exported before serving_default parsed only MODEL_RAW_FEATURES also asks for
    # timestamp_utc, which it ignores; the week cells have no instant, so 0 is sent.
    return Times(cells[:, 0], cells[:, 1], np.zeros(len(cells), np.int64), None)


def parse_interval(value: str | int) -> int:
    """``--interval``: the central interval's coverage in percent, an integer from 1 to 99."""
    try:
        percent = int(str(value).strip())
    except ValueError:
        raise ModelError(
            f"--interval {value!r}: not an integer percent from 1 to 99 (e.g. 80)"
        ) from None
    if not 1 <= percent <= 99:
        raise ModelError(
            f"--interval {value!r}: must be from 1 to 99 (80 gives the 10th and 90th percentiles)"
        )
    return percent


def interval_percentiles(percent: int) -> tuple[float, float]:
    """The percentiles bounding the central ``percent``% interval: 80 -> (10.0, 90.0)."""
    return (100 - percent) / 2, (100 + percent) / 2


def poisson_interval(mean: np.ndarray | float, percent: int) -> tuple[np.ndarray, np.ndarray]:
    """Per mean, the (lower, upper) percentile counts of Poisson(``mean``) for the central
    ``percent``% interval; it holds the count with probability >= ``percent``%."""
    mean = np.asarray(mean, dtype=np.float64)
    if not np.all(np.isfinite(mean) & (mean >= 0)):
        raise ModelError("the model predicted a negative or non-finite vehicles per hour")
    low, high = interval_percentiles(percent)
    return (
        poisson.ppf(low / 100, mean).astype(np.int64),
        poisson.ppf(high / 100, mean).astype(np.int64),
    )


def add_interval(
    frame: pd.DataFrame, percent: int, columns: tuple[str, ...] = INTERVAL_COLUMNS
) -> pd.DataFrame:
    """A copy of ``frame`` with ``<column>_p<low>`` and ``<column>_p<high>`` (e.g.
    ``car_p10``, ``car_p90``) after each mean column of ``columns``.

    Each row's mean must be the Poisson mean of one hour's count. A sum of independent
    Poissons is Poisson with the summed mean, so ``total`` (summed over types) gets its
    own interval, and rows summed over approaches must be summed *before* this is called;
    adding up the percentile columns would overstate the interval.
    """
    percent = parse_interval(percent)
    low, high = (f"p{p:g}" for p in interval_percentiles(percent))
    out = frame.copy()
    for column in columns:
        lower, upper = poisson_interval(frame[column].to_numpy(), percent)
        at = out.columns.get_loc(column) + 1
        out.insert(at, f"{column}_{low}", lower)
        out.insert(at + 1, f"{column}_{high}", upper)
    return out


def close_matches(name: str, known: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` of ``known`` that look like ``name`` (case first, then spelling)."""
    same_case = [k for k in known if k.lower() == name.lower()]
    by_lower = {k.lower(): k for k in known}
    similar = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)
    return list(dict.fromkeys(same_case + [by_lower[s] for s in similar]))[:n]


def unseen_intersection_message(
    intersection: str, known: list[tuple[str, str]], option: str, hint: str
) -> str:
    """Names an intersection the model never saw, with close matches and ``hint``."""
    names = sorted({i for i, _ in known})
    matches = close_matches(intersection, names)
    similar = f"did you mean {', '.join(matches)}?" if matches else f"known: {', '.join(names[:5])}"
    more = f" ... ({len(names)} in all)" if not matches and len(names) > 5 else ""
    return (
        f"{option} {intersection!r} was not seen in training ({similar}{more}); its predictions "
        f"would come from the untrained unseen-location bucket{hint}"
    )


def approaches_for(
    files: ModelFiles,
    intersection: str,
    direction: str,
    warn=None,
    *,
    allow_unseen: bool = False,
    option: str = "--intersection",
    hint: str = "",
) -> list[tuple[str, str]]:
    """The (intersection, direction) pairs asked for; ``all`` uses approaches.json.

    An intersection the model never saw raises ``ModelError`` naming it and close matches
    (``option``: the flag that named it; ``hint``: appended), unless ``allow_unseen``
    (then a warning)."""
    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    if direction != ALL and direction not in features.DIRECTIONS:
        raise ModelError(f"--direction {direction!r}: not one of {', '.join(features.DIRECTIONS)}")
    known = files.approaches
    if known is None and ALL in (intersection, direction):
        raise ModelError(
            f"{files.model_dir} has no {features.APPROACHES_FILE} (exported before approaches "
            "were recorded); name --intersection ID and --direction D, or re-run the pipeline"
        )
    if intersection == ALL:
        pairs = [(i, d) for i, d in known if direction in (ALL, d)]
        if not pairs:
            raise ModelError(f"no approach in direction {direction!r} was seen in training")
        return pairs
    seen = [(i, d) for i, d in known or [] if i == intersection]
    if known is not None and not seen:
        message = unseen_intersection_message(intersection, known, option, hint)
        if not allow_unseen:
            raise ModelError(message)
        warn(message)
    if direction == ALL:
        return seen or [(intersection, d) for d in features.DIRECTIONS]
    return [(intersection, direction)]


def _feature(values) -> tf.train.Feature:
    if isinstance(values[0], bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def serialized_examples(
    approaches: list[tuple[str, str]], times: Times, required: list[str]
) -> tuple[list[bytes], list[tuple[int, int]]]:
    """One tf.Example per (approach, time) holding exactly the ``required`` features."""
    examples, index = [], []
    for a, (intersection, direction) in enumerate(approaches):
        for t in range(len(times.hour)):
            values = {
                features.DAY_OF_WEEK: [int(times.day_of_week[t])],
                features.HOUR: [int(times.hour[t])],
                features.INTERSECTION: [intersection.encode()],
                features.DIRECTION: [direction.encode()],
                features.TIMESTAMP_UTC: [int(times.utc_seconds[t])],
            }
            missing = [k for k in required if k not in values]
            if missing:
                raise ModelError(f"the model's serving_default requires features {missing}")
            feature = {k: _feature(values[k]) for k in required}
            examples.append(
                tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            )
            index.append((a, t))
    return examples, index


def run_model(files: ModelFiles, approaches: list[tuple[str, str]], times: Times) -> pd.DataFrame:
    """Calls ``serving_default``; one row per (approach, time), columns AT_/WEEK_COLUMNS."""
    serve = files.serving()
    examples, index = serialized_examples(approaches, times, model_files.required_features(serve))
    out = serve(examples=tf.constant(examples))
    per_hour = out[features.VEHICLES_PER_HOUR_OUTPUT].numpy().astype(np.float64)
    frame = pd.DataFrame(
        {
            features.INTERSECTION: [approaches[a][0] for a, _ in index],
            features.DIRECTION: [approaches[a][1] for a, _ in index],
        }
    )
    t_index = [t for _, t in index]
    if times.local_time is None:
        frame[features.DAY_OF_WEEK] = times.day_of_week[t_index]
        frame[features.HOUR] = times.hour[t_index]
    else:
        frame[LOCAL_TIME] = [times.local_time[t] for t in t_index]
    frame[features.SECONDS_TO_NEXT_VEHICLE] = out[features.HEADWAY_OUTPUT].numpy()
    for v, vehicle_type in enumerate(features.VEHICLE_TYPES):
        frame[vehicle_type] = per_hour[:, v]
    frame[TOTAL] = per_hour.sum(axis=1)
    return frame


def predict(
    city: str | None = None,
    *,
    output: str | None = None,
    model: str | None = None,
    intersection: str = ALL,
    direction: str = ALL,
    at: str | None = None,
    hours: int = 1,
    week: bool = False,
    interval: int | str | None = None,
    allow_unseen: bool = False,
) -> pd.DataFrame:
    """Predicted traffic per (intersection, direction, time) of a pushed model.

    Exactly one of ``at`` (ISO-8601 with offset, or local time in the city's zone;
    ``hours`` hourly steps) and ``week`` (the 168 local day-hour cells). Columns:
    ``intersection_id, direction, local_time`` (or ``day_of_week, hour``),
    ``seconds_to_next_vehicle, car, truck, bus, bicycle, total`` (vehicles per hour).
    ``interval`` (percent, 1-99): each of car ... total is followed by its Poisson
    percentile counts (``add_interval``). An intersection the model never saw is an error
    unless ``allow_unseen``; then a ``seen_in_training`` column (after ``direction``)
    marks its rows False. Raises ``ModelError`` on bad input.
    """
    if (at is None) == (not week):
        raise ModelError("give exactly one of --at TIME and --week")
    percent = None if interval is None else parse_interval(interval)
    files = model_files.find(city, output, model)
    tz_name = files.timezone
    times = week_times() if week else times_from(parse_at(at, tz_name), hours, tz_name)
    pairs = approaches_for(
        files,
        intersection,
        direction,
        allow_unseen=allow_unseen,
        hint=f"; pass {ALLOW_UNSEEN_FLAG} to predict it anyway",
    )
    frame = run_model(files, pairs, times)
    if allow_unseen and files.approaches is not None:
        known = {i for i, _ in files.approaches}
        frame.insert(2, SEEN_COLUMN, frame[features.INTERSECTION].isin(known))
    return frame if percent is None else add_interval(frame, percent)


def city_week(files: ModelFiles, approaches: list[tuple[str, str]] | None = None) -> np.ndarray:
    """[168, len(VEHICLE_TYPES)] predicted vehicles per hour summed over ``approaches``
    (default: every approach seen in training)."""
    pairs = approaches if approaches is not None else approaches_for(files, ALL, ALL)
    frame = run_model(files, pairs, week_times())
    grouped = frame.groupby([features.DAY_OF_WEEK, features.HOUR], sort=True)
    return grouped[list(features.VEHICLE_TYPES)].sum().to_numpy()


def approach_week(files: ModelFiles, approaches: list[tuple[str, str]]) -> np.ndarray:
    """[len(approaches), 168, len(VEHICLE_TYPES)] predicted vehicles per hour per approach
    and local day-hour cell (``features.all_day_hours()`` order)."""
    frame = run_model(files, approaches, week_times())
    values = frame[list(features.VEHICLE_TYPES)].to_numpy(np.float64)
    return values.reshape(len(approaches), features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES))
