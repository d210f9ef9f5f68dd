"""Row accounting: reject reasons, run counts, and the checks made on them.

Every row read ends up in exactly one of: a train example, an eval example, a
reject (with one reason), or (events only) an unlabeled vehicle: the last vehicle of
its (intersection, direction), or one whose next vehicle lies beyond a local day with
no input file. ``check_identity`` enforces that. Hourly counts have
their own reasons (``COUNT_REASONS``) and never an unlabeled row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from transforms import features

# Row faults, found while a CSV is read (``reading.RowFault``): the last line of a file
# that does not end with a line break (the file was cut inside that row), and a row
# with another number of fields than the header.
TRUNCATED_ROW = "truncated_row"
WRONG_FIELD_COUNT = "wrong_field_count"
ROW_FAULTS = (TRUNCATED_ROW, WRONG_FIELD_COUNT)
INVALID_UTF8 = "invalid_utf8"
MISSING_FIELD = "missing_field"
UNPARSABLE_TIMESTAMP = "unparsable_timestamp"
DATE_OUTSIDE_FILE = "date_outside_file"  # local date is not the daily file's day
UNKNOWN_DIRECTION = "unknown_direction"
UNKNOWN_VEHICLE_TYPE = "unknown_vehicle_type"
UNPARSABLE_NUMBER = "unparsable_number"
DUPLICATE = "duplicate"
REASONS = (
    *ROW_FAULTS,
    INVALID_UTF8,
    MISSING_FIELD,
    UNPARSABLE_TIMESTAMP,
    DATE_OUTSIDE_FILE,
    UNKNOWN_DIRECTION,
    UNKNOWN_VEHICLE_TYPE,
    UNPARSABLE_NUMBER,
    DUPLICATE,
)
# Hourly counts (data.kind: counts) only:
NOT_HOUR_START = "not_hour_start"  # hour_start is not on an hour of the city's local time
INVALID_COUNT = "invalid_count"  # count missing, unparsable, negative or not an integer
COUNT_REASONS = (
    *ROW_FAULTS,
    INVALID_UTF8,
    MISSING_FIELD,
    UNPARSABLE_TIMESTAMP,
    NOT_HOUR_START,
    DATE_OUTSIDE_FILE,
    UNKNOWN_DIRECTION,
    UNKNOWN_VEHICLE_TYPE,
    INVALID_COUNT,
    DUPLICATE,
)
REASONS_OF = {features.DATA_KIND_EVENTS: REASONS, features.DATA_KIND_COUNTS: COUNT_REASONS}

ROWS_READ = "rows_read"
EXAMPLES_TRAIN = "examples_train"
EXAMPLES_EVAL = "examples_eval"
REJECTED_TOTAL = "rejected_total"
UNLABELED_LAST_VEHICLES = "unlabeled_last_vehicles"
# Events only: vehicles whose next vehicle of their approach is in a file beyond a
# local day that has no input file (a gap in the export): their headway is unknown.
UNLABELED_BEFORE_GAP = "unlabeled_before_gap"
VEHICLES_COUNTED = "vehicles_counted"  # counts only: sum of the counts written
# Kept vehicles in the same whole UTC second as the previous kept vehicle of their
# approach (headway < 1 s): plausible platoons or sub-second detections, never rejected.
SAME_SECOND_VEHICLES_KEPT = "same_second_vehicles_kept"
DEFAULT_MAX_REJECT_FRACTION = 0.01
# Which rows are duplicates (the ``duplicates`` parameter, config ``data.duplicates``):
# ``exact``: rows identical in every column (approach, instant to the microsecond,
# vehicle type, lane, speed); the first copy by file then row is kept, the others are
# rejected as ``duplicate``. ``keep``: never reject, every row is a vehicle.
DUPLICATES_EXACT = "exact"
DUPLICATES_KEEP = "keep"
DUPLICATE_RULES = (DUPLICATES_EXACT, DUPLICATES_KEEP)
DEFAULT_DUPLICATES = DUPLICATES_EXACT
# Files of the TrafficRejects artifact: rejected rows as GZIP JSON lines, and counts.
REJECTS_FILE_PREFIX = "rejects"
REJECTS_FILE_SUFFIX = ".jsonl.gz"
COUNTS_FILE = "counts.json"
_FILE_PREFIX = "file_rejected:"


def rejected_key(reason: str) -> str:
    """The count / custom-property name of one reject reason."""
    return f"rejected_{reason}"


def file_rejected_key(reason: str, file_name: str) -> str:
    """The count key of rejects of ``reason`` in one input file."""
    return f"{_FILE_PREFIX}{reason}:{file_name}"


def merge_counts(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Sums count dictionaries (a Beam CombineGlobally function)."""
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


def summarize(counts: dict[str, int], data_kind: str = features.DATA_KIND_EVENTS) -> dict[str, int]:
    """The run's totals, one entry per custom property (all reasons, zeros included)."""
    reasons = REASONS_OF[data_kind]
    summary = {
        ROWS_READ: counts.get(ROWS_READ, 0),
        EXAMPLES_TRAIN: counts.get(EXAMPLES_TRAIN, 0),
        EXAMPLES_EVAL: counts.get(EXAMPLES_EVAL, 0),
        UNLABELED_LAST_VEHICLES: counts.get(UNLABELED_LAST_VEHICLES, 0),
    }
    if data_kind == features.DATA_KIND_COUNTS:
        summary[VEHICLES_COUNTED] = counts.get(VEHICLES_COUNTED, 0)
    else:
        summary[UNLABELED_BEFORE_GAP] = counts.get(UNLABELED_BEFORE_GAP, 0)
        summary[SAME_SECOND_VEHICLES_KEPT] = counts.get(SAME_SECOND_VEHICLES_KEPT, 0)
    for reason in reasons:
        summary[rejected_key(reason)] = counts.get(rejected_key(reason), 0)
    summary[REJECTED_TOTAL] = sum(summary[rejected_key(r)] for r in reasons)
    return summary


def check_duplicates_rule(duplicates: str) -> None:
    """Fails unless ``duplicates`` is one of ``DUPLICATE_RULES``."""
    if duplicates not in DUPLICATE_RULES:
        raise ValueError(f"duplicates: {duplicates!r} not in {DUPLICATE_RULES}")


def check_identity(summary: dict[str, int]) -> None:
    """Fails unless rows_read = train + eval + rejected + unlabeled last vehicles
    + unlabeled before a gap (events only)."""
    accounted = (
        summary[EXAMPLES_TRAIN]
        + summary[EXAMPLES_EVAL]
        + summary[REJECTED_TOTAL]
        + summary[UNLABELED_LAST_VEHICLES]
        + summary.get(UNLABELED_BEFORE_GAP, 0)
    )
    if accounted != summary[ROWS_READ]:
        raise RuntimeError(
            f"row accounting is broken: rows_read={summary[ROWS_READ]} but "
            f"examples_train + examples_eval + rejected_total + unlabeled_last_vehicles"
            f" + unlabeled_before_gap = {accounted} ({summary})"
        )


def files_with(counts: dict[str, int], reason: str) -> list[str]:
    """The input files with at least one reject of ``reason``, sorted."""
    prefix = file_rejected_key(reason, "")
    return sorted(k[len(prefix) :] for k, n in counts.items() if k.startswith(prefix) and n)


def worst_file(counts: dict[str, int]) -> tuple[str, str, int, int]:
    """(file, its most common reason, that reason's count, file's rejects) of the worst file."""
    per_file: dict[str, Counter[str]] = {}
    for key, n in counts.items():
        if key.startswith(_FILE_PREFIX):
            reason, file_name = key[len(_FILE_PREFIX) :].split(":", 1)
            per_file.setdefault(file_name, Counter())[reason] += n
    if not per_file:
        return "", "", 0, 0
    name = max(sorted(per_file), key=lambda f: sum(per_file[f].values()))
    reason, n = max(sorted(per_file[name].items()), key=lambda item: item[1])
    return name, reason, n, sum(per_file[name].values())


def check_reject_fraction(
    counts: dict[str, int],
    max_reject_fraction: float,
    rejects_uri: str,
    data_kind: str = features.DATA_KIND_EVENTS,
) -> None:
    """Fails if rejected_total / rows_read > max_reject_fraction, naming the worst file."""
    summary = summarize(counts, data_kind)
    rows, rejected = summary[ROWS_READ], summary[REJECTED_TOTAL]
    if rows and rejected / rows > max_reject_fraction:
        name, reason, n, file_total = worst_file(counts)
        raise ValueError(
            f"{rejected} of {rows} rows rejected ({rejected / rows:.2%}), more than "
            f"max_reject_fraction={max_reject_fraction:.2%}. Worst file: {name} with "
            f"{file_total} rejects, most often {reason!r} ({n} rows). Rejected rows are "
            f"listed in {rejects_uri}"
        )
