"""Named Beam argument profiles: direct (default), dataflow, flink, spark.

- ``direct``: one machine, the DirectRunner in multi-process mode over all cores
  (or ``direct_num_workers``). Development and cities up to tens of millions of rows.
- ``dataflow``: Google Cloud Dataflow with autoscaling, workers running the pipeline
  image (``sdk_container_image``) so our modules import the same way everywhere.
- ``flink`` / ``spark``: an existing cluster through Beam's PortableRunner and its job
  endpoint, with workers running the pipeline image.
"""

from __future__ import annotations

import os

from pipeline.config import BeamConfig

PROFILES = ("direct", "dataflow", "flink", "spark")


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
    elif beam.profile in ("flink", "spark"):
        _require(beam, "job_endpoint")
        args = [
            "--runner=PortableRunner",
            f"--job_endpoint={beam.job_endpoint}",
            "--environment_type=DOCKER",
        ]
        if image:
            args.append(f"--environment_config={image}")
    else:
        raise ValueError(f"beam.profile: {beam.profile!r} is not one of {PROFILES}")
    return args + list(beam.extra_args)


def _require(beam: BeamConfig, *names: str) -> None:
    missing = [n for n in names if not getattr(beam, n)]
    if missing:
        raise ValueError(f"beam profile {beam.profile!r} needs beam.{', beam.'.join(missing)}")
