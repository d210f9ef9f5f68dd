"""The ``--overwrite`` / ``--overwrite-foreign`` flags of the commands that write a data dir
(``generate``, ``import``, ``simulate``); ``deploy/datasets/output.py`` carries them out."""

from __future__ import annotations

import argparse

from deploy.datasets.output import OVERWRITE_FOREIGN_FLAG


def add_overwrite_flags(parser: argparse.ArgumentParser, replaces: str) -> None:
    """Adds both flags; ``replaces`` says what ``--overwrite`` may replace."""
    parser.add_argument("--overwrite", action="store_true", help=f"replace {replaces}")
    parser.add_argument(
        OVERWRITE_FOREIGN_FLAG,
        action="store_true",
        help="with --overwrite: also delete files traffic-pipeline did not write there",
    )
