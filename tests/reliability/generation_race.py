"""A child process of the generation-race case: loads a config, waits at a barrier with
its sibling, then gets the city's data as ``run`` does (``ensure_generated_data``).

A module of its own so that a spawned child imports only what ``run`` needs to get there
(no TensorFlow)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path


def get_data_at_once(barrier, config_path: str, output: str, results) -> None:
    """Puts ('ok', what it printed) or (error type, message) on ``results``."""
    from deploy.cli.local import ensure_generated_data
    from deploy.runners.local.layout import LocalLayout
    from pipeline.config import load_config

    config = load_config("london", config_path)
    layout = LocalLayout(Path(output))
    printed = io.StringIO()
    barrier.wait()  # both ask for the data at the same instant
    try:
        with contextlib.redirect_stdout(printed):
            ensure_generated_data(config, layout)
    except Exception as err:  # reported to the test, which fails on it
        results.put((type(err).__name__, str(err)))
        return
    results.put(("ok", printed.getvalue()))
