"""deploy/Dockerfile, checked without a Docker engine: base, copies, install, paths."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

import deploy
from deploy.runners.kubeflow import runner as kr
from pipeline.config import load_config
from pipeline.schema import SCHEMA_FILES

REPO_ROOT = Path(deploy.__file__).resolve().parents[1]  # the docker build context
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def test_image_is_built_from_tfx_1_16_with_legacy_keras():
    instructions = _instructions()
    assert instructions[0] == ("FROM", "gcr.io/tfx-oss-public/tfx:1.16.0")
    envs = " ".join(rest for word, rest in instructions if word == "ENV")
    assert "TF_USE_LEGACY_KERAS=1" in shlex.split(envs)


def test_every_copy_source_exists_in_the_build_context():
    copies = [shlex.split(rest) for word, rest in _instructions() if word == "COPY"]
    sources = [src for *srcs, _dest in copies for src in srcs]
    assert {"pyproject.toml", "requirements.lock", "pipeline", "components", "transforms",
            "deploy"} <= set(sources)  # fmt: skip
    for src in sources:
        assert (REPO_ROOT / src).exists(), f"COPY source {src} missing from the build context"


def test_package_is_installed_with_the_lock_as_constraints():
    runs = [rest for word, rest in _instructions() if word == "RUN"]
    install = next(r for r in runs if "pip install" in r)
    args = shlex.split(install)
    assert args[args.index("-c") + 1] == "requirements.lock"
    assert args[-1] == "."


def test_sources_land_where_the_compiled_pipeline_reads_the_schema():
    """The copies happen in CONTAINER_SOURCE_DIR, so CONTAINER_SCHEMA_DIR exists in the image."""
    workdir = ""
    for word, rest in _instructions():
        if word == "WORKDIR":
            workdir = rest
        if word == "COPY" and shlex.split(rest)[0] == "pipeline":
            dest = shlex.split(rest)[-1]
            break
    else:
        pytest.fail("no COPY of the pipeline package")
    in_image = str(Path(workdir) / dest / "schema")
    assert in_image == kr.CONTAINER_SCHEMA_DIR
    for name in SCHEMA_FILES.values():
        assert (REPO_ROOT / "pipeline" / "schema" / name).is_file()


def test_compiled_spec_references_the_configured_image(tmp_path):
    config = load_config("london").replace(image="europe-docker.pkg.dev/p/r/traffic:abc")
    kr.compile_pipeline(config, kr.CompileOptions(image=config.image), tmp_path / "p.json")
    executors = json.loads((tmp_path / "p.json").read_text())["pipelineSpec"]["deploymentSpec"]
    images = {e["container"]["image"] for e in executors["executors"].values() if "container" in e}
    assert images == {"europe-docker.pkg.dev/p/r/traffic:abc"}
