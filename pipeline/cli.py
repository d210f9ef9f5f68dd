"""``traffic-pipeline``: generate, run, lineage, compile, submit, explain, predict.

Every subcommand exits non-zero on failure with a one-line reason (and, for ``run``,
the failing component); full logs go to the run's log file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Sequence

from pipeline.synthetic import cli as generate_cli


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
    p.add_argument("--city", required=True)
    p.add_argument("--config", help="YAML config (default: the built-in one for --city)")
    p.add_argument("--data", help="dir of daily observation files (default: generate them)")
    p.add_argument("--output", default="output", help="output dir (default: ./output)")
    p.add_argument("--workers", type=int, help="Beam DirectRunner workers (default: all cores)")
    p.add_argument("--train-steps", type=int)
    p.add_argument("--no-cache", action="store_true", help="re-run every component")
    p.add_argument(
        "--warm-start-from",
        help="donor model: a pushed model dir, a Trainer model artifact dir, "
        "or 'latest:<city>' for that city's latest blessed model",
    )
    p.add_argument("--warm-start-mode", choices=("frozen", "fine_tune"))
    _add_metadata_option(p)
    p.set_defaults(func=_run)


def _add_lineage_parser(subparsers) -> None:
    p = subparsers.add_parser("lineage", help="show where a city's latest model came from")
    p.add_argument("--city", required=True)
    p.add_argument("--output", default="output")
    _add_metadata_option(p)
    p.set_defaults(func=_lineage)


def _add_metadata_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metadata",
        help="ML Metadata store: mysql://user[:password]@host[:port]/database, or a SQLite "
        "file (default: the config's 'metadata', else OUTPUT/metadata.sqlite)",
    )


def _run(args: argparse.Namespace) -> int:
    from deploy import local_cli

    return local_cli.run_command(args, progress=_print_progress(time.monotonic()))


def _lineage(args: argparse.Namespace) -> int:
    from deploy import local_cli

    return local_cli.lineage_command(args)


def build_parser() -> argparse.ArgumentParser:
    """The ``traffic-pipeline`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="traffic-pipeline", description="Traffic embeddings on TFX: generate, run, deploy."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    generate_cli.add_parser(subparsers)
    _add_run_parser(subparsers)
    _add_lineage_parser(subparsers)
    from deploy import kubeflow_cli

    kubeflow_cli.add_parsers(subparsers)
    from deploy.insights import cli as insights_cli

    insights_cli.add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    # TensorFlow's C++ start-up chatter (CPU features, CUDA plugin registration) is not for
    # the terminal; failures still surface as Python exceptions with their reason.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # google-cloud libraries warn about Python 3.10 on import; that is our pinned stack.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
