"""Local runner: LocalDagRunner, one shared MLMD store, the config's Beam profile.

Layout under the output dir (``./output`` by default)::

    metadata.sqlite              one MLMD store shared by every city (cross-city lineage),
                                 unless ``metadata`` names a MySQL server instead
    pipelines/<city>/            the pipeline root (artifacts), plus logs/ and tmp/
    serving/<city>/<version>/    pushed (blessed) models
    data/<city>/                 generated data when no --data is given
    tfx_package/                 TFX's Beam dependency package, built once (tfx_package.py)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from absl import logging as absl_logging
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.pipeline import RunOptions

from deploy.mlmd import metadata
from deploy.runners import beam_profiles
from deploy.runners.local.layout import (
    LocalLayout as LocalLayout,  # re-exported: callers import it here
)
from deploy.runners.local.progress import ProgressCallback, RunProgress
from deploy.runners.local.tfx_package import with_tfx_package
from pipeline.config import CityConfig
from pipeline.names import pipeline_name
from pipeline.pipeline import PipelineInputs, PipelinePaths, create_pipeline
from pipeline.schema import curated_schema_dir
from transforms import keras_mode


class ComponentFailedError(RuntimeError):
    """A pipeline component failed; names the component and the reason."""

    def __init__(self, component: str, reason: BaseException):
        self.component = component
        self.reason = reason
        super().__init__(f"component {component} failed: {type(reason).__name__}: {reason}")

    def __reduce__(self):
        # Rebuilt from its own arguments, so it crosses process boundaries (a benchmark's
        # child process, multiprocessing) instead of failing to unpickle.
        return (type(self), (self.component, self.reason))


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped the run; names the component that was running."""

    def __init__(self, component: str):
        self.component = component
        super().__init__(f"interrupted during {component}")

    def __reduce__(self):
        return (type(self), (self.component,))


# Loggers whose records go to the run's log file instead of the terminal.
QUIET_LOGGERS = ("absl", "tensorflow", "apache_beam")
# Beam's worker processes inherit the environment: google-cloud libraries warn about
# Python 3.10 on import in each of them. That is our pinned stack, not news to the user.
WORKER_WARNING_FILTERS = "ignore:You are using a non-supported Python version:FutureWarning"


class RunLogHandler(logging.FileHandler):
    """The run's log file. If it cannot be written (a full disk, a read-only dir), one
    warning line on stderr and the run goes on without it, instead of logging's own
    ``--- Logging error ---`` traceback for every record."""

    def __init__(self, path: Path):
        super().__init__(path, delay=True)  # opened by the first record, inside emit
        self.failed: OSError | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed is not None:
            return
        try:
            super().emit(record)  # opening the file is outside logging's own try
        except OSError as err:
            self._give_up(err)

    def handleError(self, record: logging.LogRecord) -> None:
        err = sys.exc_info()[1]
        if isinstance(err, OSError):
            self._give_up(err)
        else:  # a bad record (format arguments), not the disk: logging's own report
            super().handleError(record)

    def close(self) -> None:
        try:
            super().close()  # flushes what is buffered
        except OSError as err:
            self._give_up(err)

    def _give_up(self, err: OSError) -> None:
        if self.failed is None:
            self.failed = err
            print(
                f"warning: cannot write the run log {self.baseFilename} "
                f"({err.strerror or err}); the run goes on without it",
                file=sys.stderr,
                flush=True,
            )


@contextlib.contextmanager
def _run_logging(log_dir: Path):
    """Full logs to ``log_dir/run-*.log``, none to the terminal (progress lines come from
    ``deploy.runners.local.progress``; the CLI prints a failure as one line, its traceback stays in
    the log)."""
    log_file = RunLogHandler(log_dir / f"run-{time.strftime('%Y%m%d-%H%M%S')}.log")
    log_file.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved = [(lg.propagate, lg.handlers[:]) for lg in loggers]
    # INFO through absl's own verbosity flag: TensorFlow saves and restores that flag
    # while it saves models, which would silently undo a plain Logger.setLevel.
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.INFO)
    for lg in loggers:
        lg.propagate = False
        lg.handlers = [log_file]
    # TensorFlow's finalizers can fail while Python tears objects down ("Exception
    # ignored in ... AtomicFunction.__del__"): harmless, and for the log, not the terminal.
    unraisable_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: loggers[1].warning(
        "ignored in %r: %s: %s", u.object, u.exc_type.__name__, u.exc_value
    )
    saved_warnings = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [saved_warnings, WORKER_WARNING_FILTERS]))
    try:
        yield
    finally:
        if saved_warnings is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = saved_warnings
        sys.unraisablehook = unraisable_hook
        for lg, (propagate, handlers) in zip(loggers, saved, strict=True):
            lg.propagate, lg.handlers = propagate, handlers
        absl_logging.set_verbosity(verbosity)
        log_file.close()


@contextlib.contextmanager
def noticing_ctrl_c():
    """Yields a list that gets an entry when SIGINT arrives, which then raises
    KeyboardInterrupt as Python's own handler does. A library may swallow that
    KeyboardInterrupt and raise something else (TensorFlow, interrupted while it traces
    a tf.data function, raises a bare TypeError); Ctrl-C must still read as Ctrl-C.
    Off the main thread (where no handler can be set) the list stays empty."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handler(signum, frame):
        seen.append(signum)
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _run_temp_dir(parent: Path):
    """Every temp file of the run under ``parent``, removed when the run ends, whether it
    succeeds or fails.

    TFX's Beam executors each build a ~50 MB ``tfx_ephemeral`` sdist in
    ``tempfile.mkdtemp()`` and never remove it; Beam, TensorFlow and their worker
    processes (which inherit ``TMPDIR``) write there too. So for the run, ``TMPDIR`` and
    Python's ``tempfile`` point into the output dir. A run killed with -9 leaves its
    dir there, where the next run of the city removes it (``abandoned.remove_temp``).
    """
    parent.mkdir(parents=True, exist_ok=True)
    run_tmp = tempfile.mkdtemp(prefix="run-", dir=parent)
    saved_env, saved_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = tempfile.tempdir = run_tmp
    try:
        yield run_tmp
    finally:
        tempfile.tempdir = saved_tempdir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        shutil.rmtree(run_tmp, onerror=_log_unremovable)


def _log_unremovable(function, path, exc_info) -> None:
    absl_logging.warning("could not remove temp path %s: %s", path, exc_info[1])


def run_pipeline(
    config: CityConfig,
    layout: LocalLayout,
    data_root: str,
    *,
    workers: int | None = None,
    enable_cache: bool = True,
    warm_start_uri: str | None = None,
    donor_city: str = "",
    progress: ProgressCallback | None = None,
    to_nodes: Sequence[str] = (),
    as_of: str = "",
    input_token: str | None = None,
) -> str:
    """Runs the city's pipeline locally; returns the run id. Raises ComponentFailedError,
    or RunInterrupted on Ctrl-C.

    ``to_nodes``: a TFX partial run of only these components and their ancestors.
    With ``config.data.window_days``, ExampleGen resolves the window itself when it
    starts (ending at ``as_of`` if given); ``input_token`` is its cache key
    (``fingerprints.listing_token`` of the window the CLI checked).
    ``progress(node, state, elapsed_s)`` is called as ML Metadata records each
    component running and then done, cached or failed (``deploy.runners.local.progress``).
    """
    keras_mode.require_legacy_keras("local pipeline run")
    city = config.city
    for path in (layout.pipeline_root(city), layout.log_dir(city)):
        path.mkdir(parents=True, exist_ok=True)
    name = pipeline_name(city)
    watch = RunProgress(layout.metadata_location, name, progress or (lambda *_: None))
    with (
        _run_logging(layout.log_dir(city)),
        _run_temp_dir(layout.tmp_dir(city)),
        noticing_ctrl_c() as ctrl_c,
    ):
        try:
            beam_args = beam_profiles.beam_args(config.beam, image=config.image, workers=workers)
            pipeline = create_pipeline(
                config,
                PipelinePaths(
                    pipeline_root=str(layout.pipeline_root(city)),
                    serving_base=str(layout.serving_base(city)),
                    schema_dir=curated_schema_dir(),
                ),
                PipelineInputs(
                    data_root=data_root,
                    span_begin=config.data.span_begin,
                    span_end=config.data.span_end,
                    as_of=as_of,
                    input_token=input_token,
                    warm_start_uri=warm_start_uri,
                    donor_city=donor_city,
                ),
                # TFX's sdist for Beam workers, built once per output dir (tfx_package.py);
                # its path is stable, so the executors' cache keys stay the same run to run.
                beam_pipeline_args=with_tfx_package(beam_args, layout.tfx_package_dir),
                metadata_connection_config=metadata.connection_config(layout.metadata_location),
                enable_cache=enable_cache,
            )
            with watch:
                run_options = RunOptions(to_nodes=list(to_nodes)) if to_nodes else None
                LocalDagRunner().run(pipeline, run_options=run_options)
        except Exception as err:  # reported with the failing component, never swallowed
            if ctrl_c:  # a KeyboardInterrupt some library turned into another error
                raise RunInterrupted(watch.failed_node() or "start-up") from err
            raise ComponentFailedError(watch.failed_node() or "pipeline", err) from err
        except KeyboardInterrupt as err:  # TFX leaves the interrupted execution RUNNING
            raise RunInterrupted(watch.failed_node() or "start-up") from err
    if watch.run_id:
        return watch.run_id
    # One run of a city at a time: the newest run of this pipeline is the one just finished.
    return metadata.run_ids(metadata.open_store(layout.metadata_location), name)[-1]
