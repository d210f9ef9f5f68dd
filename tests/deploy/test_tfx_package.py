"""TFX's Beam dependency package: built once per output dir, then passed as it is.

Real builds with TFX's own ``dependency_utils`` (a copy of the installed ``tfx`` and
``setup.py sdist``), in a temp dir.
"""

from __future__ import annotations

import tarfile
import tempfile

from tfx.utils import dependency_utils

from deploy.runners.local.tfx_package import (
    EXTRA_PACKAGE_FLAG,
    names_dependencies,
    package_path,
    with_tfx_package,
)

DIRECT = ["--runner=DirectRunner", "--direct_num_workers=2"]


def test_the_package_is_built_once_and_tfx_executors_keep_it(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "run-tmp"))
    (tmp_path / "run-tmp").mkdir()
    cache = tmp_path / "tfx_package"
    first = with_tfx_package(DIRECT, cache)
    path = package_path(cache)
    assert first == [*DIRECT, f"{EXTRA_PACKAGE_FLAG}{path}"]
    with tarfile.open(path) as sdist:
        names = sdist.getnames()
    assert any(n.endswith("/tfx/version.py") for n in names)  # TFX's sources, packaged
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left
    built_at = path.stat().st_mtime_ns
    assert with_tfx_package(DIRECT, cache) == first  # reused, not rebuilt
    assert path.stat().st_mtime_ns == built_at
    # What every TFX Beam executor does with its arguments: nothing more to build.
    assert dependency_utils.make_beam_dependency_flags(first) == first


def test_arguments_that_name_a_dependency_are_left_alone(tmp_path):
    for flag in (
        "--sdk_container_image=gcr.io/p/traffic:1",
        "--extra_package=/x/pkg.tar.gz",
        "--setup_file=/x/setup.py",
    ):
        args = [*DIRECT, flag]
        assert names_dependencies(args)
        assert with_tfx_package(args, tmp_path / "cache") == args
    assert not names_dependencies(DIRECT)
    assert not (tmp_path / "cache").exists()  # nothing built
