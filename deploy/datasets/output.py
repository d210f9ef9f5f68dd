"""The output directory of ``generate``, ``import`` and ``simulate``, written atomically:
staged in a temporary sibling, renamed into place at the end; nothing is left behind on
failure.

``--overwrite`` never destroys what these tools did not write. Each output directory gets
a marker file (``MARKER_FILE``) listing the files the tool wrote; replacing a non-empty
directory is refused when it holds anything else (a file written later, a directory these
tools never wrote) unless ``overwrite_foreign`` (the ``--overwrite-foreign`` flag) says so,
and always when it is or holds the tool's own input (``check_holds_no_input``). The
replaced directory keeps its mode; a new one gets the usual mode for the umask, never the
private 0700 of a temporary directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


class GenerationError(ValueError):
    """Invalid generator input or an output directory that cannot be written."""


# Lists the files ``generate`` / ``import`` wrote into an output directory.
MARKER_FILE = ".traffic-pipeline-output.json"
OVERWRITE_FOREIGN_FLAG = "--overwrite-foreign"
_SHOWN_FOREIGN = 3


def written_files(target: Path) -> set[str]:
    """The names the marker of ``target`` lists (empty: no or unreadable marker)."""
    try:
        listed = json.loads((target / MARKER_FILE).read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {name for name in listed if isinstance(name, str)}


def foreign_files(target: Path) -> list[str]:
    """Entries of ``target`` that neither its marker lists nor are the marker itself."""
    ours = written_files(target) | {MARKER_FILE}
    return sorted(p.name for p in target.iterdir() if p.name not in ours)


def check_target(target: Path, overwrite: bool, overwrite_foreign: bool = False) -> None:
    """Raises :class:`GenerationError` unless ``target`` is absent or empty, or
    ``overwrite`` and it holds only what these tools wrote (or ``overwrite_foreign``)."""
    if target.exists() and not target.is_dir():
        raise GenerationError(f"output {target} exists and is not a directory")
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not overwrite:
        raise GenerationError(
            f"output directory {target} already holds data; pass --overwrite to replace it"
        )
    foreign = foreign_files(target)
    if foreign and not overwrite_foreign:
        shown = ", ".join(foreign[:_SHOWN_FOREIGN])
        more = f" and {len(foreign) - _SHOWN_FOREIGN} more" if len(foreign) > _SHOWN_FOREIGN else ""
        raise GenerationError(
            f"output directory {target} holds files that traffic-pipeline did not write "
            f"({shown}{more}); --overwrite would delete them: choose another --out, or pass "
            f"{OVERWRITE_FOREIGN_FLAG} to delete them too"
        )


def check_holds_no_input(target: Path, source: Path, option: str = "--out") -> None:
    """Raises :class:`GenerationError` if ``target`` is, or holds, ``source`` (an input of
    the tool): writing the output there would replace it, whatever the flags."""
    folder, source = target.resolve(), source.resolve()
    if folder == source or folder in source.parents:
        raise GenerationError(
            f"{option} {target} holds {source}, an input of this command: writing there "
            f"would replace it; choose another {option}"
        )


def _default_dir_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


@contextlib.contextmanager
def staged_directory(
    target: Path, overwrite: bool, overwrite_foreign: bool = False, written_by: str = ""
) -> Iterator[Path]:
    """Yields an empty sibling of ``target``; it replaces ``target`` when the block ends,
    with a marker listing what the block wrote (``written_by``: the tool, for people).

    If the block raises, the staging directory and any parents created for it are removed.
    """
    created_parents = [p for p in reversed(target.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        mode = stat.S_IMODE(target.stat().st_mode) if target.is_dir() else _default_dir_mode()
        staging.chmod(mode)
    except OSError as err:
        _remove_dirs(created_parents)
        raise GenerationError(
            f"cannot write output directory {target}: {err.strerror or err}"
        ) from err
    try:
        yield staging
        files = sorted(p.name for p in staging.iterdir())
        marker = {"written_by": written_by or "traffic-pipeline", "files": files}
        (staging / MARKER_FILE).write_text(json.dumps(marker, indent=1) + "\n")
        _swap_into_place(staging, target, overwrite, overwrite_foreign)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_dirs(created_parents)
        raise


def _swap_into_place(staging: Path, target: Path, overwrite: bool, overwrite_foreign: bool) -> None:
    if not target.exists():
        staging.rename(target)
        return
    # Re-checked: something may have appeared meanwhile.
    check_target(target, overwrite, overwrite_foreign)
    staging.chmod(stat.S_IMODE(target.stat().st_mode))
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    target.rename(retired / target.name)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def _remove_dirs(dirs: list[Path]) -> None:
    for directory in reversed(dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()
