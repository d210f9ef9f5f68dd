"""The one feature contract shared by the generator, ExampleGen, Transform and model.

Everything that names a column, a feature, a label or a hashing parameter lives
here. ``preprocessing_fn``, the Keras model, the ExampleGen executor, the
generator, the Evaluator config and the warm-start checks import these names;
nothing is re-typed elsewhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# --- Raw observations (one row per vehicle passing a signal) -----------------
# Columns written by ``traffic-pipeline generate`` and read by ExampleGen.
RAW_TIMESTAMP = "timestamp"  # ISO-8601 with UTC offset, or epoch seconds
RAW_INTERSECTION = "intersection_id"
RAW_DIRECTION = "direction"
RAW_VEHICLE_TYPE = "vehicle_type"
RAW_LANE = "lane"  # optional
RAW_SPEED = "speed_kmh"  # optional
REQUIRED_RAW_COLUMNS = (RAW_TIMESTAMP, RAW_INTERSECTION, RAW_DIRECTION, RAW_VEHICLE_TYPE)
OPTIONAL_RAW_COLUMNS = (RAW_LANE, RAW_SPEED)

# --- Raw hourly counts (``data.kind: counts``) -------------------------------
# One row per (local hour, approach, vehicle type): how many vehicles passed. Missing
# hours are missing (no row), not zero; an explicit 0 is a real zero.
DATA_KIND_EVENTS = "events"  # one row per vehicle (the default)
DATA_KIND_COUNTS = "counts"  # one row per hour, approach and vehicle type
DATA_KINDS = (DATA_KIND_EVENTS, DATA_KIND_COUNTS)
RAW_HOUR_START = "hour_start"  # ISO-8601 with UTC offset: the start of one local hour
RAW_COUNT = "count"  # integer >= 0
REQUIRED_COUNT_COLUMNS = (
    RAW_HOUR_START,
    RAW_INTERSECTION,
    RAW_DIRECTION,
    RAW_VEHICLE_TYPE,
    RAW_COUNT,
)

VEHICLE_TYPES = ("car", "truck", "bus", "bicycle")
DIRECTIONS = ("N", "E", "S", "W")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAYS_PER_WEEK = 7
HOURS_PER_DAY = 24
DAY_HOUR_CELLS = DAYS_PER_WEEK * HOURS_PER_DAY  # 168

# --- Examples written by ExampleGen (tf.Example feature keys) ----------------
TIMESTAMP_UTC = "timestamp_utc"  # int64 epoch seconds
DAY_OF_WEEK = "day_of_week"  # int64, local, 0 = Monday
HOUR = "hour"  # int64, local, 0-23
INTERSECTION = RAW_INTERSECTION  # bytes
DIRECTION = RAW_DIRECTION  # bytes
VEHICLE_TYPE = RAW_VEHICLE_TYPE  # bytes; label of the vehicle-type head
LANE = RAW_LANE  # int64, optional
SPEED = RAW_SPEED  # float, optional
SECONDS_TO_NEXT_VEHICLE = "seconds_to_next_vehicle"  # float; label of the headway head
# Counts examples carry TIMESTAMP_UTC (the hour's start), DAY_OF_WEEK, HOUR, INTERSECTION,
# DIRECTION, VEHICLE_TYPE and this label instead of SECONDS_TO_NEXT_VEHICLE:
VEHICLE_COUNT = "vehicle_count"  # int64 >= 0: vehicles of VEHICLE_TYPE in that local hour
# Plausible ranges the curated schema enforces (tests/pipeline/test_schema.py checks the
# schema says the same): a headway longer than two days means missing or misdated data,
# and timestamps are from this century.
MAX_HEADWAY_SECONDS = 2 * 86_400
MIN_TIMESTAMP_UTC = 946_684_800  # 2000-01-01T00:00:00Z
MAX_TIMESTAMP_UTC = 4_102_444_800  # 2100-01-01T00:00:00Z
# Counts schema: more vehicles of one type on one approach in one hour is not plausible.
MAX_VEHICLE_COUNT = 100_000

LABEL_KEYS = (SECONDS_TO_NEXT_VEHICLE, VEHICLE_TYPE)
COUNT_LABEL_KEYS = (VEHICLE_COUNT, VEHICLE_TYPE)
# Raw features the model's inputs are computed from: exactly what ``serving_default``
# parses from a serialized tf.Example (a serving client sends these and nothing else).
MODEL_RAW_FEATURES = (DAY_OF_WEEK, HOUR, INTERSECTION, DIRECTION)
# Raw features the Trainer reads: model inputs and labels (events; counts below).
TRAINING_RAW_FEATURES = (*MODEL_RAW_FEATURES, *LABEL_KEYS)
COUNT_TRAINING_RAW_FEATURES = (*MODEL_RAW_FEATURES, *COUNT_LABEL_KEYS)
TRAINING_RAW_FEATURES_BY_KIND = {
    DATA_KIND_EVENTS: TRAINING_RAW_FEATURES,
    DATA_KIND_COUNTS: COUNT_TRAINING_RAW_FEATURES,
}
# A count covers one hour: the Poisson mean of a count is vehicles_per_hour[type] x this.
COUNT_EXPOSURE_HOURS = 1.0

# --- Transformed features (outputs of preprocessing_fn) ----------------------
DAY_HOUR_CROSS_XF = "day_hour_cross_xf"  # int64 bucket id in [0, cross_buckets)
INTERSECTION_XF = "intersection_xf"  # int64 bucket id in [0, location_buckets)
DIRECTION_XF = "direction_xf"  # int64 index into DIRECTIONS, len(DIRECTIONS) = OOV
# int64 FarmHash64 of f"{intersection_id}{APPROACH_SEPARATOR}{direction}" mod
# APPROACH_HASH_RANGE: the approach's id, effectively collision-free. The model maps the
# approaches it trained on to rows of its own (unseen ones share one row).
APPROACH_XF = "approach_xf"
APPROACH_SEPARATOR = "/"
APPROACH_HASH_RANGE = 2**62
DAY_HOUR_CELL_XF = "day_hour_cell_xf"  # int64 day_of_week * 24 + hour, in [0, 168)
HEADWAY_LABEL_XF = "headway_seconds_xf"  # float32 seconds, > 0
VEHICLE_TYPE_LABEL_XF = "vehicle_type_xf"  # int64 index into VEHICLE_TYPES
# Counts only: float32 [2] = (vehicle_count, index into VEHICLE_TYPES). One tensor, so
# that it is the label of the one output it scores (VEHICLES_PER_HOUR_OUTPUT), in Keras
# and in TFMA (label_keys maps one output to one label).
COUNT_LABEL_XF = "count_label_xf"
# Events only: float32 [2] = (headway seconds, index into VEHICLE_TYPES): the label of
# APPROACH_COMPARISON_OUTPUT, which scores both with one metric.
EVENT_LABEL_XF = "event_label_xf"

# --- Model layer / output names ----------------------------------------------
DAY_HOUR_EMBEDDING_LAYER = "day_hour_embedding"
HEADWAY_OUTPUT = "headway_seconds"  # expected seconds to next vehicle (1 / rate)
VEHICLE_TYPE_OUTPUT = "vehicle_type_probs"  # softmax over VEHICLE_TYPES
VEHICLES_PER_HOUR_OUTPUT = "vehicles_per_hour"  # rate * 3600 * share, per type
# [batch, 2, types]: row 0 the model's vehicles per hour, row 1 the per-approach
# historical average the Trainer fitted on the train split (transforms.approach_table),
# carried frozen in the model so that every evaluator scores the model against it.
APPROACH_COMPARISON_OUTPUT = "vehicles_per_hour_vs_approach_average"

# --- Hashing scheme of the day x hour cross ----------------------------------
# The cross key is the string f"{day_of_week}{CROSS_SEPARATOR}{hour}", hashed with
# TensorFlow's FarmHash64 (tf.strings.to_hash_bucket_fast) into cross_buckets.
HASHING_SCHEME = "farmhash64(day_of_week '_' hour) mod cross_buckets"
CROSS_SEPARATOR = "_"
# 168 cells hashed into 168 buckets collide (about 108 distinct buckets; 1024
# buckets still leave only 150). The embedding costs only embedding_dim floats per
# bucket (2058 x 2 floats = 16 KB), so buckets are cheap and collisions are not:
# the default is the SMALLEST bucket count under which FarmHash64 maps all 168
# cells to distinct buckets, found by exhaustive search from 168 upward
# (``python -m transforms.collisions --buckets 2058``; pinned by
# tests/transforms/test_collisions.py). Each unused bucket is a never-trained row.
DEFAULT_CROSS_BUCKETS = 2058
DEFAULT_EMBEDDING_DIM = 2
DEFAULT_LOCATION_BUCKETS = 1024


def day_hour_key(day_of_week: int, hour: int) -> str:
    """The string that is hashed for one day-hour cell (mirrors the TF graph)."""
    return f"{day_of_week}{CROSS_SEPARATOR}{hour}"


def day_hour_label(day_of_week: int, hour: int) -> str:
    """Human label for a cell, e.g. ``Tue 08:00`` (TensorBoard projector metadata)."""
    return f"{DAY_NAMES[day_of_week]} {hour:02d}:00"


def all_day_hours() -> list[tuple[int, int]]:
    """The 168 (day_of_week, hour) cells, Monday 00:00 first."""
    return [(d, h) for d in range(DAYS_PER_WEEK) for h in range(HOURS_PER_DAY)]


@dataclass(frozen=True)
class EmbeddingSpec:
    """What must match between a donor model and a warm-started one.

    Written next to every exported model as ``embedding_spec.json``.
    """

    cross_buckets: int = DEFAULT_CROSS_BUCKETS
    embedding_dim: int = DEFAULT_EMBEDDING_DIM
    hashing_scheme: str = HASHING_SCHEME
    city: str = ""
    timezone: str = ""
    # What the model trained on; informational, not in compatibility_key: events and
    # counts models share the table. Specs written before this field are events models.
    data_kind: str = DATA_KIND_EVENTS

    def compatibility_key(self) -> dict:
        """The fields a donor must share with the receiving model."""
        spec = asdict(self)
        return {k: spec[k] for k in ("cross_buckets", "embedding_dim", "hashing_scheme")}


EMBEDDING_SPEC_FILE = "embedding_spec.json"
EMBEDDING_TSV = "embedding.tsv"
EMBEDDING_METADATA_TSV = "metadata.tsv"
# Written next to every model: the (intersection_id, direction) approaches it trained on.
APPROACHES_FILE = "approaches.json"
# How a warm-started model treats the donor's day x hour table (custom_config
# ``warm_start_mode``; empty = cold start).
WARM_START_MODES = ("frozen", "fine_tune")
# Written next to a warm-started model: {"donor": <path>, "mode": frozen|fine_tune}.
WARM_START_FILE = "warm_start.json"
# Checkpoint key of the day x hour table in the exported SavedModel's
# ``variables/variables`` (a named attribute, not a positional Keras key).
EMBEDDING_CHECKPOINT_KEY = f"{DAY_HOUR_EMBEDDING_LAYER}/embeddings/.ATTRIBUTES/VARIABLE_VALUE"
