"""Each Beam profile yields the runner arguments its docs promise."""

from __future__ import annotations

import pytest

from deploy.runners.beam_profiles import beam_args
from pipeline.config import BeamConfig


def test_direct_profile_runs_multi_process_on_the_given_workers():
    args = beam_args(BeamConfig(profile="direct", direct_num_workers=2))
    assert args == [
        "--runner=DirectRunner",
        "--direct_num_workers=2",
        "--direct_running_mode=multi_processing",
    ]
    assert beam_args(BeamConfig(), workers=1) == ["--runner=DirectRunner", "--direct_num_workers=1"]


def test_dataflow_profile_autoscales_on_the_pipeline_image():
    beam = BeamConfig(
        profile="dataflow", project="p", region="europe-west2", temp_location="gs://b/tmp"
    )
    args = beam_args(beam, image="europe-docker.pkg.dev/p/r/traffic:1")
    assert "--runner=DataflowRunner" in args
    assert "--project=p" in args and "--region=europe-west2" in args
    assert "--temp_location=gs://b/tmp" in args
    assert "--autoscaling_algorithm=THROUGHPUT_BASED" in args
    assert "--sdk_container_image=europe-docker.pkg.dev/p/r/traffic:1" in args


def test_portable_profile_uses_the_embedded_job_service_with_loopback_workers():
    assert beam_args(BeamConfig(profile="portable"), image="img:1") == [
        "--runner=PortableRunner",
        "--job_endpoint=embed",
        "--environment_type=LOOPBACK",
    ]
    # Same profile against a local job server with process workers.
    beam = BeamConfig(
        profile="portable",
        job_endpoint="localhost:8099",
        environment_type="PROCESS",
        environment_config='{"command": "/opt/apache/beam/boot"}',
    )
    assert beam_args(beam)[1:] == [
        "--job_endpoint=localhost:8099",
        "--environment_type=PROCESS",
        '--environment_config={"command": "/opt/apache/beam/boot"}',
    ]


@pytest.mark.parametrize("profile", ["flink", "spark"])
def test_flink_and_spark_differ_from_portable_only_in_endpoint_and_environment(profile):
    portable = beam_args(BeamConfig(profile="portable"))
    cluster = beam_args(BeamConfig(profile=profile, job_endpoint="jobserver:8099"), image="img:1")
    differing = {a.split("=")[0] for a in set(portable) ^ set(cluster)}
    assert differing == {"--job_endpoint", "--environment_type", "--environment_config"}
    with pytest.raises(ValueError, match=r"needs beam\.job_endpoint"):
        beam_args(BeamConfig(profile=profile))


@pytest.mark.parametrize("profile", ["flink", "spark"])
def test_portable_profiles_use_the_job_endpoint(profile):
    args = beam_args(BeamConfig(profile=profile, job_endpoint="localhost:8099"), image="img:1")
    assert args[:3] == [
        "--runner=PortableRunner",
        "--job_endpoint=localhost:8099",
        "--environment_type=DOCKER",
    ]
    assert "--environment_config=img:1" in args


def test_missing_settings_and_unknown_profiles_fail():
    with pytest.raises(ValueError, match=r"needs beam\.project, beam\.region, beam\.temp_location"):
        beam_args(BeamConfig(profile="dataflow"))
    with pytest.raises(ValueError, match="is not one of"):
        beam_args(BeamConfig(profile="samza"))
