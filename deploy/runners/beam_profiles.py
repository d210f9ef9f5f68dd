"""Named Beam argument profiles: direct (default), portable, dataflow, flink, spark.

- ``direct``: one machine, the DirectRunner in multi-process mode over all cores
  (or ``direct_num_workers``). Development and cities up to tens of millions of rows.
- ``dataflow``: Google Cloud Dataflow with autoscaling, workers running the pipeline
  image (``sdk_container_image``) so our modules import the same way everywhere.
- ``portable``: Beam's portable job API (the path Flink and Spark job servers take) on
  Beam's own embedded job service (``--job_endpoint=embed``), workers in ``LOOPBACK``
  (inside the submitting process). Proves the pipeline survives the portable path
  (pickled functions, runner API protos, Fn API workers) without a cluster.
- ``flink`` / ``spark``: the same portable arguments against an existing cluster's Beam
  job server (``job_endpoint``), workers running the pipeline image (``DOCKER``).
  They differ from ``portable`` only in the endpoint and environment flags.
"""

from __future__ import annotations

import os

from pipeline.config import BeamConfig

PROFILES = ("direct", "portable", "dataflow", "flink", "spark")
PORTABLE_PROFILES = ("portable", "flink", "spark")
EMBEDDED_JOB_ENDPOINT = "embed"  # Beam's in-process job service


def beam_args(beam: BeamConfig, image: str = "", workers: int | None = None) -> list[str]:
    """The ``beam_pipeline_args`` for a profile; ``workers`` overrides direct workers."""
    if beam.profile == "direct":
        n = workers if workers is not None else beam.direct_num_workers
        n = n or os.cpu_count() or 1
        args = ["--runner=DirectRunner", f"--direct_num_workers={n}"]
        if n > 1:
            args.append("--direct_running_mode=multi_processing")
    elif beam.profile == "dataflow":
        _require(beam, "project", "region", "temp_location")
        args = [
            "--runner=DataflowRunner",
            f"--project={beam.project}",
            f"--region={beam.region}",
            f"--temp_location={beam.temp_location}",
            "--autoscaling_algorithm=THROUGHPUT_BASED",
            f"--max_num_workers={beam.max_num_workers}",
            "--experiments=use_runner_v2",
        ]
        if image:
            args.append(f"--sdk_container_image={image}")
    elif beam.profile in PORTABLE_PROFILES:
        args = _portable_args(beam, image)
    else:
        raise ValueError(f"beam.profile: {beam.profile!r} is not one of {PROFILES}")
    return args + list(beam.extra_args)


def _portable_args(beam: BeamConfig, image: str) -> list[str]:
    """PortableRunner arguments; only the endpoint and the environment vary by profile."""
    if beam.profile == "portable":
        endpoint = beam.job_endpoint or EMBEDDED_JOB_ENDPOINT
        environment = beam.environment_type or "LOOPBACK"
    else:
        _require(beam, "job_endpoint")
        endpoint, environment = beam.job_endpoint, beam.environment_type or "DOCKER"
    args = ["--runner=PortableRunner", f"--job_endpoint={endpoint}"]
    args.append(f"--environment_type={environment}")
    config = beam.environment_config or (image if environment == "DOCKER" else "")
    if config:
        args.append(f"--environment_config={config}")
    return args


def _require(beam: BeamConfig, *names: str) -> None:
    missing = [n for n in names if not getattr(beam, n)]
    if missing:
        raise ValueError(f"beam profile {beam.profile!r} needs beam.{', beam.'.join(missing)}")
