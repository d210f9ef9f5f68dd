"""``traffic-pipeline``: generate, simulate, import, run, backfill, lineage, compile, submit,
explain, predict, advise. One module per command group registers its parsers here (``generate``,
``simulate``, ``import_data``, ``local``, ``kubeflow``, ``insights``, ``advise``); each sets
``func(args) -> exit code``. ``python -m deploy.cli`` runs ``main`` (``__main__.py``).

Every subcommand follows the exit-code contract of ``deploy.exit_codes`` (0 ok, 1 a
component failed, 2 bad usage/config/input, 3 not blessed, 130 interrupted): errors are
one line on stderr, tracebacks go to a log file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from deploy import exit_codes
from deploy.cli import generate as generate_cli
from deploy.cli import import_data as import_cli
from deploy.cli import simulate as simulate_cli
from pipeline.config import ConfigError
from transforms import keras_mode


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit code 2) instead of the usage block."""

    def error(self, message: str):
        exit_codes.error(f"{self.prog}: {message} (see {self.prog} --help)")
        sys.exit(exit_codes.BAD_INPUT)


def int_in_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """argparse type: an integer in [low, high] (bad values exit with code 2 and one line)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(
                f"{value} must be >= {low}" if high is None else f"{value} must be {low}..{high}"
            )
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{value} must be {low}..{high}")
        return value

    return parse


positive_int = int_in_range(1)  # an integer >= 1


def _print_progress(start: float):
    def report(node: str, state: str, elapsed: float) -> None:
        clock = f"[{time.monotonic() - start:7.1f}s]"
        if state == "running":
            print(f"{clock} {node:<28} running", flush=True)
        else:
            print(f"{clock} {node:<28} {state} in {elapsed:.1f}s", flush=True)

    return report


def _add_run_parser(subparsers) -> None:
    p = subparsers.add_parser("run", help="run a city's whole pipeline locally")
    _add_run_options(p)
    p.add_argument(
        "--as-of",
        default="",
        metavar="YYYY-MM-DD",
        help="with a window: the window's last day instead of the newest complete day",
    )
    p.set_defaults(func=_run)


def iso_date(text: str) -> date:
    """argparse type: a ``YYYY-MM-DD`` date (bad values exit with code 2 and one line)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def _add_backfill_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "backfill",
        help="run the nightly job once per day from --from to --to, each with its own --as-of",
    )
    p.add_argument(
        "--from",
        dest="first_day",
        type=iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="the first night's --as-of",
    )
    p.add_argument(
        "--to",
        dest="last_day",
        type=iso_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="the last night's --as-of (included); nights already done are skipped",
    )
    _add_run_options(p)
    p.set_defaults(func=_backfill)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """The options of ``run`` that ``backfill`` shares (all but ``--as-of``)."""
    p.add_argument("--city", required=True)
    p.add_argument("--config", help="YAML config (default: the built-in one for --city)")
    p.add_argument("--data", help="dir of daily observation files (default: generate them)")
    p.add_argument("--output", default="output", help="output dir (default: ./output)")
    p.add_argument(
        "--workers", type=positive_int, help="Beam DirectRunner workers (default: all cores)"
    )
    p.add_argument("--train-steps", type=positive_int, help="(default: the config's)")
    p.add_argument("--no-cache", action="store_true", help="re-run every component")
    p.add_argument(
        "--window-days",
        type=positive_int,
        help="read a rolling window of the newest N complete local days (default: the "
        "config's data.window_days; 0 there: its span)",
    )
    p.add_argument(
        "--warm-start-from",
        help="donor model: a pushed model dir, a Trainer model artifact dir, "
        "'latest:<city>' for that city's latest blessed model, or 'previous' for this "
        "city's own (a cold start while it has none)",
    )
    p.add_argument("--warm-start-mode", choices=("frozen", "fine_tune"))
    _add_metadata_option(p)


def _add_lineage_parser(subparsers) -> None:
    p = subparsers.add_parser("lineage", help="show where a city's latest model came from")
    p.add_argument("--city", required=True)
    p.add_argument("--output", default="output")
    _add_metadata_option(p)
    p.set_defaults(func=_lineage)


def _add_history_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "history", help="one line per run of a city: data, gate metrics, verdict, push"
    )
    p.add_argument("--city", required=True)
    p.add_argument("--config", help="YAML config whose gate metrics to show (default: built-in)")
    p.add_argument("--output", default="output")
    _add_metadata_option(p)
    p.set_defaults(func=_history)


def _add_metadata_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metadata",
        help="ML Metadata store: mysql://user[:password]@host[:port]/database, or a SQLite "
        "file (default: the config's 'metadata', else OUTPUT/metadata.sqlite)",
    )


def _run(args: argparse.Namespace) -> int:
    from deploy.cli import local as local_cli

    return local_cli.run_command(args, progress=_print_progress(time.monotonic()))


def _backfill(args: argparse.Namespace) -> int:
    from deploy.cli import local as local_cli

    return local_cli.backfill_command(args, progress=lambda: _print_progress(time.monotonic()))


def _history(args: argparse.Namespace) -> int:
    from deploy.cli import local as local_cli

    return local_cli.history_command(args)


def _lineage(args: argparse.Namespace) -> int:
    from deploy.cli import local as local_cli

    return local_cli.lineage_command(args)


def build_parser() -> argparse.ArgumentParser:
    """The ``traffic-pipeline`` argument parser with every subcommand."""
    parser = OneLineParser(
        prog="traffic-pipeline",
        description="Traffic embeddings on TFX: generate, run, deploy.",
        epilog=exit_codes.HELP,
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    generate_cli.add_parser(subparsers)
    simulate_cli.add_parser(subparsers)
    import_cli.add_parser(subparsers)
    _add_run_parser(subparsers)
    _add_backfill_parser(subparsers)
    _add_lineage_parser(subparsers)
    _add_history_parser(subparsers)
    from deploy.cli import kubeflow as kubeflow_cli

    kubeflow_cli.add_parsers(subparsers)
    from deploy.cli import insights as insights_cli

    insights_cli.add_parsers(subparsers)
    from deploy.cli import advise as advise_cli

    advise_cli.add_parser(subparsers)
    for subparser in subparsers.choices.values():  # every --help states the contract
        subparser.epilog = exit_codes.HELP
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    keras_mode.use_legacy_keras()  # before any command imports TensorFlow
    # TensorFlow's C++ start-up chatter (CPU features, CUDA plugin registration) is not for
    # the terminal; failures still surface as Python exceptions with their reason.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The same for ML Metadata's C++ (glog, read when MLMD loads): an unreachable MySQL
    # server is one line from ``deploy.mlmd.metadata``, not two log lines above it.
    os.environ.setdefault("GLOG_minloglevel", "3")
    # google-cloud libraries warn about Python 3.10 on import; that is our pinned stack.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")
    args = build_parser().parse_args(argv)  # usage errors: one line, exit code 2
    try:
        return args.func(args)
    except (exit_codes.UsageError, ConfigError) as err:
        exit_codes.error(err)
        return exit_codes.BAD_INPUT
    except KeyboardInterrupt:  # Ctrl-C outside a pipeline run (which names its component)
        exit_codes.error(f"{args.command}: interrupted")
        return exit_codes.INTERRUPTED
    except Exception as err:  # an unexpected failure: one line here, the traceback logged
        log = exit_codes.write_traceback(err, _log_dir(args))
        exit_codes.error(f"{args.command}: {type(err).__name__}: {err}", log)
        return exit_codes.COMPONENT_FAILED


def _log_dir(args: argparse.Namespace) -> Path | None:
    """Where an unexpected error's traceback goes: the city's log dir under --output
    (else the temp dir)."""
    if args.command not in ("run", "backfill", "lineage"):  # the commands with an --output dir
        return None
    from deploy.runners.local.runner import LocalLayout

    return LocalLayout(Path(args.output).resolve()).log_dir(args.city)
