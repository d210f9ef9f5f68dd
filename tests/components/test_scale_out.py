"""Which Beam runners are a cluster's, and a split's decoded-size estimate."""

from __future__ import annotations

import pytest

from components import scale_out
from deploy.runners import beam_profiles
from pipeline.config import BeamConfig


@pytest.mark.parametrize(
    ("profile", "on_cluster"),
    [("direct", False), ("portable", True), ("flink", True), ("spark", True), ("dataflow", True)],
)
def test_cluster_runners_are_told_from_the_profiles_arguments(profile, on_cluster):
    beam = BeamConfig(
        profile=profile, project="p", region="r", temp_location="gs://t", job_endpoint="h:8099"
    )
    assert scale_out.runs_on_a_cluster(beam_profiles.beam_args(beam)) is on_cluster
    assert scale_out.runs_on_a_cluster([]) is False


def test_input_bytes_sum_the_files_sizes_and_decoded_bytes_scale_them(tmp_path):
    files = []
    for name, size in (("a", 100), ("b", 23)):
        (tmp_path / name).write_bytes(b"x" * size)
        files.append(str(tmp_path / name))
    assert scale_out.input_bytes(files) == 123
    assert scale_out.decoded_bytes(123) == 123 * scale_out.DECODED_BYTES_PER_INPUT_BYTE
