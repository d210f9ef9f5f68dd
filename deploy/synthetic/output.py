"""The generator's output directory, written atomically: staged in a temporary sibling,
renamed into place at the end; nothing is left behind on failure."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


class GenerationError(ValueError):
    """Invalid generator input or an output directory that cannot be written."""


def check_target(target: Path, overwrite: bool) -> None:
    """Raises :class:`GenerationError` unless ``target`` is absent, empty or ``overwrite``."""
    if target.exists() and not target.is_dir():
        raise GenerationError(f"output {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise GenerationError(
            f"output directory {target} already holds data; pass --overwrite to replace it"
        )


@contextlib.contextmanager
def staged_directory(target: Path, overwrite: bool) -> Iterator[Path]:
    """Yields an empty sibling of ``target``; it replaces ``target`` when the block ends.

    If the block raises, the staging directory and any parents created for it are removed.
    """
    created_parents = [p for p in reversed(target.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as err:
        _remove_dirs(created_parents)
        raise GenerationError(
            f"cannot write output directory {target}: {err.strerror or err}"
        ) from err
    try:
        yield staging
        _swap_into_place(staging, target, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_dirs(created_parents)
        raise


def _swap_into_place(staging: Path, target: Path, overwrite: bool) -> None:
    if not target.exists():
        staging.rename(target)
        return
    check_target(target, overwrite)  # re-check: something may have appeared meanwhile
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    target.rename(retired / target.name)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def _remove_dirs(dirs: list[Path]) -> None:
    for directory in reversed(dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()
