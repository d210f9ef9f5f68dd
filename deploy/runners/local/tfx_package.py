"""TFX's Beam dependency package, built once per output dir instead of once per component.

When the Beam arguments name no dependency, every TFX Beam executor (ExampleGen,
StatisticsGen, Transform, the Evaluator) calls TFX's
``dependency_utils.make_beam_dependency_flags``: it copies the installed ``tfx`` package,
runs ``setup.py sdist`` on it (seconds each, and ~50 MB of temp files) so that remote
Beam workers can install TFX, and adds ``--extra_package=<that sdist>``. A run built the
same package four times. The local runner calls the same TFX function once, keeps the
package under the output dir for the installed TFX version, and passes the
``--extra_package`` itself, which TFX's executors then leave as it is: the same Beam
arguments, without the rebuilds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

EXTRA_PACKAGE_FLAG = "--extra_package="
# The options for which make_beam_dependency_flags builds nothing (its own list).
DEPENDENCY_OPTIONS = (
    "extra_packages",
    "setup_file",
    "requirements_file",
    "worker_harness_container_image",
    "sdk_container_image",
)


def names_dependencies(beam_args: Sequence[str]) -> bool:
    """True when ``beam_args`` already name the workers' dependencies (TFX builds nothing)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(flags=list(beam_args)).get_all_options()
    return any(options.get(name) for name in DEPENDENCY_OPTIONS)


def package_path(cache_dir: Path) -> Path:
    """Where the package of the installed TFX version is kept under ``cache_dir``."""
    from tfx import version

    return cache_dir / version.__version__ / f"tfx_ephemeral-{version.__version__}.tar.gz"


def with_tfx_package(beam_args: Sequence[str], cache_dir: Path) -> list[str]:
    """``beam_args`` plus ``--extra_package`` of TFX's sdist, built once into ``cache_dir``.

    Unchanged when the arguments already name a dependency. The sdist is built by TFX's
    own ``make_beam_dependency_flags`` in ``tempfile``'s dir and moved into place whole,
    so runs that start together never see half a file.
    """
    args = list(beam_args)
    if names_dependencies(args):
        return args
    path = package_path(cache_dir)
    if not path.is_file():
        from tfx.utils import dependency_utils

        built = dependency_utils.make_beam_dependency_flags(args)[len(args) :]
        if len(built) != 1 or not built[0].startswith(EXTRA_PACKAGE_FLAG):
            raise RuntimeError(f"TFX added {built} to the Beam arguments, not one --extra_package")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
            try:
                shutil.copyfile(built[0][len(EXTRA_PACKAGE_FLAG) :], part.name)
                os.chmod(part.name, 0o644)  # as the build left it, not the temp file's 0600
                os.replace(part.name, path)
            except BaseException:
                os.unlink(part.name)
                raise
    return [*args, f"{EXTRA_PACKAGE_FLAG}{path}"]
