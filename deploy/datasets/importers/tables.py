"""Reading a source file as a header and numbered rows: CSV (``.csv``, ``.csv.gz``) or a
JSON list of objects (Socrata's API export). Unreadable files raise :class:`UsageError`
naming the file; a row with the wrong number of fields is a :class:`RowRejected`, and so is
a CSV's last row when the file does not end with a line break (``truncated_row``: the file
was cut inside that row, so a count ``35`` may read as ``3``). A cut JSON export is not
valid JSON and is refused whole."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

from components.traffic_example_gen.accounting import TRUNCATED_ROW
from deploy.datasets.importers.records import RowRejected
from deploy.datasets.importers.wide import SourceRow
from deploy.exit_codes import UsageError


def read_text(path: Path) -> str:
    """The file's text (UTF-8, a BOM dropped; ``.gz`` decompressed)."""
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        return raw.decode("utf-8-sig")
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text (byte {err.start})") from err
    except (EOFError, gzip.BadGzipFile) as err:
        raise UsageError(f"{path}: not a readable gzip file: {err}") from err


def is_json(path: Path, text: str) -> bool:
    return path.suffix.lower() == ".json" or text.lstrip().startswith("[")


def csv_table(path: Path, text: str) -> tuple[list[str], Iterator[SourceRow]]:
    """The header (stripped names) and the data rows of a CSV text."""
    lines = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(lines)]
    except StopIteration:
        raise UsageError(f"{path}: empty file (no header line)") from None
    except csv.Error as err:
        raise UsageError(f"{path}: header: {err}") from err
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise UsageError(f"{path}: column {duplicates[0]!r} appears twice in the header")

    def rows() -> Iterator[SourceRow]:
        held: SourceRow | None = None  # the last row waits: the file may end inside it
        for row in _rows():
            if held is not None:
                yield held
            held = row
        if held is not None and text and not text.endswith(("\n", "\r")):
            held = (
                held[0],
                RowRejected(
                    "row",
                    f"{TRUNCATED_ROW}: the file ends inside this row (no line break after "
                    "it), so its last value may be cut",
                ),
            )
        if held is not None:
            yield held

    def _rows() -> Iterator[SourceRow]:
        number = 0
        while True:
            number += 1
            try:
                cells = next(lines)
            except StopIteration:
                return
            except csv.Error as err:
                yield number, RowRejected("row", f"malformed CSV: {err}")
                continue
            if not cells:  # a blank line is not a row
                number -= 1
                continue
            if len(cells) != len(header):
                yield (
                    number,
                    RowRejected("row", f"{len(cells)} fields, the header has {len(header)}"),
                )
                continue
            yield number, dict(zip(header, cells, strict=True))

    return header, rows()


def json_table(path: Path, text: str) -> tuple[list[str], Iterator[SourceRow]]:
    """The keys (union over the objects, in first-seen order) and the objects of a JSON list.

    Socrata leaves out the keys of null cells, so an absent key is a blank cell."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{path}: invalid JSON: {err}") from err
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a JSON list of objects, got {type(data).__name__}")
    keys: dict[str, None] = {}
    for item in data:
        if isinstance(item, dict):
            keys.update(dict.fromkeys(item))

    def rows() -> Iterator[SourceRow]:
        for number, item in enumerate(data, start=1):
            if isinstance(item, dict):
                yield number, item
            else:
                yield number, RowRejected("row", f"not an object: {type(item).__name__}")

    return list(keys), rows()
