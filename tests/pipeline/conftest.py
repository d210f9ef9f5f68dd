"""A London pipeline run shared by the end-to-end tests (one per test session)."""

from __future__ import annotations

import pytest

from deploy.local_runner import LocalLayout
from tests import e2e_support


@pytest.fixture(scope="session")
def london(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    data = e2e_support.generate("london", root / "data")
    config = e2e_support.write_config(root / "london.yaml", "london", "Europe/London")
    output = root / "output"
    assert e2e_support.run("london", config, data, output) == 0
    return {
        "root": root,
        "data": data,
        "config": config,
        "output": output,
        "layout": LocalLayout(output),
    }
