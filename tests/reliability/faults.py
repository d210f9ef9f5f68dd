"""Builds bad inputs and checks outcomes for the fault-injection suite.

Every fault starts from a clean copy of data generated once per session, so each
case changes exactly one thing.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from deploy.mlmd import metadata
from deploy.runners.local.runner import LocalLayout
from pipeline import pipeline as wiring
from tests import e2e_support

# Small: a full run takes about a minute on 2 cores; several cases share one run.
DAYS = 6
INTERSECTIONS = 2
TRAIN_STEPS = 60
LOOSE_GATE = {
    "thresholds": {
        "sparse_categorical_crossentropy": {"upper_bound": 1.6},
        "mean_absolute_error": {"upper_bound": 5000.0},
    }
}


REPO_ROOT = Path(__file__).resolve().parents[2]
# The baseline's day cut in the afternoon (a copy interrupted at 14:31): its index among
# the daily files, the time, and the row of its short row (in another file).
CUT_DAY = 1
CUT_AT = "T14:31"
SHORT_ROW = 11


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a ``traffic-pipeline`` subprocess (``extra`` added)."""
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_USE_LEGACY_KERAS": "1", **extra}


def start_cli(
    args: list[str], log: Path, stderr: Path | None = None, **env: str
) -> subprocess.Popen:
    """``traffic-pipeline ARGS`` in its own process group (so it can be killed whole);
    stdout goes to ``log``, stderr too unless ``stderr`` names its own file; ``env``
    adds environment variables (e.g. ``TMPDIR``)."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("w"))
        err = files.enter_context(stderr.open("w")) if stderr else subprocess.STDOUT
        return subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", *args],
            stdout=out,
            stderr=err,
            env=cli_env(**env),
            cwd=REPO_ROOT,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default, as in a terminal. A test
    suite started as a background job (``make test &``, nohup) inherits SIGINT ignored,
    and Python then never raises KeyboardInterrupt, so Ctrl-C could not be tested."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(args: list[str], timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """``traffic-pipeline ARGS`` to completion; stdout and stderr captured apart (stderr
    at the file-descriptor level: C++ log lines would show)."""
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(**env),
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def small_disk(path: Path, size: str, fill: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (CI runs as root), unmounted on exit;
    ``fill``: filled up first, so no write succeeds. A failing mount is a failure."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        check=True,
        capture_output=True,
    )
    try:
        if fill:
            fd = os.open(path / ".filler", os.O_WRONLY | os.O_CREAT)
            try:
                while os.write(fd, b"\0" * 4096):
                    pass
            except OSError as err:
                assert err.errno == errno.ENOSPC, err
            finally:
                os.close(fd)
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True, capture_output=True)


def run_args(city: str, config: Path, data: Path, output: Path, *extra: str) -> list[str]:
    """The CLI arguments ``e2e_support.run`` uses, for a subprocess."""
    return [
        "run", "--city", city, "--config", str(config), "--data", str(data),
        "--output", str(output), "--workers", "1", *extra,
    ]  # fmt: skip


def write_config(path: Path, city: str, timezone: str, **sections) -> Path:
    """A suite config: 2 eval days, few steps, a gate any trained model passes."""
    base = {
        "data": {"split": {"kind": "time", "eval_days": 2}},
        "training": {"train_steps": TRAIN_STEPS, "eval_steps": 10, "batch_size": 256},
        "evaluation": LOOSE_GATE,
    }
    return e2e_support.write_config(path, city, timezone, **{**base, **sections})


def copy_data(source: Path, target: Path) -> Path:
    """A private copy of the daily files (ground truth left out)."""
    target.mkdir(parents=True)
    for name in sorted(os.listdir(source)):
        if name[:1].isdigit():
            shutil.copy(source / name, target / name)
    return target


def daily_files(data: Path) -> list[Path]:
    return sorted(p for p in data.iterdir() if p.name[:1].isdigit())


def append_rows(path: Path, *rows: bytes) -> None:
    """Appends raw CSV lines (bytes, so a line may hold a non-UTF-8 byte)."""
    with path.open("ab") as handle:
        for row in rows:
            handle.write(row.rstrip(b"\n") + b"\n")


def insert_row(path: Path, row: int, line: bytes) -> None:
    """Inserts raw ``line`` so that it becomes data row ``row`` (1-based)."""
    lines = path.read_bytes().split(b"\n")
    lines.insert(row, line)
    path.write_bytes(b"\n".join(lines))


def cut_day_at(path: Path, local_time: str) -> None:
    """Keeps the rows before ``local_time`` (e.g. 'T14:31', UTC = London's winter time) of
    a time-ordered daily file: a copy cut there, its last line complete."""
    header, *rows = path.read_bytes().rstrip(b"\n").split(b"\n")
    stop = f"{path.stem}{local_time}".encode()
    path.write_bytes(b"\n".join([header, *(r for r in rows if r < stop)]) + b"\n")


def cut_last_row(path: Path, keep: int) -> str:
    """Cuts the file inside its last row (``keep`` bytes of it, negative: from its end),
    with no line break after it; returns what is left of that row."""
    text = path.read_bytes().rstrip(b"\n")
    head, last = text.rsplit(b"\n", 1)
    path.write_bytes(head + b"\n" + last[:keep])
    return last[:keep].decode()


def data_line(path: Path, row: int) -> bytes:
    """The raw bytes of data row ``row`` (1-based, header excluded)."""
    return path.read_bytes().split(b"\n")[row]


def row_count(path: Path) -> int:
    return sum(1 for line in path.read_bytes().split(b"\n")[1:] if line.strip())


def one_line_error(err: str, *needles: str, with_log: bool = False, warnings: int = 0) -> str:
    """Asserts stderr is one ``error:`` line (plus a log path line) holding ``needles``,
    after ``warnings`` lines that start with ``warning:``."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == (2 if with_log else 1) + warnings, err
    assert all(line.startswith("warning: ") for line in lines[:warnings]), err
    lines = lines[warnings:]
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, err)
    if with_log:
        assert lines[1].startswith("full log: "), err
        assert "Traceback" in Path(lines[1][len("full log: ") :]).read_text(), err
    return lines[0]


def serving_listing(output: Path) -> dict[str, list[str]]:
    """Every file under serving/ (relative), per city: 'unchanged' means equal listings."""
    serving = output / "serving"
    if not serving.is_dir():
        return {}
    return {
        city.name: sorted(str(p.relative_to(city)) for p in city.rglob("*") if p.is_file())
        for city in sorted(serving.iterdir())
    }


def run_count(output: Path, city: str) -> int:
    layout = LocalLayout(output)
    if not layout.metadata_path.is_file():
        return 0
    store = metadata.open_store(layout.metadata_path)
    return len(metadata.run_ids(store, wiring.pipeline_name(city)))


def latest_run(
    output: Path, city: str, run_id: str | None = None
) -> tuple[object, dict[str, metadata.NodeExecution]]:
    """(store, {node id: execution}) of run ``run_id`` (default: the city's latest)."""
    store = metadata.open_store(LocalLayout(output).metadata_path)
    run = run_id or metadata.run_ids(store, wiring.pipeline_name(city))[-1]
    nodes = metadata.run_executions(store, wiring.pipeline_name(city), run)
    return store, {n.node_id: n for n in nodes}


def first_run_id(output: Path, city: str) -> str:
    store = metadata.open_store(LocalLayout(output).metadata_path)
    return metadata.run_ids(store, wiring.pipeline_name(city))[0]


def example_gen_outputs(output: Path, city: str, run_id: str | None = None):
    """(examples, rejects) artifacts and the int counts of a run's ExampleGen."""
    store, nodes = latest_run(output, city, run_id)
    ex_id = nodes[wiring.EXAMPLE_GEN].execution.id
    examples = metadata.outputs_of(store, ex_id, "examples")[0]
    rejects = metadata.outputs_of(store, ex_id, "rejects")[0]
    return examples, rejects, metadata.custom_properties(examples)


def assert_accounting(counts: dict) -> None:
    """rows read = written + rejected (+ the unlabeled last vehicle of each approach,
    + vehicles unlabeled before a missing day: events only)."""
    assert counts["rows_read"] == (
        counts["examples_train"]
        + counts["examples_eval"]
        + counts["rejected_total"]
        + counts["unlabeled_last_vehicles"]
        + counts.get("unlabeled_before_gap", 0)
    ), counts


def read_reject_records(rejects_uri: str) -> list[dict]:
    records = []
    for path in sorted(Path(rejects_uri).glob("rejects-*")):
        with gzip.open(path, "rt") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return sorted(records, key=lambda r: (r["file"], r["row"]))
