"""The exit-code contract of every ``traffic-pipeline`` subcommand, and its one-line errors.

- ``OK`` (0): success -- a model was pushed, or nothing changed and the run was cached.
- ``COMPONENT_FAILED`` (1): a pipeline component failed (the message names it).
- ``BAD_INPUT`` (2): bad usage, config or input, found before anything ran.
- ``NOT_BLESSED`` (3): the run completed but the model was not blessed: nothing pushed.
  Either a metric failed the Evaluator's gate, or the drift gate (``drift.mode: block``)
  found the data drifted from the last blessed run's; the message names the metrics or
  the drifted features.
- ``INTERRUPTED`` (130, the shell's code for SIGINT): stopped by Ctrl-C; the message
  names the component that was running, and a re-run resumes from ML Metadata's cache.

Every error is one line on stderr (``error: ...``), plus the path of the log file that
holds the traceback; tracebacks never go to the terminal.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from pathlib import Path

OK = 0
COMPONENT_FAILED = 1
BAD_INPUT = 2
NOT_BLESSED = 3
INTERRUPTED = 130

HELP = (
    "exit codes: 0 success (model pushed, or unchanged and cached); 1 a pipeline component "
    "failed (named); 2 bad usage, config or input found before running; 3 the run completed "
    "but the model was not blessed (a metric gate failed, or the drift gate blocked drifted "
    "data), so nothing was pushed; 130 interrupted (Ctrl-C), a re-run "
    "resumes from cache"
)


class UsageError(ValueError):
    """Bad usage, config or input found before running (exit code ``BAD_INPUT``)."""


MAX_MESSAGE = 600


def one_line(message: object) -> str:
    """``message`` on one line (whitespace runs collapsed), cut at ``MAX_MESSAGE`` chars."""
    text = " ".join(str(message).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 20] + " ... (see the log)"


def error(message: object, log_path: Path | str | None = None) -> None:
    """Prints ``error: <message>`` as one line on stderr, and the log path if given."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    if log_path:
        print(f"full log: {log_path}", file=sys.stderr)


def fail(message: object, code: int = BAD_INPUT) -> int:
    """:func:`error` (one line), then ``code`` for the command to return."""
    error(message)
    return code


def append_traceback(err: BaseException, path: Path) -> bool:
    """Appends ``err``'s traceback (its causes included) to ``path``; False if unwritable."""
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write(text)
    except OSError:
        return False
    return True


def write_traceback(err: BaseException, log_dir: Path | None = None) -> Path | None:
    """Writes ``err``'s traceback to a new log file (in ``log_dir`` if writable, else the
    temp dir); returns its path, or None if nothing is writable."""
    name = f"cli-{time.strftime('%Y%m%d-%H%M%S')}.log"
    for directory in (log_dir, Path(tempfile.gettempdir())):
        if directory is not None and append_traceback(err, directory / name):
            return directory / name
    return None
