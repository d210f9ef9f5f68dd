"""A London pipeline run shared by the end-to-end tests (one per test session).

The fixture runs the pipeline twice, the second time unchanged, and records both run
ids; tests check those two runs by id and may add runs of their own in any order.
"""

from __future__ import annotations

import pytest

from deploy.mlmd import metadata
from deploy.runners.local.runner import LocalLayout
from pipeline import pipeline as wiring
from tests import e2e_support


@pytest.fixture(scope="session")
def london(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = e2e_support.generate("london", root / "data")
    config = e2e_support.write_config(root / "london.yaml", "london", "Europe/London")
    output = root / "output"
    layout = LocalLayout(output)
    assert e2e_support.run("london", config, data, output) == 0
    assert e2e_support.run("london", config, data, output) == 0  # unchanged: cached
    first_run, cached_run = metadata.run_ids(
        metadata.open_store(layout.metadata_path), wiring.pipeline_name("london")
    )
    return {
        "first_run": first_run,
        "cached_run": cached_run,
        "root": root,
        "data": data,
        "config": config,
        "output": output,
        "layout": layout,
    }
